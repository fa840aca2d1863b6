package script

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.starlark.net/lib/json"
	"go.starlark.net/lib/math"
	"go.starlark.net/starlark"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// The default budgets of a run, used where a Budget leaves one zero.
// A mapping script takes a few thousand steps and well under a
// millisecond; the defaults leave room for scripts that walk every
// comment of a long thread, and stop an endless loop within a second.
const (
	DefaultSteps = 1_000_000
	DefaultTime  = time.Second
)

// MaxLog is how much of a run's print output the run keeps, in bytes; the
// rest is dropped, and the log says so.
const MaxLog = 64 << 10

// Budget bounds one run of a script. The step budget is what stops an
// endless loop, deterministically; the wall-clock budget also bounds the
// time spent in the helpers' host callbacks (user_by_email), which see it
// as their context's deadline.
type Budget struct {
	// Steps is the most Starlark steps a run may take (0: DefaultSteps).
	Steps uint64
	// Time is the longest a run may take (0: DefaultTime).
	Time time.Duration
}

func (b Budget) orDefaults() Budget {
	if b.Steps == 0 {
		b.Steps = DefaultSteps
	}
	if b.Time <= 0 {
		b.Time = DefaultTime
	}
	return b
}

// Env is what a run gets from the node besides its item and replica: its
// budget and the host callbacks behind the helpers. A helper whose
// callback is nil fails the run, saying it is not available here.
type Env struct {
	Budget Budget
	// UserByEmail finds the user of this side's tracker with that e-mail
	// (user_by_email); nil and no error when there is none. ctx carries
	// the run's deadline.
	UserByEmail func(ctx context.Context, email string) (*tracker.User, error)
	// MapType gives the type an item of the other side's type typ gets
	// here (mirror_type): local is the same type when this side has it,
	// else this side's default type, and kept is typ when it fell back
	// ("" when mirrored), for the twin to keep for the way back.
	MapType func(ctx context.Context, typ string) (local, kept string, err error)
}

// run is the state of one run, reached by the helpers through the
// thread.
type run struct {
	ctx      context.Context
	env      Env
	kind     Kind
	log      runLog
	notes    []string
	item     *itemValue
	replica  *replicaValue
	kept     string
	comments bool
	attached bool
}

const runKey = "tandem.script.run"

func runOf(th *starlark.Thread) *run {
	r, _ := th.Local(runKey).(*run)
	return r
}

// runLog is a run's print output, capped at MaxLog.
type runLog struct {
	b       strings.Builder
	dropped bool
}

func (l *runLog) print(_ *starlark.Thread, msg string) {
	if l.dropped {
		return
	}
	if l.b.Len()+len(msg)+1 > MaxLog {
		l.dropped = true
		fmt.Fprintf(&l.b, "… (log cut at %d bytes)\n", MaxLog)
		return
	}
	l.b.WriteString(msg)
	l.b.WriteByte('\n')
}

func (l *runLog) String() string { return l.b.String() }

// load is what load() may reach: the built-in modules, nothing from files
// or the network.
func load(_ *starlark.Thread, module string) (starlark.StringDict, error) {
	switch module {
	case "json":
		return starlark.StringDict{"json": json.Module}, nil
	case "math":
		return starlark.StringDict{"math": math.Module}, nil
	}
	return nil, fmt.Errorf("no module %q: scripts may load only the built-in modules \"json\" and \"math\"", module)
}

// exec runs the program's top level and then call in one thread, within
// the budget: the steps through SetMaxExecutionSteps, the time through a
// deadline that cancels the thread. A panic anywhere in the run becomes
// its error.
func (p *Program) exec(ctx context.Context, env Env, r *run, call func(th *starlark.Thread, globals starlark.StringDict) error) (err error) {
	b := env.Budget.orDefaults()
	ctx, cancel := context.WithTimeoutCause(ctx, b.Time, ErrTimeBudget)
	defer cancel()
	r.ctx, r.env = ctx, env
	th := &starlark.Thread{Name: p.name, Print: r.log.print, Load: load}
	th.SetLocal(runKey, r)
	th.SetMaxExecutionSteps(b.Steps)
	overSteps := false
	th.OnMaxSteps = func(th *starlark.Thread) {
		overSteps = true
		th.Cancel("step budget")
	}
	stop := context.AfterFunc(ctx, func() { th.Cancel("time budget") })
	defer stop()
	defer func() {
		if v := recover(); v != nil {
			err = &Error{Script: p.name, Msg: fmt.Sprintf("internal error: %v", v), Err: ErrInternal}
		}
	}()
	globals, err := p.prog.Init(th, p.builtins)
	if err == nil {
		err = call(th, globals)
	}
	if err == nil {
		return nil
	}
	return p.runError(ctx, err, overSteps, b)
}

