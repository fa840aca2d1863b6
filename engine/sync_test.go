package engine_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// connected starts two nodes and connects Acme's Company project with
// Globex's Test project by invitation.
func connected(t *testing.T) (a, b *testNode, connA, connB engine.Connection) {
	t.Helper()
	return connectedAcmeWith(t)
}

// connectedAcmeWith is connected with opts applied to Acme's node only.
func connectedAcmeWith(t *testing.T, opts ...func(*testNode)) (a, b *testNode, connA, connB engine.Connection) {
	t.Helper()
	a, b = startNode(t, "Acme", &clock{}, opts...), startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if connB, err = b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	return a, b, connA, connB
}

// waitStages waits for a sync to reach Synchronized and returns every
// stage event it saw, failing on a deadline instead of sleeping.
func waitStages(t *testing.T, events <-chan engine.StageEvent, eventID string) []engine.StageEvent {
	t.Helper()
	var seen []engine.StageEvent
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			// On a local connection both ends publish here; follow the
			// source's side.
			// Progress reports of a long apply are not stage changes.
			if ev.EventID != eventID || ev.Direction != "out" || ev.Progress != nil {
				continue
			}
			seen = append(seen, ev)
			if ev.Stage == engine.StageSynchronized {
				return seen
			}
		case <-deadline:
			t.Fatalf("sync %s did not reach Synchronized; saw %+v", eventID, seen)
		}
	}
}

// exalate syncs ref from n and waits until it is Synchronized.
func exalate(t *testing.T, n *testNode, ref string) engine.StageEvent {
	t.Helper()
	events, stop := n.Subscribe()
	defer stop()
	first, err := n.Exalate(ctxFor(t), "", ref)
	if err != nil {
		t.Fatal(err)
	}
	seen := waitStages(t, events, first.EventID)
	var stages []string
	for _, ev := range seen {
		stages = append(stages, ev.Stage)
	}
	// Stage events arrive in order, each once, ending at Synchronized.
	if want := engine.Stages(); !slices.Equal(stages, want) {
		t.Errorf("stage events: %v, want %v", stages, want)
	}
	return seen[len(seen)-1]
}

func TestExalateCopiesEverythingOnce(t *testing.T) {
	a, b, connA, _ := connected(t)
	ctx := ctxFor(t)
	et := a.et()
	// The seeded Company task with the most comments and an attachment.
	ids, err := et.List(ctx, connA.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	var src engine.Entity
	for _, id := range ids {
		e, err := et.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Attachments) > 0 && len(e.Comments) > len(src.Comments) {
			src = e
		}
	}
	if src.ID == "" {
		t.Fatal("no seeded task with comments and attachments")
	}
	// A second, larger attachment, so more than one file and more than a
	// few bytes travel.
	big := bytes.Repeat([]byte("tandem "), 200_000)
	if _, err := et.AddAttachment(ctx, src.ID, "second.bin", int64(len(big)), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(big)), nil
	}); err != nil {
		t.Fatal(err)
	}
	if src, err = et.Get(ctx, src.ID); err != nil {
		t.Fatal(err)
	}

	done := exalate(t, a, src.URL)
	if done.RemoteKey == "" || done.RemoteURL == "" || done.LocalURL != src.URL {
		t.Errorf("the Synchronized event lacks both links: %+v", done)
	}
	st, err := a.Status(ctx, "", src.ID)
	if err != nil || st.Stage != engine.StageSynchronized || len(st.Stages) != 5 {
		t.Errorf("status: %+v, %v", st, err)
	}

	dst, err := b.et().Get(ctx, done.RemoteKey)
	if err != nil {
		t.Fatal(err)
	}
	if dst.Summary != src.Summary || dst.Description != src.Description || dst.Type != src.Type {
		t.Errorf("twin fields: %q %q %q, want %q %q %q", dst.Summary, dst.Type, dst.Description, src.Summary, src.Type, src.Description)
	}
	if len(dst.Comments) != len(src.Comments) {
		t.Fatalf("twin has %d comments, want %d", len(dst.Comments), len(src.Comments))
	}
	for i, c := range src.Comments {
		inner := strings.TrimSuffix(strings.TrimPrefix(c.Body, "<body>"), "</body>")
		if !strings.Contains(dst.Comments[i].Body, inner) || !strings.Contains(dst.Comments[i].Body, c.Author) ||
			!strings.Contains(dst.Comments[i].Body, "Acme") {
			t.Errorf("comment %d: %q, want %q by %s from Acme", i, dst.Comments[i].Body, c.Body, c.Author)
		}
	}
	if len(dst.Attachments) != len(src.Attachments) {
		t.Fatalf("twin has %d attachments, want %d", len(dst.Attachments), len(src.Attachments))
	}
	for i, att := range src.Attachments {
		if got, want := sum(t, b, dst.Attachments[i].ID), sum(t, a, att.ID); got != want || dst.Attachments[i].Name != att.Name {
			t.Errorf("attachment %q: bytes or name differ", att.Name)
		}
	}

	// Syncing again with no change sends nothing new and duplicates nothing.
	exalate(t, a, src.ID)
	again, _ := b.et().Get(ctx, done.RemoteKey)
	if len(again.Comments) != len(src.Comments) || len(again.Attachments) != len(src.Attachments) {
		t.Errorf("a second sync duplicated: %d comments, %d attachments", len(again.Comments), len(again.Attachments))
	}
}

