package trackers

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// Kind is one tracker kind: everything the command line, the demo and the
// tests need to know of a tracker, so none of them names one.
type Kind struct {
	// Vocabulary is the kind's name (Vocabulary.Kind) and words.
	Vocabulary tracker.Vocabulary
	// Article goes before the title in a sentence ("an" Asana node).
	Article string
	// Flags are the node flags (tandem serve) of this kind.
	Flags []Flag
	// StrayHint ends the error for another kind's flags given to a node of
	// this kind: {other} stands for the other kind's name and {own} for
	// this kind's identifying flags.
	StrayHint string
	// Check checks the kind's flag values (environment twins already
	// read) before anything starts, and may normalise them with Set.
	Check func(v Values) error
	// New builds the node's tracker from the flag values, and the
	// settings the node records about it (never a token).
	New func(v Values, o Options) (tracker.Tracker, map[string]string, error)
	// Sandbox builds the kind's emulator for a listener at addr, and a
	// tracker that talks to it.
	Sandbox func(addr string, s SandboxSpec) (*Sandbox, error)
	// SandboxProject is a project of the emulator's demo seed (by name or
	// key) that a second node of this kind syncs with the first node's
	// Company project: tandem demo's Globex and the engine's pair tests
	// start their node from the Kind and sync this project. Its seeded
	// items share no summary with Asana's Company, so a test that counts
	// an item's copies counts only what the sync made.
	SandboxProject string
	// SandboxCommand is `tandem sandbox <kind>`; serve runs the emulator.
	SandboxCommand func(serve Serve) *cobra.Command
}

// Name is the kind's name ("asana").
func (k Kind) Name() string { return k.Vocabulary.Kind }

// Flag is a node flag of one kind, with its environment twin.
type Flag struct {
	// Name is the flag without dashes ("asana-token").
	Name string
	// Env, if set, is read when the flag is empty ("ASANA_TOKEN"): the
	// way to give a secret without showing it in ps.
	Env string
	// Usage is the help line.
	Usage string
	// Default is a string flag's default; IntDefault an int flag's.
	Default    string
	Int        bool
	IntDefault int
	// Identifies marks a flag that makes no sense on another kind's node:
	// given there (not its default), the node refuses to start.
	Identifies bool
}

// Options are what a tracker's constructor takes besides its flags.
type Options struct {
	Logger *slog.Logger
	// DefaultType is --default-type, for the trackers that use it.
	DefaultType string
}

// SandboxSpec describes an emulator to start for a demo or a test node.
type SandboxSpec struct {
	// Name names the emulator's workspace or site ("Acme").
	Name string
	// Seed is the emulator's seed data ("demo" or "empty").
	Seed string
	// RequestsPerMinute is the client's budget: 0 the kind's default,
	// negative none.
	RequestsPerMinute int
	Logger            *slog.Logger
	// HTTPClient, if set, is what the tracker's client sends its requests
	// with (a test puts a faulty wire there); nil is the client's default.
	HTTPClient *http.Client
	// Options are emulator options; each kind takes those of its own
	// emulator's Option type and ignores the rest.
	Options []any
	// State, if set, is what Sandbox.State saved earlier: the emulator
	// starts from it (with its token) instead of the seed.
	State []byte
}

// Sandbox is a kind's emulator and a tracker in front of it.
type Sandbox struct {
	// Handler serves the emulator; URL is its API base as the tracker's
	// client uses it.
	Handler http.Handler
	URL     string
	// Tracker talks to the emulator; Settings are what the node records.
	Tracker  tracker.Tracker
	Settings map[string]string
	// Emulator and Client are the kind's own types (*sandbox.Sandbox,
	// *asana.Client), for tests that seed or inspect the emulator.
	Emulator any
	Client   any
	// State encodes the emulator's data, for SandboxSpec.State.
	State func() ([]byte, error)
	// Credentials are what a client of the emulator needs besides URL, as
	// environment variable suffixes and values in order ({"TOKEN", "2/…"}):
	// tandem demo writes them to demo.env.
	Credentials [][2]string
	// ListItems is a shell command listing the items of the project named
	// project, reading the URL and credentials from the environment: prefix
	// + "_SANDBOX_URL" and prefix + "_" + each Credentials suffix. "" when
	// the emulator has no such project.
	ListItems func(prefix, project string) string
}

