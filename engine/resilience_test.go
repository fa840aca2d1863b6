package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine"
)

// waitSynchronized polls an entity's status on n until Synchronized.
func waitSynchronized(t *testing.T, n *testNode, ref string) engine.EventStatus {
	t.Helper()
	var st engine.EventStatus
	eventually(t, ref+" Synchronized on "+n.Info().Name, func() bool {
		var err error
		st, err = n.Status(ctxFor(t), "", ref)
		return err == nil && st.Stage == engine.StageSynchronized
	})
	return st
}

// tasksNamed counts the tasks of a project with a given summary.
func tasksNamed(t *testing.T, n *testNode, project, summary string) int {
	t.Helper()
	ids, err := n.et().List(ctxFor(t), project)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, id := range ids {
		if e, err := n.et().Get(ctxFor(t), id); err == nil && e.Summary == summary {
			count++
		}
	}
	return count
}

func firstTask(t *testing.T, n *testNode, project string) engine.Entity {
	t.Helper()
	ids, err := n.et().List(ctxFor(t), project)
	if err != nil || len(ids) == 0 {
		t.Fatalf("tasks of %s: %v %v", project, ids, err)
	}
	e, err := n.et().Get(ctxFor(t), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPeerDownThenBack(t *testing.T) {
	a, b, connA, connB := connected(t)
	src := firstTask(t, a, connA.LocalProject)
	events, stop := a.Subscribe()
	defer stop()
	b.stop()
	first, err := a.Exalate(ctxFor(t), "", src.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The send fails and is retried, visibly: the error and the next try.
	eventually(t, "a failed send", func() bool {
		select {
		case ev := <-events:
			return ev.EventID == first.EventID && ev.Stage == engine.StageSending && ev.Error != "" && !ev.NextRetry.IsZero()
		default:
			return false
		}
	})
	b.start(t, "Globex")
	waitSynchronized(t, a, src.ID)
	if n := tasksNamed(t, b, connB.LocalProject, src.Summary); n != 1 {
		t.Errorf("the peer has %d copies of the task, want 1", n)
	}
}

func TestRestartMidSync(t *testing.T) {
	a, b, connA, connB := connected(t)
	src := firstTask(t, a, connA.LocalProject)
	if _, err := a.Exalate(ctxFor(t), "", src.ID); err != nil {
		t.Fatal(err)
	}
	// Stop the source right after Preparing (whatever the send job had
	// done by then), and reopen the same files.
	a.stop()
	a.start(t, "Acme")
	waitSynchronized(t, a, src.ID)
	waitSynchronized(t, b, src.ID)
	if n := tasksNamed(t, b, connB.LocalProject, src.Summary); n != 1 {
		t.Errorf("the peer has %d copies of the task after the restart, want 1", n)
	}
	if err := a.Store().IntegrityCheck(ctxFor(t)); err != nil {
		t.Error(err)
	}
}

func TestDeactivatedConnectionQueuesAndReplays(t *testing.T) {
	a, b, connA, connB := connected(t)
	ctx := ctxFor(t)
	if _, err := a.SetActive(ctx, connA.ID, false); err != nil {
		t.Fatal(err)
	}
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil || len(ids) < 3 {
		t.Fatal(ids, err)
	}
	var queued []engine.StageEvent
	for _, id := range ids[:2] {
		ev, err := a.Exalate(ctx, "", id)
		if err != nil {
			t.Fatal(err)
		}
		queued = append(queued, ev)
	}
	var jobs int
	a.Store().DB().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'tandem_send'`).Scan(&jobs)
	if jobs != 0 {
		t.Errorf("%d sends were scheduled on a deactivated connection", jobs)
	}
	for _, ev := range queued {
		st, _ := a.EventStatus(ctx, connA.ID, ev.EventID)
		if st.Stage != engine.StageSending || st.Error != "" {
			t.Errorf("queued sync is %+v, want waiting at Sending", st.StageEvent)
		}
	}
	if _, err := a.SetActive(ctx, connA.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[:2] {
		waitSynchronized(t, a, id)
	}
	twins, _ := b.Store().CountTwins(ctx, connB.ID)
	if twins != 2 {
		t.Errorf("the peer has %d twins after the replay, want 2", twins)
	}

	// Deactivated on the receiving side: what arrives is stored, applied
	// only on activation.
	if _, err := b.SetActive(ctx, connB.ID, false); err != nil {
		t.Fatal(err)
	}
	third := ids[2]
	ev, err := a.Exalate(ctx, "", third)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the sync to wait for the deactivated remote", func() bool {
		st, _ := a.EventStatus(ctx, connA.ID, ev.EventID)
		return st.Stage == engine.StageWaiting
	})
	if n, _ := b.Store().CountTwins(ctx, connB.ID); n != 2 {
		t.Errorf("a deactivated side applied a sync: %d twins", n)
	}
	if _, err := b.SetActive(ctx, connB.ID, true); err != nil {
		t.Fatal(err)
	}
	waitSynchronized(t, a, third)
}

func TestLocalConnectionSyncs(t *testing.T) {
	a := startNode(t, "Acme", &clock{})
	ctx := ctxFor(t)
	c, err := a.Connect(ctx, engine.ConnectRequest{To: a.url, Project: "Company", DestProject: "Test"})
	if err != nil {
		t.Fatal(err)
	}
	src := firstTask(t, a, c.LocalProject)
	done := exalate(t, a, src.ID)
	dst, err := a.et().Get(ctx, done.RemoteKey)
	if err != nil {
		t.Fatal(err)
	}
	if dst.Project == src.Project || dst.Summary != src.Summary || len(dst.Comments) != len(src.Comments) {
		t.Errorf("the local twin: project %s (source %s), %q, %d comments", dst.Project, src.Project, dst.Summary, len(dst.Comments))
	}
	quiet(t, a)
	if got := sent(t, a); got != 1 {
		t.Errorf("%d replicas sent on a local connection for one exalate (echo between the two ends?)", got)
	}
}

// TestConflictLastWriterWinsAndKeepsTheLoser: both sides change the
// description while the connection is down; the later edit wins on both
// sides and the earlier text survives as a comment.
func TestConflictLastWriterWinsAndKeepsTheLoser(t *testing.T) {
	a, b, connA, _ := connected(t)
	ctx := ctxFor(t)
	src := firstTask(t, a, connA.LocalProject)
	twinKey := exalate(t, a, src.ID).RemoteKey
	quiet(t, a, b)

	if _, err := a.SetActive(ctx, connA.ID, false); err != nil {
		t.Fatal(err)
	}
	older := "<body>Acme's edit, made first</body>"
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Description: &older}); err != nil {
		t.Fatal(err)
	}
	// Acme notices its edit and queues it at Sending.
	eventually(t, "Acme to queue its edit", func() bool {
		var n int
		a.Store().DB().QueryRow(`SELECT count(*) FROM sync_events WHERE direction = 'out' AND stage = 'sending'`).Scan(&n)
		return n == 1
	})
	newer := "<body>Globex's edit, made later</body>"
	if _, err := b.et().Update(ctx, twinKey, engine.EntityUpdate{Description: &newer}); err != nil {
		t.Fatal(err)
	}
	// Globex's newer edit reaches Acme, which stores it without applying
	// it while deactivated; on activation each side gets the other's.
	eventually(t, "Globex's edit stored on Acme", func() bool {
		var n int
		a.Store().DB().QueryRow(`SELECT count(*) FROM sync_events WHERE direction = 'in' AND stage = 'waiting'`).Scan(&n)
		return n == 1
	})
	if _, err := a.SetActive(ctx, connA.ID, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Globex's edit on Acme", func() bool {
		e, err := a.et().Get(ctx, src.ID)
		return err == nil && e.Description == newer
	})
	quiet(t, a, b)

	onA, _ := a.et().Get(ctx, src.ID)
	onB, _ := b.et().Get(ctx, twinKey)
	if onA.Description != newer || onB.Description != newer {
		t.Errorf("after the conflict: Acme %q, Globex %q, want the later edit %q on both", onA.Description, onB.Description, newer)
	}
	if n := countContaining(onA.Comments, "Acme's edit, made first"); n != 1 {
		t.Errorf("the losing description is kept %d times on Acme, want once as a comment", n)
	}
	if n := countContaining(onB.Comments, "Acme's edit, made first"); n != 1 {
		t.Errorf("the kept description reached Globex %d times, want once", n)
	}
}

// TestDeletesAreRecordedNotPropagated: a twin deleted on one side is
// recorded on both and shown, the other side's item stays, and nothing is
// recreated or sent to it any more.
func TestDeletesAreRecordedNotPropagated(t *testing.T) {
	a, b, connA, connB := connected(t)
	ctx := ctxFor(t)
	src := firstTask(t, a, connA.LocalProject)
	twinKey := exalate(t, a, src.ID).RemoteKey
	quiet(t, a, b)

	if err := b.client.DeleteTask(ctx, twinKey); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Acme to learn its twin was deleted", func() bool {
		st, err := a.Status(ctx, "", src.ID)
		return err == nil && st.Deleted == "there"
	})
	if st, err := b.Status(ctx, "", twinKey); err != nil || st.Deleted != "here" {
		t.Errorf("Globex's status of the deleted twin: %+v, %v", st, err)
	}
	// Acme's item is untouched, and editing it sends nothing.
	sentBefore := sent(t, a)
	name := src.Summary + " (after the twin was deleted)"
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exalate(ctx, "", src.ID); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("exalating an item whose twin was deleted: err = %v, want a conflict that says so", err)
	}
	quiet(t, a, b)
	if got := sent(t, a) - sentBefore; got != 0 {
		t.Errorf("Acme sent %d replicas to a deleted twin", got)
	}
	if n := tasksNamed(t, b, connB.LocalProject, name); n != 0 {
		t.Errorf("the deleted twin was recreated %d times", n)
	}
	if _, err := a.et().Get(ctx, src.ID); err != nil {
		t.Errorf("Acme's item was deleted too: %v", err)
	}
}

// TestInterruptedWritesAreNotDoubled: the first create, comment and upload
// on the receiving side reach the tracker but report failure; the retry
// finds what they made and adopts it, so nothing appears twice. On Jira
// the create is found again through its search.
func TestInterruptedWritesAreNotDoubled(t *testing.T) { forEachPair(t, pairInterruptedWrites) }

func pairInterruptedWrites(t *testing.T, p trackerPair) {
	a := startNode(t, "Acme", &clock{})
	b := p.start(t, "Globex", &clock{}, func(n *testNode) { n.interrupt = true })
	ctx := ctxFor(t)
	c, err := a.Connect(ctx, engine.ConnectRequest{To: b.url, DestToken: b.token, DestProject: p.project, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	var src engine.Entity
	ids, _ := a.et().List(ctx, c.LocalProject)
	for _, id := range ids {
		if e, _ := a.et().Get(ctx, id); len(e.Comments) > 1 && len(e.Attachments) > 0 {
			src = e
			break
		}
	}
	if src.ID == "" {
		t.Fatal("no seeded task with comments and an attachment")
	}
	twinKey := exalate(t, a, src.ID).RemoteKey
	quiet(t, a, b)
	onB, err := b.Connections(ctx)
	if err != nil || len(onB) != 1 {
		t.Fatalf("Globex's connections: %v %v", onB, err)
	}
	if n := tasksNamed(t, b, onB[0].LocalProject, src.Summary); n != 1 {
		t.Errorf("%d copies of the task on Globex, want 1", n)
	}
	dst, err := b.et().Get(ctx, twinKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(dst.Comments) != len(src.Comments) || len(dst.Attachments) != len(src.Attachments) {
		t.Errorf("Globex has %d comments and %d attachments, want %d and %d",
			len(dst.Comments), len(dst.Attachments), len(src.Comments), len(src.Attachments))
	}
	if !strings.Contains(b.log.String(), "adopting the twin an interrupted create made") {
		t.Error("the interrupted create was not adopted")
	}
}
