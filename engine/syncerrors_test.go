package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// failingOn waits until n lists the sync eventID among its errors, having
// failed at least tries times, and returns it.
func failingOn(t *testing.T, n *testNode, eventID string, tries int) adminapi.SyncError {
	t.Helper()
	var found adminapi.SyncError
	eventually(t, "sync "+eventID+" failing on "+n.Info().Name, func() bool {
		errs, err := n.Errors(ctxFor(t), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs.Errors {
			if e.EventID == eventID && e.Attempts >= tries {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// queueOf lists n's open syncs on conn ("" for all).
func queueOf(t *testing.T, n *testNode, conn string) adminapi.SyncQueue {
	t.Helper()
	q, err := n.Queue(ctxFor(t), conn, 0)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// queuedOn counts a connection's open syncs as the connections list shows
// them.
func queuedOn(t *testing.T, n *testNode, connID string) int {
	t.Helper()
	c, err := n.ConnectionByID(ctxFor(t), connID)
	if err != nil {
		t.Fatal(err)
	}
	return c.Queued
}

// TestFailingSyncIsListedAndRetriedNow: Globex's tracker refuses writes, so
// the sync Acme starts fails where Globex applies it. Globex lists it with
// its stage, the tracker's error, its tries and its next retry; Acme's
// queue shows it with Globex. Once the tracker takes writes again, a retry
// makes it go now, well before its next scheduled try.
func TestFailingSyncIsListedAndRetriedNow(t *testing.T) {
	a, b, connA, connB := connected(t)
	ctx := ctxFor(t)
	task, _ := twoTasks(t, a, connA.LocalProject)
	b.sb.SetRefuseWrites(true)
	first, err := a.Exalate(ctx, "", task.ID)
	if err != nil {
		t.Fatal(err)
	}
	se := failingOn(t, b, first.EventID, 1)
	if se.Stage != engine.StageWaiting || se.Direction != "in" || se.ConnectionID != connB.ID || se.ConnectionName != connB.Name ||
		se.Summary != task.Summary || se.RemoteKey != task.Key || (se.NextRetry.IsZero() && !se.Running) || se.Waits != "" {
		t.Errorf("Globex lists the failing sync as %+v", se)
	}
	if !strings.Contains(se.Error, "403") || !strings.Contains(se.Error, "not write") {
		t.Errorf("the error shown is %q, want the tracker's refusal", se.Error)
	}
	if errs, err := b.Errors(ctx, connB.Name, 0); err != nil || errs.Total != 1 {
		t.Errorf("Globex's errors on %s: %+v, %v", connB.Name, errs, err)
	}
	if errs, err := a.Errors(ctx, "", 0); err != nil || errs.Total != 0 {
		t.Errorf("Acme lists errors of its own: %+v, %v", errs, err)
	}
	if _, err := b.Errors(ctx, "no such connection", 0); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("errors of an unknown connection: %v", err)
	}
	if q := queueOf(t, b, ""); q.Total != 1 || (q.Entries[0].State != adminapi.QueueRetrying && q.Entries[0].State != adminapi.QueueInFlight) ||
		q.Entries[0].Error == "" {
		t.Errorf("Globex's queue: %+v", q)
	}
	if q := queueOf(t, a, connA.ID); q.Total != 1 || q.Entries[0].State != adminapi.QueueInFlight || q.Entries[0].Stage != engine.StageWaiting ||
		q.Entries[0].Summary != task.Summary || q.Entries[0].LocalKey != task.Key {
		t.Errorf("Acme's queue: %+v", q)
	}
	if queuedOn(t, a, connA.ID) != 1 || queuedOn(t, b, connB.ID) != 1 {
		t.Errorf("queued counts: Acme %d, Globex %d; want 1 each", queuedOn(t, a, connA.ID), queuedOn(t, b, connB.ID))
	}

	// Retried while the fault lasts, it fails again, at once.
	if _, err := b.Retry(ctx, "", first.EventID[:8]); err != nil {
		t.Fatal(err)
	}
	failingOn(t, b, first.EventID, se.Attempts+1)
	// Now its next try is a while off, and none is running.
	eventually(t, "a next try a second away", func() bool {
		se = failingOn(t, b, first.EventID, 1)
		return !se.Running && time.Until(se.NextRetry) > time.Second
	})
	b.sb.SetRefuseWrites(false)
	if _, err := b.Retry(ctx, connB.Name, first.EventID); err != nil {
		t.Fatal(err)
	}
	st := waitSynchronized(t, a, task.ID)
	if !time.Now().Before(se.NextRetry) {
		t.Errorf("synchronized only at %v, not before the next scheduled try at %v: the retry did not run it now", time.Now(), se.NextRetry)
	}
	if st.EventID != first.EventID {
		t.Errorf("synchronized by sync %s, want %s", st.EventID, first.EventID)
	}
	eventually(t, "both queues empty", func() bool {
		return queueOf(t, a, "").Total == 0 && queueOf(t, b, "").Total == 0 && queuedOn(t, a, connA.ID) == 0
	})
	if _, err := b.Retry(ctx, "", first.EventID); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("retrying a Synchronized sync: %v, want a conflict", err)
	}
	if _, err := b.Retry(ctx, "", "abc"); !errors.Is(err, engine.ErrBadRequest) {
		t.Errorf("retrying by a 3-character id: %v, want a bad request", err)
	}
	if _, err := b.Retry(ctx, "", "ffffffff-no-such-sync"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("retrying an unknown sync: %v, want not found", err)
	}
}

// TestRetryAllOfAConnection: every failing sync of a connection goes
// again at once; a sync Synchronized meanwhile is not counted.
func TestRetryAllOfAConnection(t *testing.T) {
	a, b, connA, connB := connected(t)
	ctx := ctxFor(t)
	one, two := twoTasks(t, a, connA.LocalProject)
	b.sb.SetRefuseWrites(true)
	var ids []string
	for _, task := range []engine.Entity{one, two} {
		ev, err := a.Exalate(ctx, "", task.ID)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.EventID)
	}
	for _, id := range ids {
		failingOn(t, b, id, 1)
	}
	if n, err := b.RetryAll(ctx, "no such connection"); !errors.Is(err, engine.ErrNotFound) || n != 0 {
		t.Errorf("retry all on an unknown connection: %d, %v; want not found", n, err)
	}
	b.sb.SetRefuseWrites(false)
	n, err := b.RetryAll(ctx, connB.Name)
	if err != nil || n != 2 {
		t.Fatalf("retry all: %d, %v; want 2", n, err)
	}
	waitSynchronized(t, a, one.ID)
	waitSynchronized(t, a, two.ID)
	if n, err := b.RetryAll(ctx, ""); err != nil || n != 0 {
		t.Errorf("retry all with nothing failing: %d, %v", n, err)
	}
}

// TestResolveOnTheReceivingSide: Globex's admin resolves a sync its tracker
// refused. It stops there, the reason shows in the item's history on both
// nodes, Acme stops waiting for it, and the item's next sync is not held
// up by it.
func TestResolveOnTheReceivingSide(t *testing.T) {
	a, b, connA, connB := connected(t)
	ctx := ctxFor(t)
	task, _ := twoTasks(t, a, connA.LocalProject)
	b.sb.SetRefuseWrites(true)
	first, err := a.Exalate(ctx, "", task.ID)
	if err != nil {
		t.Fatal(err)
	}
	failingOn(t, b, first.EventID, 1)
	for _, reason := range []string{"", "  ", strings.Repeat("x", adminapi.MaxResolveReason+1)} {
		if _, err := b.Resolve(ctx, "", first.EventID, reason); !errors.Is(err, engine.ErrBadRequest) {
			t.Errorf("resolving with the reason %.10q: %v, want a bad request", reason, err)
		}
	}
	if errs, _ := b.Errors(ctx, "", 0); errs.Total != 1 {
		t.Fatalf("refused resolves changed the errors: %+v", errs)
	}
	const reason = "Globex's project is read-only this week"
	res, err := b.Resolve(ctx, "", first.EventID, reason)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resolution != reason || res.ResolvedAt.IsZero() || res.Stage != engine.StageWaiting {
		t.Errorf("Resolve answered %+v", res)
	}
	if errs, _ := b.Errors(ctx, "", 0); errs.Total != 0 {
		t.Errorf("a resolved sync is still listed: %+v", errs)
	}
	if _, err := b.Resolve(ctx, "", first.EventID, "again"); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("resolving twice: %v, want a conflict", err)
	}
	if _, err := b.Retry(ctx, "", first.EventID); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("retrying a resolved sync: %v, want a conflict", err)
	}
	// Acme hears of it: its sync is resolved too, with Globex's reason.
	eventually(t, "Acme's sync resolved", func() bool {
		st, err := a.EventStatus(ctx, connA.ID, first.EventID)
		return err == nil && st.Resolution != ""
	})
	h, err := a.ItemHistory(ctx, "", task.ID, 0)
	if err != nil || len(h.Syncs) != 1 || h.Syncs[0].Resolution != "resolved on Globex: "+reason {
		t.Errorf("Acme's history of %s: %+v, %v", task.Key, h, err)
	}
	if st, err := b.EventStatus(ctx, connB.ID, first.EventID); err != nil || st.Resolution != reason {
		t.Errorf("Globex's sync %s: %+v, %v", first.EventID, st, err)
	}
	if queueOf(t, a, "").Total != 0 || queueOf(t, b, "").Total != 0 {
		t.Errorf("queues after resolving: Acme %+v, Globex %+v", queueOf(t, a, ""), queueOf(t, b, ""))
	}
	// Not applied, and not applied later either.
	if n := tasksNamed(t, b, connB.LocalProject, task.Summary); n != 0 {
		t.Errorf("%d copies of %q on Globex after resolving its sync", n, task.Summary)
	}
	b.sb.SetRefuseWrites(false)
	second, err := a.Exalate(ctx, "", task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st := waitSynchronized(t, a, task.ID); st.EventID != second.EventID {
		t.Errorf("synchronized by %s, want the new sync %s", st.EventID, second.EventID)
	}
	if n := tasksNamed(t, b, connB.LocalProject, task.Summary); n != 1 {
		t.Errorf("%d copies of %q on Globex, want 1", n, task.Summary)
	}
	if st, _ := a.EventStatus(ctx, connA.ID, first.EventID); st.Stage == engine.StageSynchronized {
		t.Errorf("the resolved sync went through after all: %+v", st)
	}
}

// TestResolveAQueuedSendOnTheSource: Globex is down; Acme's sync of a task
// fails at Sending and an edit's sync waits its turn behind it. Resolving
// the first lets the second go once Globex is back; the first is never
// sent.
func TestResolveAQueuedSendOnTheSource(t *testing.T) {
	// Acme's change detection is off: the queue under test is the two
	// syncs the test starts. With it on, a poll between the rename and
	// the second Exalate made a third sync of the rename, whenever it
	// came first (on PostgreSQL, whose every statement is a round trip,
	// it often did).
	a, b, connA, _ := connectedAcmeWith(t, func(n *testNode) {
		n.config = func(c *engine.Config) { c.Poll = -1 }
	})
	ctx := ctxFor(t)
	task, _ := twoTasks(t, a, connA.LocalProject)
	b.stop()
	first, err := a.Exalate(ctx, "", task.ID)
	if err != nil {
		t.Fatal(err)
	}
	se := failingOn(t, a, first.EventID, 1)
	if se.Stage != engine.StageSending || se.Direction != "out" || !strings.Contains(se.Error, "Globex") {
		t.Errorf("Acme lists %+v", se)
	}
	renamed := task.Summary + " (renamed)"
	if _, err := a.et().Update(ctx, task.ID, engine.EntityUpdate{Summary: &renamed}); err != nil {
		t.Fatal(err)
	}
	second, err := a.Exalate(ctx, "", task.ID)
	if err != nil {
		t.Fatal(err)
	}
	q := queueOf(t, a, "")
	if q.Total != 2 || q.Entries[1].EventID != second.EventID || q.Entries[1].State != adminapi.QueueWaitingTurn ||
		q.Entries[1].BehindEventID != first.EventID || q.Entries[1].Summary != renamed {
		t.Errorf("Acme's queue: %+v", q)
	}
	if _, err := a.Resolve(ctx, connA.Name, first.EventID, "superseded by the rename"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rename no longer waiting its turn", func() bool {
		q := queueOf(t, a, "")
		return q.Total == 1 && q.Entries[0].EventID == second.EventID && q.Entries[0].State != adminapi.QueueWaitingTurn
	})
	b.start(t, "Globex")
	// The rename goes; the resolved sync does not.
	eventually(t, "the rename Synchronized", func() bool {
		st, err := a.EventStatus(ctx, connA.ID, second.EventID)
		return err == nil && st.Stage == engine.StageSynchronized
	})
	if st, _ := a.EventStatus(ctx, connA.ID, first.EventID); st.Stage != engine.StageSending || st.Resolution != "superseded by the rename" {
		t.Errorf("the resolved sync: %+v", st)
	}
	if n := dbCount(t, b, `SELECT count(*) FROM sync_events WHERE id = ?`, first.EventID); n != 0 {
		t.Errorf("Globex holds the resolved sync %d times", n)
	}
}

// TestQueueOfADeactivatedConnection: syncs made while a connection is
// deactivated are queued, paused, and counted on the connection; they go,
// and the queue empties, once it is activated.
func TestQueueOfADeactivatedConnection(t *testing.T) {
	a, _, connA, _ := connected(t)
	ctx := ctxFor(t)
	one, two := twoTasks(t, a, connA.LocalProject)
	if _, err := a.SetActive(ctx, connA.ID, false); err != nil {
		t.Fatal(err)
	}
	for _, task := range []engine.Entity{one, two} {
		if _, err := a.Exalate(ctx, connA.Name, task.ID); err != nil {
			t.Fatal(err)
		}
	}
	q := queueOf(t, a, connA.Name)
	if q.Total != 2 || len(q.Entries) != 2 {
		t.Fatalf("queue of the deactivated connection: %+v", q)
	}
	for _, e := range q.Entries {
		if e.State != adminapi.QueuePaused || e.Stage != engine.StageSending || e.ConnectionName != connA.Name || e.Started.IsZero() {
			t.Errorf("queued while deactivated: %+v", e)
		}
	}
	if q.Entries[0].LocalKey != one.Key || q.Entries[1].LocalKey != two.Key {
		t.Errorf("queue order: %s, %s; want oldest first", q.Entries[0].LocalKey, q.Entries[1].LocalKey)
	}
	if limited, _ := a.Queue(ctx, "", 1); limited.Total != 2 || len(limited.Entries) != 1 {
		t.Errorf("queue limited to 1: %+v", limited)
	}
	if n := queuedOn(t, a, connA.ID); n != 2 {
		t.Errorf("the connection counts %d queued, want 2", n)
	}
	if _, err := a.Retry(ctx, "", q.Entries[0].EventID); !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), "activate") {
		t.Errorf("retrying a sync of a deactivated connection: %v, want a conflict saying to activate it", err)
	}
	if _, err := a.SetActive(ctx, connA.ID, true); err != nil {
		t.Fatal(err)
	}
	waitSynchronized(t, a, one.ID)
	waitSynchronized(t, a, two.ID)
	eventually(t, "the queue empty", func() bool { return queueOf(t, a, "").Total == 0 && queuedOn(t, a, connA.ID) == 0 })
}