// runError makes a run's failure an *Error at the innermost line of the
// script it happened on, saying which budget it ran past, if any.
func (p *Program) runError(ctx context.Context, err error, overSteps bool, b Budget) error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	e := &Error{Script: p.name, Msg: err.Error(), Err: err}
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		e.Msg, e.Backtrace, e.Err = ee.Msg, ee.Backtrace(), errors.Unwrap(ee)
		for i := len(ee.CallStack) - 1; i >= 0; i-- {
			if pos := ee.CallStack[i].Pos; pos.Filename() == p.name {
				e.Line, e.Col = int(pos.Line), int(pos.Col)
				break
			}
		}
		if e.Err == nil {
			e.Err = errors.New(ee.Msg)
		}
	}
	switch {
	case overSteps:
		e.Msg = fmt.Sprintf("ran past its budget of %d steps (an endless loop?)", b.Steps)
		e.Err = ErrStepBudget
	case errors.Is(context.Cause(ctx), ErrTimeBudget):
		e.Msg = fmt.Sprintf("ran past its time budget of %v", b.Time)
		e.Err = ErrTimeBudget
	case ctx.Err() != nil:
		e.Msg = "stopped: " + context.Cause(ctx).Error()
		e.Err = context.Cause(ctx)
	}
	return e
}

// OutgoingResult is what an outgoing run makes of an item.
type OutgoingResult struct {
	// Replica is what the script filled, to send to the other side.
	Replica Replica
	// Notes say what the helpers could not do (an e-mail no user here
	// has), for the sync's notes.
	Notes []string
	// Log is the run's print output; it carries item text, so it is
	// hostile: sanitise it before a terminal shows it.
	Log string
}

// Outgoing runs the outgoing script on a local item: outgoing(item,
// replica) fills the replica, which starts with the item's identity (id,
// key, url) and no fields. On failure the result still has the log.
func (p *Program) Outgoing(ctx context.Context, env Env, item tracker.Entity) (OutgoingResult, error) {
	if p.kind != KindOutgoing {
		return OutgoingResult{}, p.misused("Outgoing")
	}
	r := &run{kind: KindOutgoing}
	r.item = newItem(item, false, false)
	r.replica = newOutgoingReplica(item)
	var res OutgoingResult
	err := p.exec(ctx, env, r, func(th *starlark.Thread, globals starlark.StringDict) error {
		if err := p.call(th, globals, funcOutgoing, r.item, r.replica); err != nil {
			return err
		}
		rep, err := r.replica.toReplica()
		if err != nil {
			return &Error{Script: p.name, Msg: err.Error(), Err: err}
		}
		res.Replica = rep
		return nil
	})
	res.Notes, res.Log = r.notes, r.log.String()
	if err != nil {
		return OutgoingResult{Notes: res.Notes, Log: res.Log}, err
	}
	return res, nil
}

// TriggerResult is what trigger(item) decided.
type TriggerResult struct {
	// Sync says the item is to sync automatically.
	Sync bool
	// Log is the run's print output (hostile, as OutgoingResult.Log).
	Log string
}

// Trigger runs trigger(item) on a local item that has no twin yet: True
// means it starts syncing on its own. ErrNoTrigger when the script
// defines none (see HasTrigger).
func (p *Program) Trigger(ctx context.Context, env Env, item tracker.Entity) (TriggerResult, error) {
	if p.kind != KindOutgoing {
		return TriggerResult{}, p.misused("Trigger")
	}
	if !p.hasTrigger {
		return TriggerResult{}, ErrNoTrigger
	}
	r := &run{kind: KindOutgoing}
	r.item = newItem(item, false, false)
	var res TriggerResult
	err := p.exec(ctx, env, r, func(th *starlark.Thread, globals starlark.StringDict) error {
		fn, err := p.function(globals, funcTrigger)
		if err != nil {
			return err
		}
		v, err := starlark.Call(th, fn, starlark.Tuple{r.item}, nil)
		if err != nil {
			return err
		}
		b, ok := v.(starlark.Bool)
		if !ok {
			return &Error{Script: p.name, Msg: fmt.Sprintf("trigger returned a %s; it must return True or False", v.Type()), Err: ErrInvalid}
		}
		res.Sync = bool(b)
		return nil
	})
	res.Log = r.log.String()
	if err != nil {
		return TriggerResult{Log: res.Log}, err
	}
	return res, nil
}

