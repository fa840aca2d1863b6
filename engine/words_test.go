package engine_test

import (
	"errors"
	"testing"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/internal/trackers"
)

// TestNoSuchItemInOneLine checks, on a node of every tracker kind, that an
// item the tracker does not have is one line in the tracker's words (its
// item noun, its name, where else the item may be) for exalate and status,
// rather than the client's 404 (trap 8 of issue 14).
func TestNoSuchItemInOneLine(t *testing.T) {
	for _, k := range trackers.All() {
		t.Run(k.Name(), func(t *testing.T) {
			n := startKindNode(t, k, "Globex", &clock{})
			ctx := ctxFor(t)
			ps, err := n.Projects(ctx)
			if err != nil || len(ps) == 0 {
				t.Fatalf("projects: %v %v", ps, err)
			}
			// An item's key made longer: the same form, no such item.
			ref := firstTask(t, n, ps[0].ID).Key + "000"
			v := k.Vocabulary
			want := "No " + v.Item + " " + ref + " in Globex's " + v.Title + " (it may have been deleted, or is " + v.Elsewhere + ")"
			_, err = n.Exalate(ctx, "", ref)
			if !errors.Is(err, engine.ErrNotFound) || err.Error() != want {
				t.Errorf("exalate: err = %v, want %q", err, want)
			}
			_, err = n.Status(ctx, "", ref)
			if !errors.Is(err, engine.ErrNotFound) || err.Error() != want {
				t.Errorf("status: err = %v, want %q", err, want)
			}
		})
	}
}
