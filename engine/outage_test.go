package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// outageTasks is how many seeded tasks the outage tests move: enough for
// volume, few enough for a few seconds.
const outageTasks = 20

// TestPeerDownThenBackWithVolume: Globex is down while Acme bulk-syncs
// twenty tasks with comments and attachments and users keep editing on
// Acme; Acme keeps the syncs queued, retrying visibly; Globex comes back
// and everything arrives, once.
func TestPeerDownThenBackWithVolume(t *testing.T) {
	a, b, connA, connB := connected(t)
	p := pairing{a: a, b: b, connA: connA, connB: connB}
	ids := seedTasks(t, a, connA.LocalProject, "Outage", outageTasks, faultRNG(t))
	bulkDone(t, b, connB.ID)
	b.stop()
	bulk(t, a, connA.ID)
	ctx := ctxFor(t)
	edits := []userEdit{
		{on: a, task: ids[0], summary: "Renamed on Acme while Globex was down"},
		{on: a, task: ids[1], comment: "Acme comments while Globex is down"},
	}
	for _, e := range edits {
		if e.summary != "" {
			if _, err := a.et().Update(ctx, e.task, engine.EntityUpdate{Summary: &e.summary}); err != nil {
				t.Fatal(err)
			}
		}
		if e.comment != "" {
			if _, err := a.et().AddComment(ctx, e.task, "<body>"+e.comment+"</body>"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Acme noticed the edits (a second sync of each task, queued behind
	// the first) and its sends fail, each with its error and next try.
	eventually(t, "the edits queued behind the bulk sync", func() bool {
		return len(unfinished(t, a, connA.ID, ids[0])) == 2 && len(unfinished(t, a, connA.ID, ids[1])) == 2
	})
	eventually(t, "failed sends with a retry time", func() bool {
		var n int
		a.Store().DB().QueryRow(`SELECT count(*) FROM sync_events WHERE stage = 'sending' AND error != '' AND next_retry_at IS NOT NULL`).Scan(&n)
		return n >= outageTasks
	})
	b.start(t, "Globex")
	rep := checkInvariants(t, p, 60*time.Second)
	checkEdits(t, rep, p, edits)
	if rep.Tasks < outageTasks {
		t.Errorf("%d twin pairs, want at least %d", rep.Tasks, outageTasks)
	}
}

// unfinished lists the outgoing syncs of an entity that are not done.
func unfinished(t *testing.T, n *testNode, connID, id string) []string {
	t.Helper()
	evs, err := n.Store().UnfinishedEvents(ctxFor(t), connID, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	return out
}

// TestDeactivatedConnectionReplaysInOrderWithVolume: twenty synced tasks;
// the connection is deactivated on Acme; Acme's users rename tasks and
// comment, one edit after another, and Globex's users comment too. Nothing
// crosses while deactivated: Acme queues its syncs and stores Globex's
// without applying them. On re-activation everything replays, and the
// edits of one task land in the order they were made.
func TestDeactivatedConnectionReplaysInOrderWithVolume(t *testing.T) {
	a, b, connA, connB := connected(t)
	p := pairing{a: a, b: b, connA: connA, connB: connB}
	ids := seedTasks(t, a, connA.LocalProject, "Paused", outageTasks, faultRNG(t))
	bulkDone(t, b, connB.ID)
	bulkDone(t, a, connA.ID)
	before := checkInvariants(t, p, 60*time.Second)
	ctx := ctxFor(t)
	if _, err := a.SetActive(ctx, connA.ID, false); err != nil {
		t.Fatal(err)
	}

	// One edit at a time, each queued as its own sync before the next.
	queued := 0
	edit := func(what string, do func() error) {
		t.Helper()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		queued++
		eventually(t, what+" queued", func() bool {
			evs, err := a.Store().EventsAt(ctx, nil, connA.ID, "out", engine.StageSending)
			return err == nil && len(evs) == queued
		})
	}
	busy := ids[0]
	var order []string
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("Paused task 001, version %d", i)
		edit("rename "+name, func() error {
			_, err := a.et().Update(ctx, busy, engine.EntityUpdate{Summary: &name})
			return err
		})
		words := fmt.Sprintf("Step %d, written while the connection was off", i)
		order = append(order, words)
		edit("comment "+words, func() error {
			_, err := a.et().AddComment(ctx, busy, "<body>"+words+"</body>")
			return err
		})
	}
	for _, id := range ids[1:6] {
		name := "Renamed while the connection was off: " + id
		edit("rename "+id, func() error {
			_, err := a.et().Update(ctx, id, engine.EntityUpdate{Summary: &name})
			return err
		})
	}
	// Globex's side is active: its users' comments go out and wait on Acme.
	twinB := before.AtoB[ids[6]]
	if _, err := b.et().AddComment(ctx, twinB, "<body>Globex comments while Acme is off</body>"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Globex's comment stored on Acme, not applied", func() bool {
		evs, err := a.Store().EventsAt(ctx, nil, connA.ID, "in", engine.StageWaiting)
		return err == nil && len(evs) == 1
	})
	if e, err := b.et().Get(ctx, before.AtoB[busy]); err != nil || e.Summary != "Paused task 001" {
		t.Fatalf("Globex's twin changed while the connection was off: %q, %v", e.Summary, err)
	}

	if _, err := a.SetActive(ctx, connA.ID, true); err != nil {
		t.Fatal(err)
	}
	rep := checkInvariants(t, p, 60*time.Second)
	twin := rep.B[rep.AtoB[busy]]
	if twin.Summary != "Paused task 001, version 3" {
		t.Errorf("after the replay Globex's twin is %q, want the last rename", twin.Summary)
	}
	var got []string
	for _, c := range twin.Comments {
		if strings.Contains(c.Body, "written while the connection was off") {
			got = append(got, strings.TrimSuffix(strings.TrimPrefix(c.Body, "<body>"), "</body>"))
		}
	}
	if !slices.Equal(got, order) {
		t.Errorf("the queued comments landed on Globex as %q, want in the order written, %q", got, order)
	}
	for _, id := range ids[1:6] {
		if want := "Renamed while the connection was off: " + id; rep.B[rep.AtoB[id]].Summary != want {
			t.Errorf("%s's twin is %q after the replay, want %q", id, rep.B[rep.AtoB[id]].Summary, want)
		}
	}
	if n := bodiesContaining(rep.A[ids[6]].Comments, "Globex comments while Acme is off"); n != 1 {
		t.Errorf("Globex's comment is on Acme %d times after the replay, want once", n)
	}
	t.Logf("replayed %d queued syncs from Acme and 1 stored on Acme", queued)
}

// TestBulkOnBothSidesAtOnce: a Bulk Exalate on Globex started while
// Acme's is on its way picks up twins Globex just created; their replicas
// name Acme's task, so Acme waits for its own sync to record the twin
// rather than make a second copy of its own task.
func TestBulkOnBothSidesAtOnce(t *testing.T) {
	a, b, connA, connB := connected(t)
	seedTasks(t, a, connA.LocalProject, "Crossing", outageTasks, faultRNG(t))
	bulk(t, a, connA.ID)
	bulk(t, b, connB.ID)
	checkInvariants(t, pairing{a: a, b: b, connA: connA, connB: connB}, 30*time.Second)
}
