// Package script is the host of Script mode's rules: Starlark programs
// (go.starlark.net) that map a local item to the replica sent to the other
// side (the outgoing script) and a replica received to the changes made to
// the local item (the incoming script). SCRIPTING.md at the repository
// root is the reference users read; this package is what it describes.
//
// The host is hermetic and bounded: a script sees only the item, the
// replica and the helpers (no files, no network, no clock), load() reaches
// only the built-in modules (json, math), every run has a step budget and
// a wall-clock budget, print goes to the run's log, and a panic in a
// helper becomes the run's error. A failing run is an *Error naming the
// script, the line and the column; nothing of it outlives the run, so a
// failed sync leaves the node as it was.
//
// The package imports only the standard library, go.starlark.net and the
// tracker contract: the engine imports it, not the other way round. Its
// inputs are tracker.Entity values and Replica values; its outputs are a
// Replica (outgoing), a tracker.EntityUpdate with the comment and
// attachment merges asked for (incoming) and a bool (trigger).
package script

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Kind says which of the two scripts a program is.
type Kind int

// The kinds of script, told apart by the function a program defines.
const (
	// KindOutgoing defines outgoing(item, replica) and, optionally,
	// trigger(item).
	KindOutgoing Kind = iota + 1
	// KindIncoming defines incoming(item, replica, previous, first_sync).
	KindIncoming
)

