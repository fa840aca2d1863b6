package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
)

// heldItems holds a Bulk Exalate's read of one task's comments and files
// (ReadItems), after the listing gave its fields, until released.
type heldItems struct {
	*asana.Tracker
	id      string
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (h *heldItems) ReadItems(ctx context.Context, e *engine.Entity) error {
	if e.ID == h.id {
		h.once.Do(func() {
			close(h.entered)
			<-h.release
		})
	}
	return h.Tracker.ReadItems(ctx, e)
}

// TestBulkListingThenRename: a task is renamed after a Bulk Exalate listed
// it (with its fields) and before it prepared it, and change detection
// sees the rename in between, while the task has neither twin nor sync.
// The first sync carries the listed name; the rename must follow it, not
// be dropped as a change to a task the connection does not cover. (Under
// TestSandboxFaultsConverge this lost "Renamed on Acme before its first
// sync was done" once own writes were dropped by their times, which made
// detection quick enough to fall in the gap.)
func TestBulkListingThenRename(t *testing.T) {
	held := &heldItems{entered: make(chan struct{}), release: make(chan struct{})}
	a := startNode(t, "Acme", &clock{}, func(n *testNode) {
		n.wrap = func(tr *asana.Tracker) engine.Tracker { held.Tracker = tr; return held }
	})
	b := startNode(t, "Globex", &clock{})
	defer func() {
		select {
		case <-held.release:
		default:
			close(held.release)
		}
	}()
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	connB, err := b.Accept(ctx, code, "Test")
	if err != nil {
		t.Fatal(err)
	}
	p := pairing{a: a, b: b, connA: connA, connB: connB}
	bulkDone(t, b, connB.ID)
	bulkDone(t, a, connA.ID)

	task, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Listed under its first name"})
	if err != nil {
		t.Fatal(err)
	}
	held.id = task.ID // before the bulk starts: its goroutine sees it
	bulkErr := make(chan error, 1)
	go func() {
		_, err := a.ExalateAll(ctx, connA.ID)
		bulkErr <- err
	}()
	select {
	case <-held.entered:
	case <-ctx.Done():
		t.Fatal("the Bulk Exalate never read the task's comments")
	}
	renamed := "Renamed after the listing"
	if _, err := a.et().Update(ctx, task.ID, engine.EntityUpdate{Summary: &renamed}); err != nil {
		t.Fatal(err)
	}
	// Two rounds of change detection after the rename: the second began
	// after the first had ended, so it read the rename's events.
	checked := func() time.Time {
		_, at, _ := a.Store().DetectCursor(ctx, connA.ID)
		return at
	}
	for range 2 {
		before := checked()
		eventually(t, "a round of change detection on Acme", func() bool { return checked().After(before) })
	}
	close(held.release)
	if err := <-bulkErr; err != nil {
		t.Fatal(err)
	}

	rep := checkInvariants(t, p, 30*time.Second)
	if twin := rep.B[rep.AtoB[task.ID]]; twin.Summary != renamed {
		t.Errorf("Globex's twin is named %q; want %q", twin.Summary, renamed)
	}
}