func sum(t *testing.T, n *testNode, attachmentID string) [32]byte {
	t.Helper()
	rc, _, err := n.et().OpenAttachment(ctxFor(t), attachmentID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, rc); err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(buf.Bytes())
}

// sent counts the replicas a node has sent.
func sent(t *testing.T, n *testNode) int {
	t.Helper()
	var count int
	if err := n.Store().DB().QueryRow(`SELECT count(*) FROM sync_events WHERE direction = 'out'`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	return count
}

// eventually polls cond every few milliseconds until it holds, failing
// at a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// quiet waits until both nodes have run several rounds of change detection
// after every sync was done, so anything that would echo has had its chance.
func quiet(t *testing.T, nodes ...*testNode) {
	t.Helper()
	for _, n := range nodes {
		eventually(t, "syncs to finish", func() bool {
			var busy int
			n.Store().DB().QueryRow(`SELECT count(*) FROM sync_events WHERE stage != 'synchronized'`).Scan(&busy)
			return busy == 0
		})
	}
	since := time.Now()
	for _, n := range nodes {
		eventually(t, "three detection rounds", func() bool {
			var rounds int
			n.Store().DB().QueryRow(`SELECT count(*) FROM detect_cursors WHERE checked_at > ?`,
				since.Add(150*time.Millisecond).UTC().Format("2006-01-02T15:04:05.000000000Z")).Scan(&rounds)
			return rounds > 0
		})
	}
}

func countContaining(cs []engine.Comment, s string) int {
	n := 0
	for _, c := range cs {
		if strings.Contains(c.Body, s) {
			n++
		}
	}
	return n
}

func TestEditsSyncBothWaysWithoutEcho(t *testing.T) {
	a, b, connA, _ := connected(t)
	ctx := ctxFor(t)
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	src, err := a.et().Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, src.ID)
	twinID := done.RemoteKey
	quiet(t, a, b)
	sentA, sentB := sent(t, a), sent(t, b)

	// A user renames the task on Acme: it reaches Globex on its own.
	name := src.Summary + " (renamed on Acme)"
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &name}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rename on Globex", func() bool {
		e, err := b.et().Get(ctx, twinID)
		return err == nil && e.Summary == name
	})

	// A user comments on Globex: it reaches Acme exactly once.
	if _, err := b.et().AddComment(ctx, twinID, "<body>Reply from Globex</body>"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the comment on Acme", func() bool {
		e, err := a.et().Get(ctx, src.ID)
		return err == nil && countContaining(e.Comments, "Reply from Globex") > 0
	})
	quiet(t, a, b)

	onA, _ := a.et().Get(ctx, src.ID)
	onB, _ := b.et().Get(ctx, twinID)
	if n := countContaining(onA.Comments, "Reply from Globex"); n != 1 {
		t.Errorf("the comment is on Acme %d times", n)
	}
	if n := countContaining(onB.Comments, "Reply from Globex"); n != 1 {
		t.Errorf("the comment is on Globex %d times (echoed back?)", n)
	}
	if onA.Summary != name || onB.Summary != name || len(onA.Comments) != len(onB.Comments) {
		t.Errorf("after quiescence: Acme %q with %d comments, Globex %q with %d", onA.Summary, len(onA.Comments), onB.Summary, len(onB.Comments))
	}
	// One replica per user edit, none for what the sync itself wrote.
	if got := sent(t, a) - sentA; got != 1 {
		t.Errorf("Acme sent %d replicas for one edit", got)
	}
	if got := sent(t, b) - sentB; got != 1 {
		t.Errorf("Globex sent %d replicas for one edit", got)
	}
}

