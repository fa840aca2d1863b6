package engine_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
)

// cutUpdate is a tracker whose update setting summary succeeds on the
// tracker once and then fails, as a process killed (or a connection cut)
// after the request reached the tracker; it counts reads of what changed.
type cutUpdate struct {
	*asana.Tracker
	summary string
	cut     *atomic.Bool
	reads   *atomic.Int64
}

func (t cutUpdate) Changes(ctx context.Context, project, cursor string) (engine.Changes, error) {
	t.reads.Add(1)
	return t.Tracker.Changes(ctx, project, cursor)
}

func (t cutUpdate) Update(ctx context.Context, id string, u engine.EntityUpdate) (engine.Entity, error) {
	e, err := t.Tracker.Update(ctx, id, u)
	if err == nil && u.Summary != nil && *u.Summary == t.summary && t.cut.CompareAndSwap(false, true) {
		return engine.Entity{}, errors.New("connection reset after the request was sent")
	}
	return e, err
}

// TestInterruptedUpdateIsNotEchoed: an incoming rename stopped between
// its tracker write and its record (the replica applying it killed) left
// the item renamed and the twin as before. Change detection must not send
// the rename back as a user's (an echo, which overwrote a later rename on
// the other side in TestReplicasFailOver), and the retry must record it
// rather than take it for a newer change made here.
func TestInterruptedUpdateIsNotEchoed(t *testing.T) {
	const renamed = "Renamed on Acme"
	var cut atomic.Bool
	var reads atomic.Int64
	a := startNode(t, "Acme", &clock{})
	b := startNode(t, "Globex", &clock{}, func(n *testNode) {
		n.wrap = func(tr *asana.Tracker) engine.Tracker { return cutUpdate{tr, renamed, &cut, &reads} }
	})
	ctx := ctxFor(t)
	conn, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	ids, err := a.et().List(ctx, conn.LocalProject)
	if err != nil || len(ids) == 0 {
		t.Fatalf("the Company project's tasks: %v, %v", ids, err)
	}
	src, err := a.et().Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, src.URL)
	twin, err := b.et().Get(ctx, done.RemoteKey)
	if err != nil {
		t.Fatal(err)
	}
	s := renamed
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &s}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Globex to apply the rename, cut once", func() bool {
		return cut.Load() && dbCount(t, b, `SELECT COUNT(*) FROM sync_events WHERE direction = 'in' AND entity_id = ? AND stage = ?`,
			twin.ID, engine.StageSynchronized) == 2
	})
	mark := reads.Load()
	eventually(t, "rounds of change detection on Globex after the apply", func() bool { return reads.Load() >= mark+5 })
	if n := dbCount(t, b, `SELECT COUNT(*) FROM sync_events WHERE direction = 'out' AND entity_id = ?`, twin.ID); n != 0 {
		t.Errorf("Globex sent %d syncs of the renamed task back to Acme: the rename it applied, echoed", n)
	}
	if n := dbCount(t, b, `SELECT COUNT(*) FROM pending_writes WHERE kind = 'update'`); n != 0 {
		t.Errorf("%d pending updates left after the retry recorded its write", n)
	}
	for _, side := range []*testNode{a, b} {
		id := src.ID
		if side == b {
			id = twin.ID
		}
		if e, err := side.et().Get(ctx, id); err != nil || e.Summary != renamed {
			t.Errorf("the task is called %q (%v), want %q", e.Summary, err, renamed)
		}
	}
}

// TestResolvedUpdateLeavesLaterEditsSynced: an incoming rename whose
// write reached the tracker but whose every try failed after it (so its
// update stayed pending), resolved by an admin, does not keep change
// detection away from the item for good: a rename made on that side
// afterwards reaches the other.
func TestResolvedUpdateLeavesLaterEditsSynced(t *testing.T) {
	const renamed, later = "Renamed on Acme", "Renamed on Globex afterwards"
	a := startNode(t, "Acme", &clock{})
	b := startNode(t, "Globex", &clock{}, func(n *testNode) {
		n.wrap = func(tr *asana.Tracker) engine.Tracker { return alwaysCut{tr, renamed} }
	})
	ctx := ctxFor(t)
	conn, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	connB, err := b.Accept(ctx, code, "Test")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := a.et().List(ctx, conn.LocalProject)
	if err != nil || len(ids) == 0 {
		t.Fatalf("the Company project's tasks: %v, %v", ids, err)
	}
	src, err := a.et().Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, src.URL)
	s := renamed
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &s}); err != nil {
		t.Fatal(err)
	}
	var failing string
	eventually(t, "Globex's apply of the rename to fail after writing it", func() bool {
		err := b.Store().DB().QueryRowContext(ctx, `SELECT id FROM sync_events WHERE direction = 'in' AND entity_id = ?
			AND stage != ? AND error != ''`, done.RemoteKey, engine.StageSynchronized).Scan(&failing)
		return err == nil
	})
	if _, err := b.Resolve(ctx, connB.ID, failing, "the rename is there already"); err != nil {
		t.Fatal(err)
	}
	s = later
	if _, err := b.et().Update(ctx, done.RemoteKey, engine.EntityUpdate{Summary: &s}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Globex's later rename to reach Acme", func() bool {
		e, err := a.et().Get(ctx, src.ID)
		return err == nil && e.Summary == later
	})
}

// alwaysCut is cutUpdate failing every time: the rename reaches the
// tracker at each try, and each try fails after it.
type alwaysCut struct {
	*asana.Tracker
	summary string
}

func (t alwaysCut) Update(ctx context.Context, id string, u engine.EntityUpdate) (engine.Entity, error) {
	e, err := t.Tracker.Update(ctx, id, u)
	if err == nil && u.Summary != nil && *u.Summary == t.summary {
		return engine.Entity{}, errors.New("connection reset after the request was sent")
	}
	return e, err
}
