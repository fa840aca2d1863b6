package engine_test

import (
	"testing"
	"time"

	"github.com/tandem-sync/tandem/store"
)

// checkCounters fails the test unless the counters n keeps as syncs
// happen (what its connections list and statistics read) equal a full
// recount of its history, both read in one transaction.
func checkCounters(t *testing.T, n *testNode, when string) map[string]store.Counters {
	t.Helper()
	kept, full, err := n.Store().CountersAndRecount(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	same := len(kept) == len(full)
	for id, k := range kept {
		f, ok := full[id]
		if !ok || k.SyncedItems != f.SyncedItems || !k.LastSync.Equal(f.LastSync) || k.Open != f.Open || k.EventCounts != f.EventCounts {
			same = false
		}
	}
	if !same {
		t.Errorf("%s, %s keeps the counters %+v, a full recount gives %+v", when, n.Info().Name, kept, full)
	}
	return kept
}

// TestCountersMatchRecount: two real nodes sync both ways, a sync fails and
// is resolved, a pair is unexalated, a twin is deleted in its tracker and
// a connection is deleted; after each, the counters both nodes keep equal
// a full recount, and the connections list and the statistics show them.
func TestCountersMatchRecount(t *testing.T) {
	a, b, connA, connB := connected(t)
	ctx := ctxFor(t)
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil || len(ids) < 3 {
		t.Fatalf("listing Acme's project: %v, %v", ids, err)
	}
	parted, deleted, refused := ids[0], ids[1], ids[2]
	exalate(t, a, parted)
	deletedTwin := exalate(t, a, deleted).RemoteKey
	back := exalate(t, b, firstTask(t, b, connB.LocalProject).ID)
	quiet(t, a, b)
	checkCounters(t, a, "after three syncs")
	checkCounters(t, b, "after three syncs")

	// Globex's tracker refuses the next one: failing there, then resolved.
	b.sb.SetRefuseWrites(true)
	first, err := a.Exalate(ctx, "", refused)
	if err != nil {
		t.Fatal(err)
	}
	failingOn(t, b, first.EventID, 1)
	if k := checkCounters(t, b, "with a sync failing"); k[connB.ID].Failing != 1 || k[connB.ID].Open != 1 {
		t.Errorf("Globex counts %+v with one sync failing", k[connB.ID])
	}
	if _, err := b.Resolve(ctx, "", first.EventID, "read-only this week"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Acme's sync resolved", func() bool {
		st, err := a.EventStatus(ctx, connA.ID, first.EventID)
		return err == nil && st.Resolution != ""
	})
	b.sb.SetRefuseWrites(false)
	checkCounters(t, a, "after a resolve")
	checkCounters(t, b, "after a resolve")

	if _, err := a.Unexalate(ctx, connA.ID, parted); err != nil {
		t.Fatal(err)
	}
	if err := b.client.DeleteTask(ctx, deletedTwin); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Acme to learn its twin was deleted", func() bool {
		st, err := a.Status(ctx, "", deleted)
		return err == nil && st.Deleted == "there"
	})
	// The resolved sync stays at its stage: wait for empty queues, not
	// for every sync to be synchronized (quiet).
	eventually(t, "both queues empty", func() bool { return queueOf(t, a, "").Total == 0 && queueOf(t, b, "").Total == 0 })
	k := checkCounters(t, a, "after an unexalate and a delete")
	checkCounters(t, b, "after an unexalate and a delete")

	// Only the pair Globex started is whole; the list and the statistics
	// read the counters.
	c, err := a.ConnectionByID(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.SyncedItems != 1 || c.Queued != 0 || c.SyncedItems != k[connA.ID].SyncedItems || !c.LastSync.Equal(k[connA.ID].LastSync) {
		t.Errorf("Acme lists %+v, counters %+v; want the one pair %s made", c, k[connA.ID], back.RemoteKey)
	}
	st, err := a.Stats(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.EventsOut != k[connA.ID].Out || st.EventsIn != k[connA.ID].In || st.Synchronized != k[connA.ID].Synchronized ||
		st.EventsIn < 1 || st.EventsOut < 3 || st.LastSync.Before(time.Now().Add(-time.Hour)) {
		t.Errorf("Acme's statistics %+v, counters %+v", st, k[connA.ID])
	}

	if err := a.Delete(ctx, connA.ID); err != nil {
		t.Fatal(err)
	}
	if k := checkCounters(t, a, "after deleting the connection"); len(k) != 0 {
		t.Errorf("counters kept for deleted connections: %+v", k)
	}
	if got := dbCount(t, a, `SELECT count(*) FROM connection_counters`); got != 0 {
		t.Errorf("%d rows of counters left after the connection was deleted", got)
	}
}