func TestTypeFallsBackToTheDestinationsDefault(t *testing.T) {
	a := startNode(t, "Acme", &clock{})
	b := startNode(t, "Globex", &clock{})
	// Globex's tracker knows only tasks: a milestone becomes a task there.
	b.onlyTypes = []string{"default_task"}
	b.stop()
	b.start(t, "Globex")
	ctx := ctxFor(t)
	c, err := a.Connect(ctx, engine.ConnectRequest{To: b.url, DestToken: b.token, DestProject: "Test", Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	milestone, err := a.et().Create(ctx, engine.NewEntity{Project: c.LocalProject, Type: "milestone", Summary: "Launch day"})
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, milestone.ID)
	dst, err := b.et().Get(ctx, done.RemoteKey)
	if err != nil {
		t.Fatal(err)
	}
	if dst.Type != "default_task" {
		t.Errorf("a milestone arrived as %q, want the default type", dst.Type)
	}
	// The fallback is not a change on Globex: nothing comes back to Acme.
	quiet(t, a, b)
	if e, _ := a.et().Get(ctx, milestone.ID); e.Type != "milestone" {
		t.Errorf("the source's type became %q", e.Type)
	}
	if got := sent(t, b); got != 0 {
		t.Errorf("Globex sent %d replicas after a fallback", got)
	}
}

func TestBulkExalateAndTheTrigger(t *testing.T) {
	a, b, connA, connB := connected(t)
	ctx := ctxFor(t)
	started, err := a.ExalateAll(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := a.et().List(ctx, connA.LocalProject)
	if started.Started != len(ids) || len(started.Events) != len(ids) {
		t.Fatalf("bulk exalate started %d syncs (%d listed) for %d tasks", started.Started, len(started.Events), len(ids))
	}
	for _, id := range ids {
		waitSynchronized(t, a, id)
	}
	if n, _ := b.Store().CountTwins(ctx, connB.ID); n != len(ids) {
		t.Errorf("%d twins on Globex after bulk exalate of %d tasks", n, len(ids))
	}

	// With the trigger on, a task created in the project syncs by itself.
	if _, err := a.SetTrigger(ctx, connA.ID, true); err != nil {
		t.Fatal(err)
	}
	fresh, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Brand new task"})
	if err != nil {
		t.Fatal(err)
	}
	waitSynchronized(t, a, fresh.ID)
	quiet(t, a, b)
	if n := tasksNamed(t, b, connB.LocalProject, "Brand new task"); n != 1 {
		t.Errorf("the new task is on Globex %d times", n)
	}
}

func TestEditedCommentUpdatesItsTwin(t *testing.T) {
	a, b, connA, _ := connected(t)
	ctx := ctxFor(t)
	src := firstTask(t, a, connA.LocalProject)
	mine, err := a.et().AddComment(ctx, src.ID, "<body>First draft of a comment</body>")
	if err != nil {
		t.Fatal(err)
	}
	twinKey := exalate(t, a, src.ID).RemoteKey
	quiet(t, a, b)
	if _, err := a.et().EditComment(ctx, mine.ID, "<body>Edited comment, second thoughts</body>"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edit on Globex", func() bool {
		e, err := b.et().Get(ctx, twinKey)
		return err == nil && countContaining(e.Comments, "Edited comment, second thoughts") == 1
	})
	quiet(t, a, b)
	onB, _ := b.et().Get(ctx, twinKey)
	if n := countContaining(onB.Comments, "First draft"); n != 0 {
		t.Errorf("the old text is still on Globex %d times: the edit made a new comment instead of updating its twin", n)
	}
	onA, _ := a.et().Get(ctx, src.ID)
	if len(onA.Comments) != len(onB.Comments) {
		t.Errorf("Acme has %d comments, Globex %d", len(onA.Comments), len(onB.Comments))
	}
}

func firstTaskOf(t *testing.T, n *testNode, project string) engine.Entity {
	return firstTask(t, n, project)
}

// An edited comment whose copy was deleted on the other side is reported
// as not applied; the twin is not taken for deleted, and goes on syncing.
func TestEditOfACommentDeletedOnTheOtherSide(t *testing.T) {
	a, b, connA, _ := connected(t)
	ctx := ctxFor(t)
	src := firstTask(t, a, connA.LocalProject)
	mine, err := a.et().AddComment(ctx, src.ID, "<body>A comment Globex will delete</body>")
	if err != nil {
		t.Fatal(err)
	}
	twinKey := exalate(t, a, src.ID).RemoteKey
	quiet(t, a, b)
	onB, err := b.et().Get(ctx, twinKey)
	if err != nil {
		t.Fatal(err)
	}
	var copyID string
	for _, c := range onB.Comments {
		if strings.Contains(c.Body, "Globex will delete") {
			copyID = c.ID
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, b.asanaURL+"/stories/"+copyID, nil)
	req.Header.Set("Authorization", "Bearer "+b.sb.Token())
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("deleting the copy %s on Globex: %v %v", copyID, resp, err)
	}
	if _, err := a.et().EditComment(ctx, mine.ID, "<body>A comment Globex deleted, edited</body>"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edit's sync to finish", func() bool {
		st, err := a.Status(ctx, "", src.ID)
		return err == nil && st.Stage == engine.StageSynchronized && len(st.Skipped) == 1 && strings.Contains(st.Skipped[0], "was deleted there")
	})
	if st, err := a.Status(ctx, "", src.ID); err != nil || st.Deleted != "" {
		t.Errorf("after the edit: deleted %q (%v); the task was not deleted", st.Deleted, err)
	}
	renamed := src.Summary + " (renamed)"
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &renamed}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rename on Globex", func() bool {
		e, err := b.et().Get(ctx, twinKey)
		return err == nil && e.Summary == renamed
	})
	quiet(t, a, b)
	if onB, _ := b.et().Get(ctx, twinKey); countContaining(onB.Comments, "Globex deleted") != 0 {
		t.Errorf("the deleted copy came back: %+v", onB.Comments)
	}
}
