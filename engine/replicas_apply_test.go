package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store/pgtest"
)

// gate holds an apply's tracker write, on whichever replica makes it,
// after the tracker made it and before it returns (so before its record
// is stored): the moment a read of the item sees the sync's write
// without its record.
type gate struct {
	mu      sync.Mutex
	summary string        // the write held: an update setting this summary
	entered chan string   // the replica holding it
	release chan struct{} // closed to let it go on
}

func (g *gate) set(summary string) (entered <-chan string, release chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.summary, g.entered, g.release = summary, make(chan string, 1), make(chan struct{})
	return g.entered, g.release
}

// gatedTracker is a replica's tracker whose updates pass through the
// gate, counting its reads of what changed.
type gatedTracker struct {
	*asana.Tracker
	replica string
	g       *gate
	reads   *atomic.Int64
}

func (t gatedTracker) Changes(ctx context.Context, project, cursor string) (engine.Changes, error) {
	t.reads.Add(1)
	return t.Tracker.Changes(ctx, project, cursor)
}

func (t gatedTracker) Update(ctx context.Context, id string, u engine.EntityUpdate) (engine.Entity, error) {
	e, err := t.Tracker.Update(ctx, id, u)
	t.g.mu.Lock()
	held := u.Summary != nil && *u.Summary == t.g.summary && t.g.summary != ""
	entered, release := t.g.entered, t.g.release
	if held {
		t.g.summary = ""
	}
	t.g.mu.Unlock()
	if held {
		entered <- t.replica
		<-release
	}
	return e, err
}

// TestLeaderSeesAnotherReplicasApply: Acme as two replicas on one
// PostgreSQL database; Globex renames a twin, and the rename is applied
// on the replica that does not detect, held after its tracker write and
// before its record. The leader's change detection, which sees the write
// meanwhile, must not take it for a change of Acme's user and send it
// back (the echo TestReplicasFailOver found: applied on Globex, it
// overwrote a later rename there). It failed when the applying set and
// the write locks were in each replica's memory alone.
func TestLeaderSeesAnotherReplicasApply(t *testing.T) {
	url := pgtest.URL(t)
	g := &gate{}
	var leaderReads, otherReads atomic.Int64
	gated := func(replica string, reads *atomic.Int64) func(*testNode) {
		return func(n *testNode) {
			n.wrap = func(tr *asana.Tracker) engine.Tracker { return gatedTracker{tr, replica, g, reads} }
		}
	}
	a := startNode(t, "Acme", &clock{}, gated("leader", &leaderReads), onDatabase(url))
	b := startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	conn, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first replica to lead", a.Leads)
	a2 := replicaOf(t, a, "Acme", url, gated("other", &otherReads))
	ids, err := a.et().List(ctx, conn.LocalProject)
	if err != nil || len(ids) == 0 {
		t.Fatalf("the Company project's tasks: %v, %v", ids, err)
	}
	src, err := a.et().Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	// Not exalate: its stage events are published on the replica that
	// runs each step, which may be the other.
	first, err := a.Exalate(ctx, "", src.URL)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first sync to be Synchronized", func() bool {
		return dbCount(t, a, `SELECT COUNT(*) FROM sync_events WHERE id = ? AND stage = ?`, first.EventID, engine.StageSynchronized) == 1
	})
	var remoteKey string
	if err := a.Store().DB().QueryRowContext(ctx, `SELECT remote_key FROM sync_events WHERE id = $1`, first.EventID).Scan(&remoteKey); err != nil {
		t.Fatal(err)
	}
	twin, err := b.et().Get(ctx, remoteKey)
	if err != nil {
		t.Fatal(err)
	}
	outs := func() int {
		return dbCount(t, a, `SELECT COUNT(*) FROM sync_events WHERE direction = 'out' AND entity_id = ?`, src.ID)
	}
	applied := func() int {
		return dbCount(t, a, `SELECT COUNT(*) FROM sync_events WHERE direction = 'in' AND entity_id = ? AND stage = ?`,
			src.ID, engine.StageSynchronized)
	}
	before := outs()

	// River gives the apply to either replica: rename until one lands on
	// the one that does not lead.
	onOther := false
	for i := 0; i < 20 && !onOther; i++ {
		summary := fmt.Sprintf("Renamed on Globex %d", i)
		entered, release := g.set(summary)
		wasApplied := applied()
		if _, err := b.et().Update(ctx, twin.ID, engine.EntityUpdate{Summary: &summary}); err != nil {
			t.Fatal(err)
		}
		var replica string
		select {
		case replica = <-entered:
		case <-ctx.Done():
			t.Fatal("no replica of Acme applied the rename")
		}
		if replica == "other" {
			if !a.Leads() || a2.Leads() {
				t.Fatalf("the first replica leads: %v, the second: %v; want the first only", a.Leads(), a2.Leads())
			}
			onOther = true
			// The leader's change detection looks at least once while
			// the write is held (it may then wait for the apply).
			mark := leaderReads.Load()
			eventually(t, "a round of change detection on the leader while the apply is held", func() bool {
				return leaderReads.Load() > mark
			})
		}
		close(release)
		eventually(t, "Acme to apply the rename", func() bool { return applied() > wasApplied })
		mark := leaderReads.Load()
		eventually(t, "rounds of change detection after the apply", func() bool { return leaderReads.Load() >= mark+5 })
	}
	if !onOther {
		t.Fatal("20 renames, all applied on the replica that leads")
	}
	if n := outs() - before; n != 0 {
		t.Errorf("Acme sent %d syncs of the renamed task back to Globex: echoes of the renames it applied", n)
	}
	e, err := b.et().Get(ctx, twin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.Summary, "Renamed on Globex") {
		t.Errorf("Globex's twin is called %q", e.Summary)
	}
}
