package script

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// FuzzHost runs random programs on random items and replicas: whatever
// they are, a run ends within its budget with a result or an *Error,
// never a panic.
func FuzzHost(f *testing.F) {
	f.Add(BasicScripts().Outgoing, "Fix it", "<body>x</body>", "partner", "Done")
	f.Add(BasicScripts().Incoming, "", "", "", "")
	f.Add("def incoming(item, replica, previous, first_sync):\n    item.labels = replica.labels + [replica.status]\n    item.custom[replica.summary] = replica.status\n",
		"K", "<body><b>bold</body>", "a b", "In Progress")
	f.Add("def outgoing(item, replica):\n    replica.description = rich_text(item.summary)\n    replica.due_date = item.status\n",
		"<body/>", "", "", "2026-02-30")
	f.Add("def outgoing(item, replica):\n    while True:\n        replica.labels = item.labels * 2\n", "", "", "x", "")
	f.Fuzz(func(t *testing.T, src, summary, description, label, status string) {
		p, err := Compile("fuzz.star", src)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Compile: %v (%T)", err, err)
			}
			return
		}
		env := testEnv()
		env.Budget = Budget{Steps: 20_000, Time: time.Second}
		e := tracker.Entity{Key: "1", Summary: summary, Description: description,
			Fields: tracker.Fields{Status: status, Labels: []string{label}, Custom: map[string]string{label: status}}}
		r := Replica{Key: "KAN-1", Summary: summary, Description: description, Fields: e.Fields, Set: Fields()}
		start := time.Now()
		switch p.Kind() {
		case KindOutgoing:
			_, err = p.Outgoing(context.Background(), env, e)
			if p.HasTrigger() {
				_, _ = p.Trigger(context.Background(), env, e)
			}
		case KindIncoming:
			_, err = p.Incoming(context.Background(), env, IncomingInput{Item: &e, Replica: r, Previous: &r})
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("a run took %v", d)
		}
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("run: %v (%T)", err, err)
			}
		}
	})
}