// Serve serves an emulator's handler on a listener until ctx ends (the
// command line's, with its server limits).
type Serve = func(ctx context.Context, ln net.Listener, h http.Handler) error

// Find returns the kind named name.
func Find(name string) (Kind, bool) {
	for _, k := range All() {
		if k.Name() == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Names lists the kinds' names as a sentence does: "asana or jira".
func Names() string {
	var names []string
	for _, k := range All() {
		names = append(names, k.Name())
	}
	return joinOr(names, " or ")
}

// Vocabularies are every kind's words, for engine.Config.Vocabularies.
func Vocabularies() []tracker.Vocabulary {
	var vs []tracker.Vocabulary
	for _, k := range All() {
		vs = append(vs, k.Vocabulary)
	}
	return vs
}

// Values holds the node flags of every kind, as registered on a flag set.
type Values struct {
	strs map[string]*string
	ints map[string]*int
}

// Register adds every kind's node flags to fs.
func Register(fs *pflag.FlagSet) Values {
	v := Values{strs: map[string]*string{}, ints: map[string]*int{}}
	for _, k := range All() {
		for _, f := range k.Flags {
			if f.Int {
				v.ints[f.Name] = fs.Int(f.Name, f.IntDefault, f.Usage)
			} else {
				v.strs[f.Name] = fs.String(f.Name, f.Default, f.Usage)
			}
		}
	}
	return v
}

// String is a string flag's value ("" if there is no such flag).
func (v Values) String(name string) string {
	if p := v.strs[name]; p != nil {
		return *p
	}
	return ""
}

// Int is an int flag's value.
func (v Values) Int(name string) int {
	if p := v.ints[name]; p != nil {
		return *p
	}
	return 0
}

// Set changes a string flag's value (a kind's Check normalising it).
func (v Values) Set(name, value string) {
	if p := v.strs[name]; p != nil {
		*p = value
	}
}

// Check finds the kind name names and checks the flags for it: no other
// kind's identifying flag, environment twins read for its own, then the
// kind's own checks. A wrong flag is one line saying what to do.
func Check(name string, v Values) (Kind, error) {
	k, ok := Find(name)
	if !ok {
		return Kind{}, fmt.Errorf("--tracker %q is not supported; use %s", name, Names())
	}
	for _, other := range All() {
		if other.Name() != k.Name() && other.strays(v) {
			return Kind{}, fmt.Errorf("%s are for %s %s node%s", other.identifying(), other.Article, other.Vocabulary.Title,
				strings.NewReplacer("{other}", other.Name(), "{own}", k.identifying()).Replace(k.StrayHint))
		}
	}
	for _, f := range k.Flags {
		if f.Env != "" && !f.Int {
			v.Set(f.Name, firstNonEmpty(v.String(f.Name), os.Getenv(f.Env)))
		}
	}
	return k, k.Check(v)
}

// strays says whether one of the kind's identifying flags was given.
func (k Kind) strays(v Values) bool {
	for _, f := range k.Flags {
		if f.Identifies && !f.Int && v.String(f.Name) != f.Default {
			return true
		}
	}
	return false
}

// identifying lists the kind's identifying flags: "--a, --b and --c".
func (k Kind) identifying() string {
	var names []string
	for _, f := range k.Flags {
		if f.Identifies {
			names = append(names, "--"+f.Name)
		}
	}
	return joinOr(names, " and ")
}

// joinOr joins "a, b<last>c".
func joinOr(s []string, last string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + last + s[len(s)-1]
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
