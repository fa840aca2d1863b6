package script

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
)

func compile(t *testing.T, name, src string) *Program {
	t.Helper()
	p, err := Compile(name, src)
	if err != nil {
		t.Fatalf("Compile(%s): %v", name, err)
	}
	return p
}

func scriptError(t *testing.T, err error) *Error {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *script.Error", err, err)
	}
	return se
}

func someItem() tracker.Entity {
	return tracker.Entity{ID: "1201", Key: "1201", URL: "https://app.asana.test/0/1/1201", Type: "default_task",
		Summary: "Fix the login page", Description: "<body>It <strong>fails</strong>.</body>"}
}

func TestCompileErrorsHaveLineAndColumn(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"syntax", "def outgoing(item, replica):\n    replica.summary = = 1\n", "outgoing.star:2:23: "},
		{"undefined name", "def outgoing(item, replica):\n    pass\n\ndef f():\n    return nope\n", "outgoing.star:5:12: undefined: nope"},
		{"top-level failure", "x = 1\ny = x / 0\ndef outgoing(item, replica):\n    pass\n", "outgoing.star:2:7: floating-point division by zero"},
		{"no function", "x = 1\n", "outgoing.star: defines neither outgoing(item, replica) nor incoming"},
		{"both", "def outgoing(item, replica):\n    pass\ndef incoming(item, replica, previous, first_sync):\n    pass\n", "defines both outgoing and incoming"},
		{"wrong parameters", "\n\ndef outgoing(item):\n    pass\n", "outgoing.star:3:1: outgoing must take 2 parameters, as in def outgoing(item, replica)"},
		{"not a function", "outgoing = 3\n", "outgoing is a int; it must be a function"},
		{"trigger in incoming", "def incoming(item, replica, previous, first_sync):\n    pass\ndef trigger(item):\n    return True\n", "the trigger belongs in the outgoing script"},
		{"recursion", "def f(n):\n    return f(n)\nx = f(1)\ndef outgoing(item, replica):\n    pass\n", "outgoing.star:2:12: function f called recursively"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile("outgoing.star", c.src)
			if err == nil {
				t.Fatal("compiled")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to contain %q", err, c.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestCompileKinds(t *testing.T) {
	out := compile(t, "o.star", "def outgoing(item, replica):\n    pass\ndef trigger(item):\n    return True\n")
	if out.Kind() != KindOutgoing || !out.HasTrigger() || out.Name() != "o.star" {
		t.Errorf("outgoing: kind %v, trigger %v, name %q", out.Kind(), out.HasTrigger(), out.Name())
	}
	in := compile(t, "i.star", "def incoming(item, replica, previous, first_sync):\n    pass\n")
	if in.Kind() != KindIncoming || in.HasTrigger() {
		t.Errorf("incoming: kind %v, trigger %v", in.Kind(), in.HasTrigger())
	}
	if _, err := in.Outgoing(context.Background(), Env{}, someItem()); err == nil {
		t.Error("an incoming script ran as outgoing")
	}
	if _, err := out.Incoming(context.Background(), Env{}, IncomingInput{}); err == nil {
		t.Error("an outgoing script ran as incoming")
	}
	if _, err := compile(t, "o.star", "def outgoing(item, replica):\n    pass\n").Trigger(context.Background(), Env{}, someItem()); !errors.Is(err, ErrNoTrigger) {
		t.Errorf("Trigger without trigger(): %v, want ErrNoTrigger", err)
	}
}

func TestRunErrorsHaveLineAndBacktrace(t *testing.T) {
	p := compile(t, "outgoing.star", `
def helper(x):
    return x["missing"]

def outgoing(item, replica):
    replica.summary = item.summary
    helper({})
`)
	_, err := p.Outgoing(context.Background(), Env{}, someItem())
	se := scriptError(t, err)
	if se.Line != 3 || se.Col != 13 || !strings.HasPrefix(err.Error(), "outgoing.star:3:13: key \"missing\" not in dict") {
		t.Errorf("error %q at %d:%d, want outgoing.star:3:13: key \"missing\" not in dict", err, se.Line, se.Col)
	}
	if !strings.Contains(se.Backtrace, "outgoing.star:7:11: in outgoing") {
		t.Errorf("backtrace %q lacks the caller's line", se.Backtrace)
	}
}

func TestEndlessLoopStopsAtTheStepBudget(t *testing.T) {
	p := compile(t, "outgoing.star", `
def outgoing(item, replica):
    if item.summary == "loop":
        n = 0
        while True:
            n += 1
    replica.summary = item.summary
`)
	loop := someItem()
	loop.Summary = "loop"
	_, err := p.Outgoing(context.Background(), Env{Budget: Budget{Steps: 10_000, Time: time.Minute}}, loop)
	if !errors.Is(err, ErrStepBudget) {
		t.Fatalf("error %v, want ErrStepBudget", err)
	}
	if se := scriptError(t, err); se.Line < 5 || se.Line > 6 || !strings.Contains(err.Error(), "budget of 10000 steps") {
		t.Errorf("error %q: want the loop's line and the budget", err)
	}
	// The same program goes on serving other items.
	res, err := p.Outgoing(context.Background(), Env{Budget: Budget{Steps: 10_000}}, someItem())
	if err != nil || res.Replica.Summary != someItem().Summary {
		t.Errorf("after the loop: %+v, %v", res.Replica, err)
	}
}

func TestEndlessLoopStopsAtTheTimeBudget(t *testing.T) {
	p := compile(t, "outgoing.star", "def outgoing(item, replica):\n    while True:\n        pass\n")
	start := time.Now()
	_, err := p.Outgoing(context.Background(), Env{Budget: Budget{Steps: math.MaxUint64, Time: 50 * time.Millisecond}}, someItem())
	if !errors.Is(err, ErrTimeBudget) || !strings.Contains(err.Error(), "time budget of 50ms") {
		t.Fatalf("error %v, want ErrTimeBudget", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the run took %v", d)
	}
}

func TestTimeBudgetBoundsHostCallbacks(t *testing.T) {
	p := compile(t, "incoming.star", "def incoming(item, replica, previous, first_sync):\n    item.assignee = user_by_email('ann@example.com')\n")
	env := Env{Budget: Budget{Time: 50 * time.Millisecond}, UserByEmail: func(ctx context.Context, email string) (*tracker.User, error) {
		<-ctx.Done() // a tracker that never answers
		return nil, ctx.Err()
	}}
	_, err := p.Incoming(context.Background(), env, IncomingInput{Item: &tracker.Entity{}, Replica: Replica{}})
	if !errors.Is(err, ErrTimeBudget) {
		t.Fatalf("error %v, want ErrTimeBudget", err)
	}
}

func TestCallerCancelStopsARun(t *testing.T) {
	p := compile(t, "outgoing.star", "def outgoing(item, replica):\n    while True:\n        pass\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Outgoing(ctx, Env{Budget: Budget{Steps: math.MaxUint64, Time: time.Hour}}, someItem())
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeBudget) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestLoadReachesOnlyBuiltInModules(t *testing.T) {
	for _, module := range []string{"os", "/etc/passwd", "https://example.com/x.star", "helpers.star"} {
		_, err := Compile("outgoing.star", "load(\""+module+"\", \"x\")\ndef outgoing(item, replica):\n    pass\n")
		if err == nil || !strings.Contains(err.Error(), "outgoing.star:1:1: ") || !strings.Contains(err.Error(), "may load only the built-in modules") {
			t.Errorf("load(%q): %v", module, err)
		}
	}
	p := compile(t, "outgoing.star", `
load("json", "json")
load("math", "math")
def outgoing(item, replica):
    replica.custom = {"Estimate": str(math.ceil(2.5)), "Raw": json.encode({"k": item.key})}
`)
	res, err := p.Outgoing(context.Background(), Env{}, someItem())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Replica.Custom; got["Estimate"] != "3" || got["Raw"] != `{"k":"1201"}` {
		t.Errorf("custom %v", got)
	}
}

func TestPrintGoesToTheRunsLog(t *testing.T) {
	p := compile(t, "outgoing.star", `
print("loaded")
def outgoing(item, replica):
    print("syncing", item.key)
    if item.summary == "fail":
        fail("refused")
    if item.summary == "chatty":
        for i in range(10000):
            print("line", i)
`)
	res, err := p.Outgoing(context.Background(), Env{}, someItem())
	if err != nil {
		t.Fatal(err)
	}
	if res.Log != "loaded\nsyncing 1201\n" {
		t.Errorf("log %q", res.Log)
	}
	failing := someItem()
	failing.Summary = "fail"
	res, err = p.Outgoing(context.Background(), Env{}, failing)
	if err == nil || !strings.Contains(err.Error(), "outgoing.star:6:13: fail: refused") || res.Log != "loaded\nsyncing 1201\n" {
		t.Errorf("failing run: log %q, error %v", res.Log, err)
	}
	chatty := someItem()
	chatty.Summary = "chatty"
	res, err = p.Outgoing(context.Background(), Env{}, chatty)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Log) > MaxLog+100 || !strings.HasSuffix(res.Log, "log cut at 65536 bytes)\n") {
		t.Errorf("log of %d bytes ends %q", len(res.Log), res.Log[max(0, len(res.Log)-60):])
	}
}

func TestHelperPanicFailsTheRunOnly(t *testing.T) {
	p := compile(t, "incoming.star", `
def incoming(item, replica, previous, first_sync):
    item.assignee = user_by_email(replica.assignee.email)
`)
	env := Env{UserByEmail: func(ctx context.Context, email string) (*tracker.User, error) {
		if email == "boom@example.com" {
			panic("lookup exploded")
		}
		return &tracker.User{Email: email, Name: "Ann"}, nil
	}}
	in := func(email string) IncomingInput {
		r := Replica{Set: []string{FieldAssignee}}
		r.Assignee = &tracker.User{Email: email}
		return IncomingInput{Item: &tracker.Entity{}, Replica: r}
	}
	_, err := p.Incoming(context.Background(), env, in("boom@example.com"))
	if !errors.Is(err, ErrInternal) || !strings.Contains(err.Error(), "incoming.star:3:34: user_by_email: ") || !strings.Contains(err.Error(), "lookup exploded") {
		t.Fatalf("error %v, want ErrInternal at the call", err)
	}
	res, err := p.Incoming(context.Background(), env, in("ann@example.com"))
	if err != nil || res.Update.Assignee == nil || *res.Update.Assignee != "ann@example.com" {
		t.Errorf("after the panic: %+v, %v", res.Update, err)
	}
}

func TestHostErrorsStayVisibleToErrorsIs(t *testing.T) {
	p := compile(t, "incoming.star", "def incoming(item, replica, previous, first_sync):\n    item.type = mirror_type('Bug')\n")
	env := Env{MapType: func(context.Context, string) (string, string, error) { return "", "", tracker.ErrNotFound }}
	_, err := p.Incoming(context.Background(), env, IncomingInput{Item: &tracker.Entity{}})
	if !errors.Is(err, tracker.ErrNotFound) {
		t.Errorf("error %v does not wrap the tracker's", err)
	}
}

func TestWrongReturnValues(t *testing.T) {
	out := compile(t, "outgoing.star", "def outgoing(item, replica):\n    return replica\ndef trigger(item):\n    return 'yes'\n")
	if _, err := out.Outgoing(context.Background(), Env{}, someItem()); err == nil || !strings.Contains(err.Error(), "outgoing returned a replica; it fills replica and returns nothing") {
		t.Errorf("outgoing: %v", err)
	}
	if _, err := out.Trigger(context.Background(), Env{}, someItem()); err == nil || !strings.Contains(err.Error(), "trigger returned a string; it must return True or False") {
		t.Errorf("trigger: %v", err)
	}
}

// One program serves many syncs at once: each run has its own module.
func TestRunsAreIndependent(t *testing.T) {
	p := compile(t, "outgoing.star", `
seen = []
def outgoing(item, replica):
    seen.append(item.key)
    replica.summary = "%d seen" % len(seen)
`)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			e := someItem()
			e.Key = string(rune('a' + i))
			res, err := p.Outgoing(context.Background(), Env{}, e)
			if err == nil && res.Replica.Summary != "1 seen" {
				err = errors.New("a run saw another's state: " + res.Replica.Summary)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