// IncomingInput is what an incoming run applies.
type IncomingInput struct {
	// Item is the local item; nil when the replica's item is new here and
	// the item is to be created (first_sync).
	Item *tracker.Entity
	// Replica is what the other side sent.
	Replica Replica
	// Previous is the last replica received for this pair before Replica;
	// nil when there is none.
	Previous *Replica
	// Changed, when not nil, names the replica's fields that bring a
	// change to apply here (replica.changed): those the other side changed
	// since the last sync and no newer write here beat, as the pipeline
	// decides them. When nil, replica.changed compares with Previous.
	Changed []string
}

// IncomingResult is the change set an incoming run makes: what to do to
// the local item.
type IncomingResult struct {
	// Update sets the item fields the script changed: on an existing
	// item, those it set to a value other than the item's; on a first
	// sync, the new item's fields.
	Update tracker.EntityUpdate
	// Changed names the item fields Update sets, in Fields order
	// ("custom" once for any custom field).
	Changed []string
	// RemoteType is the other side's type mirror_type could not mirror
	// (it became this side's default type): the twin keeps it for the way
	// back. "" when mirror_type mirrored or was not called.
	RemoteType string
	// MergeComments and MergeAttachments ask the engine to add the
	// replica's comments and attachments to the item with the Basic
	// semantics (merge_comments, merge_attachments).
	MergeComments    bool
	MergeAttachments bool
	// Notes say what the helpers could not do, for the sync's notes.
	Notes []string
	// Log is the run's print output (hostile, as OutgoingResult.Log).
	Log string
}

// Incoming runs the incoming script on a replica received:
// incoming(item, replica, previous, first_sync) changes the local item by
// assignment (item.summary = replica.summary), and the run records each
// change into the result. Nothing is written: applying the result is the
// engine's work. On failure the result still has the log.
func (p *Program) Incoming(ctx context.Context, env Env, in IncomingInput) (IncomingResult, error) {
	if p.kind != KindIncoming {
		return IncomingResult{}, p.misused("Incoming")
	}
	first := in.Item == nil
	var cur tracker.Entity
	if !first {
		cur = *in.Item
	}
	r := &run{kind: KindIncoming}
	r.item = newItem(cur, true, first)
	r.replica = newReceivedReplica(in.Replica, changedFunc(in, first))
	var previous starlark.Value = starlark.None
	if in.Previous != nil {
		previous = newReceivedReplica(*in.Previous, nil)
	}
	var res IncomingResult
	err := p.exec(ctx, env, r, func(th *starlark.Thread, globals starlark.StringDict) error {
		return p.call(th, globals, funcIncoming, r.item, r.replica, previous, starlark.Bool(first))
	})
	res.Notes, res.Log = r.notes, r.log.String()
	if err != nil {
		return IncomingResult{Notes: res.Notes, Log: res.Log}, err
	}
	res.Update, res.Changed = r.item.changes()
	res.RemoteType, res.MergeComments, res.MergeAttachments = r.kept, r.comments, r.attached
	return res, nil
}

// call calls one of the script's functions, which must return None: a
// script works by filling the replica or assigning to the item.
func (p *Program) call(th *starlark.Thread, globals starlark.StringDict, name string, args ...starlark.Value) error {
	fn, err := p.function(globals, name)
	if err != nil {
		return err
	}
	v, err := starlark.Call(th, fn, args, nil)
	if err != nil {
		return err
	}
	if v != starlark.None {
		what := "fills replica"
		if name == funcIncoming {
			what = "sets the item's fields (item.summary = replica.summary)"
		}
		return &Error{Script: p.name, Err: ErrInvalid,
			Msg: fmt.Sprintf("%s returned a %s; it %s and returns nothing", name, v.Type(), what)}
	}
	return nil
}

func (p *Program) misused(method string) error {
	return fmt.Errorf("%s: %s called on the %s script", p.name, method, p.kind)
}
