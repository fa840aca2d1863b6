package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
)

// heldCreate is an Asana tracker whose first create of a task named
// summary waits, once it has begun, until release is closed.
type heldCreate struct {
	*asana.Tracker
	summary string
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (h *heldCreate) Create(ctx context.Context, e engine.NewEntity) (engine.Entity, error) {
	if e.Summary == h.summary {
		h.once.Do(func() {
			close(h.entered)
			<-h.release
		})
	}
	return h.Tracker.Create(ctx, e)
}

// TestEditDuringFirstSyncMakesOneTwin: a task is edited on Acme while its
// first sync is being applied on Globex (the create there is slow). The
// edit makes a second sync, which waits for the first (one item's syncs
// go in order), then updates the twin rather than making another.
func TestEditDuringFirstSyncMakesOneTwin(t *testing.T) {
	const name = "Held at the door"
	held := &heldCreate{summary: name, entered: make(chan struct{}), release: make(chan struct{})}
	a := startNode(t, "Acme", &clock{})
	b := startNode(t, "Globex", &clock{}, func(n *testNode) {
		n.wrap = func(tr *asana.Tracker) engine.Tracker { held.Tracker = tr; return held }
	})
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

	task, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exalate(ctx, "", task.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held.entered:
	case <-ctx.Done():
		t.Fatal("Globex never began creating the twin")
	}
	renamed := name + ", renamed during its first sync"
	if _, err := a.et().Update(ctx, task.ID, engine.EntityUpdate{Summary: &renamed}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.et().AddComment(ctx, task.ID, "<body>Commented during the first sync</body>"); err != nil {
		t.Fatal(err)
	}
	// The edit makes a second sync, which waits on Acme for the first: it
	// is not sent while the first is still creating the twin.
	eventually(t, "the edit's sync prepared on Acme", func() bool {
		evs, _ := a.Store().UnfinishedEvents(ctx, connA.ID, task.ID)
		return len(evs) == 2
	})
	var onGlobex int
	b.Store().DB().QueryRow(`SELECT count(*) FROM sync_events WHERE direction = 'in' AND stage != 'synchronized'`).Scan(&onGlobex)
	if onGlobex != 1 {
		t.Errorf("%d unfinished syncs reached Globex; the second should wait for the first", onGlobex)
	}
	close(held.release)

	rep := checkInvariants(t, p, 30*time.Second)
	twin := rep.B[rep.AtoB[task.ID]]
	if twin.Summary != renamed || bodiesContaining(twin.Comments, "Commented during the first sync") != 1 {
		t.Errorf("Globex's twin: %q with comments %+v; want the rename and the comment", twin.Summary, twin.Comments)
	}
}