// String names the kind as users see it.
func (k Kind) String() string {
	switch k {
	case KindOutgoing:
		return "outgoing"
	case KindIncoming:
		return "incoming"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// The names a script defines.
const (
	funcOutgoing = "outgoing"
	funcIncoming = "incoming"
	funcTrigger  = "trigger"
)

// Errors callers branch on. A run's error is an *Error wrapping one of
// them, or wrapping what a host callback failed with (a tracker's rate
// limit, say), so errors.Is sees through it.
var (
	// ErrInvalid: the program does not compile, or does not define what a
	// script of its kind must.
	ErrInvalid = errors.New("invalid script")
	// ErrStepBudget: the run executed more steps than its budget allows.
	ErrStepBudget = errors.New("step budget exceeded")
	// ErrTimeBudget: the run took longer than its wall-clock budget.
	ErrTimeBudget = errors.New("time budget exceeded")
	// ErrNoTrigger: Trigger was called on a program without trigger(item).
	ErrNoTrigger = errors.New("the outgoing script defines no trigger")
	// ErrInternal: a helper or the host itself panicked; the run failed,
	// the host is fine.
	ErrInternal = errors.New("internal error in the script host")
)

// Error is a script's failure: where (Script, Line, Col; Line 0 when the
// failure has no place in the source, such as a wrong return value) and
// what (Msg), with the Starlark call stack for test runs to show. Msg may
// quote item text (fail(item.summary), a missing key): it is hostile, as
// a run's log is.
type Error struct {
	// Script is the script's file name ("outgoing.star").
	Script string
	Line   int
	Col    int
	Msg    string
	// Backtrace is the call stack at the failure, innermost call last;
	// "" when there was none.
	Backtrace string
	// Err is the cause errors.Is and errors.As see: one of this package's
	// sentinels, or what a host callback returned.
	Err error
}

// Error reads "outgoing.star:12:5: msg", the form compilers and editors use.
func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Script + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Script, e.Line, e.Col, e.Msg)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Program is a compiled script, ready to run any number of times, from
// any number of goroutines at once: each run starts from a fresh module,
// so nothing one run does is seen by the next.
type Program struct {
	name       string
	kind       Kind
	prog       *starlark.Program
	hasTrigger bool
	builtins   starlark.StringDict
}

// fileOptions are the dialect: Python-like enough for people who know
// Python (while, sets, top-level if and for), with recursion refused, as a
// deep recursion would grow the Go stack past what a budget can stop.
func fileOptions() *syntax.FileOptions {
	return &syntax.FileOptions{Set: true, While: true, TopLevelControl: true}
}

// Compile parses and checks a script. name is its file name, used in
// every position the script's errors report ("outgoing.star"). The program
// is one of the two kinds: it defines outgoing(item, replica), with an
// optional trigger(item), or incoming(item, replica, previous,
// first_sync). Its top level is run once here, within the default
// budgets, so that a load of a module that is not there, a name that is
// not defined or a function with the wrong parameters fails now, with its
// line, rather than on the first sync. Every error wraps ErrInvalid.
func Compile(name, src string) (*Program, error) {
	p := &Program{name: name, builtins: helpers()}
	_, prog, err := starlark.SourceProgramOptions(fileOptions(), name, src, p.builtins.Has)
	if err != nil {
		return nil, compileError(name, err)
	}
	p.prog = prog
	var globals starlark.StringDict
	r := &run{}
	err = p.exec(context.Background(), Env{}, r, func(_ *starlark.Thread, g starlark.StringDict) error {
		globals = g
		return nil
	})
	if err != nil {
		var se *Error
		if errors.As(err, &se) && se.Err != ErrInvalid {
			se.Err = fmt.Errorf("%w: %w", ErrInvalid, se.Err)
		}
		return nil, err
	}
	out, in := globals[funcOutgoing], globals[funcIncoming]
	switch {
	case out != nil && in != nil:
		return nil, p.invalidf("defines both outgoing and incoming: a script is one or the other, each in its own file")
	case out != nil:
		p.kind = KindOutgoing
	case in != nil:
		p.kind = KindIncoming
	default:
		return nil, p.invalidf("defines neither outgoing(item, replica) nor incoming(item, replica, previous, first_sync)")
	}
	if _, err := p.function(globals, p.kind.String()); err != nil {
		return nil, err
	}
	if globals[funcTrigger] != nil {
		if p.kind != KindOutgoing {
			return nil, p.invalidf("defines trigger(item) in an incoming script: the trigger belongs in the outgoing script")
		}
		if _, err := p.function(globals, funcTrigger); err != nil {
			return nil, err
		}
		p.hasTrigger = true
	}
	return p, nil
}

// Name is the script's file name.
func (p *Program) Name() string { return p.name }

// Kind says whether the program is an outgoing or an incoming script.
func (p *Program) Kind() Kind { return p.kind }

// HasTrigger says whether the outgoing script defines trigger(item).
func (p *Program) HasTrigger() bool { return p.hasTrigger }

// signature is the parameters of a function a script defines.
func signature(name string) []string {
	switch name {
	case funcOutgoing:
		return []string{"item", "replica"}
	case funcIncoming:
		return []string{"item", "replica", "previous", "first_sync"}
	}
	return []string{"item"}
}

// function finds one of the script's functions in a run's globals and
// checks it takes exactly its parameters, positionally.
func (p *Program) function(globals starlark.StringDict, name string) (*starlark.Function, error) {
	want := signature(name)
	sig := name + "(" + strings.Join(want, ", ") + ")"
	fn, ok := globals[name].(*starlark.Function)
	if !ok {
		return nil, p.invalidf("%s is a %s; it must be a function: def %s", name, globals[name].Type(), sig)
	}
	if fn.NumParams() != len(want) || fn.HasVarargs() || fn.HasKwargs() || fn.NumKwonlyParams() > 0 {
		pos := fn.Position()
		return nil, &Error{Script: p.name, Line: int(pos.Line), Col: int(pos.Col), Err: ErrInvalid,
			Msg: fmt.Sprintf("%s must take %d parameters, as in def %s", name, len(want), sig)}
	}
	return fn, nil
}

func (p *Program) invalidf(format string, args ...any) error {
	return &Error{Script: p.name, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}

// compileError turns a parse or resolve error into an *Error at its
// position.
func compileError(name string, err error) error {
	var pos syntax.Position
	msg := err.Error()
	var serr syntax.Error
	var rerrs resolve.ErrorList
	switch {
	case errors.As(err, &serr):
		pos, msg = serr.Pos, serr.Msg
	case errors.As(err, &rerrs):
		pos, msg = rerrs[0].Pos, rerrs[0].Msg
		if n := len(rerrs) - 1; n > 0 {
			msg += fmt.Sprintf(" (and %d more)", n)
		}
	}
	return &Error{Script: name, Line: int(pos.Line), Col: int(pos.Col), Msg: msg, Err: ErrInvalid}
}
