package engine_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// Scripts mapping Asana's completed to Jira's workflow status and back,
// besides what Basic syncs.
const (
	asanaOut = `
def outgoing(item, replica):
    replica.summary = item.summary
    replica.completed = item.completed
    merge_comments(item, replica)
`
	asanaIn = `
def incoming(item, replica, previous, first_sync):
    if replica.changed("summary"):
        item.summary = replica.summary
    if replica.changed("completed"):
        item.completed = replica.completed
    merge_comments(item, replica)
`
	jiraOut = `
def outgoing(item, replica):
    replica.summary = item.summary
    replica.completed = item.status == "Done"
    merge_comments(item, replica)
`
	jiraIn = `
def incoming(item, replica, previous, first_sync):
    if replica.changed("summary"):
        item.summary = replica.summary
    if replica.changed("completed"):
        item.status = "Done" if replica.completed else "To Do"
    merge_comments(item, replica)
`
)

// publish saves scripts as a connection's draft and publishes them.
func publish(t *testing.T, n *testNode, connID, out, in string) adminapi.ScriptVersion {
	t.Helper()
	ctx := ctxFor(t)
	sc, err := n.SaveDraft(ctx, connID, adminapi.DraftRequest{Outgoing: out, Incoming: in})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.DraftErrors) > 0 {
		t.Fatalf("the draft does not compile: %v", sc.DraftErrors)
	}
	v, err := n.Publish(ctx, connID, adminapi.PublishRequest{Note: "status mapping"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestScriptModeMapsStatus: upgraded to Script mode on both sides, with
// scripts of their own, an Asana task completed moves its Jira twin to
// Done and back to To Do when reopened, and a Jira issue moved to Done
// completes its Asana twin; each sync records the version it ran under.
func TestScriptModeMapsStatus(t *testing.T) {
	p := pairOf(t, "jira")
	a, b, connA, connB := connectedPair(t, p.start, p.project)
	ctx := ctxFor(t)
	for _, side := range []struct {
		n  *testNode
		id string
	}{{a, connA.ID}, {b, connB.ID}} {
		sc, err := side.n.Upgrade(ctx, side.id)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Published != 1 || sc.DraftDiffers || sc.Mode != engine.ModeScript {
			t.Fatalf("upgraded: %+v, want version 1 in force and a draft equal to it", sc)
		}
		if _, err := side.n.Upgrade(ctx, side.id); !errors.Is(err, engine.ErrBadRequest) {
			t.Errorf("a second upgrade: %v, want a bad request", err)
		}
	}
	if v := publish(t, a, connA.ID, asanaOut, asanaIn); v.Version != 2 {
		t.Errorf("Acme published version %d, want 2", v.Version)
	}
	publish(t, b, connB.ID, jiraOut, jiraIn)

	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Ship the installer"})
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, src.URL)
	twin := read(t, b, done.RemoteKey)
	if twin.Summary != "Ship the installer" || twin.Status != "To Do" {
		t.Fatalf("twin: %q in %q, want the summary in To Do", twin.Summary, twin.Status)
	}
	hist, err := a.ItemHistory(ctx, connA.ID, src.ID, 5)
	if err != nil || len(hist.Syncs) == 0 || hist.Syncs[0].RulesVersion != "script v2" {
		t.Errorf("Acme's history of the task: %+v (%v), want its sync under script v2", hist.Syncs, err)
	}
	if st, err := a.EventStatus(ctx, connA.ID, done.EventID); err != nil || st.RulesVersion != "script v2" {
		t.Errorf("Acme's status of the sync: rules %q (%v), want script v2", st.RulesVersion, err)
	}

	yes, no := true, false
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Completed: &yes}}); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "the Jira twin in Done", func() bool { return read(t, b, twin.ID).Status == "Done" })
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Completed: &no}}); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "the Jira twin back in To Do", func() bool { return read(t, b, twin.ID).Status == "To Do" })

	done2 := "Done"
	if _, err := b.et().Update(ctx, twin.ID, engine.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Status: &done2}}); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "the Asana task completed", func() bool { return read(t, a, src.ID).Completed })
	settledWithoutEcho(t, a, b)
	if e := read(t, b, twin.ID); e.Status != "Done" || e.Summary != "Ship the installer" {
		t.Errorf("the Jira twin after settling: %q in %q", e.Summary, e.Status)
	}

	// A test run of an incoming draft on Globex sees the last replica it
	// received (the reopening) and the one before it (the completion).
	peek := "def incoming(item, replica, previous, first_sync):\n    print(\"previous\", previous.completed, \"now\", replica.completed)\n"
	if _, err := b.SaveDraft(ctx, connB.ID, adminapi.DraftRequest{Outgoing: jiraOut, Incoming: peek}); err != nil {
		t.Fatal(err)
	}
	run, err := b.TestRun(ctx, connB.ID, adminapi.TestRunRequest{Ref: twin.Key, Direction: adminapi.TestIncoming})
	if err != nil || run.Error != "" || !strings.Contains(run.Log, "previous True now False") {
		t.Errorf("incoming test run: %+v (%v), want the reopening seen after the completion", run, err)
	}
}

// TestScriptDraftPublishCompareTestRun: a draft that does not compile is
// kept with its error and line but can't be published; compare shows the
// draft against the version in force; a test run shows the replica and
// what the script printed, and writes nothing.
func TestScriptDraftPublishCompareTestRun(t *testing.T) {
	a, _, connA, _ := connectedPair(t, startNode, "Test")
	ctx := ctxFor(t)
	if _, err := a.Scripts(ctx, connA.ID); !errors.Is(err, engine.ErrBadRequest) || !strings.Contains(err.Error(), "tandem upgrade") {
		t.Errorf("scripts of a Basic connection: %v, want a bad request saying to upgrade", err)
	}
	if _, err := a.Upgrade(ctx, connA.ID); err != nil {
		t.Fatal(err)
	}
	sc, err := a.Scripts(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	broken := sc.Outgoing + "\ndef oops(:\n"
	saved, err := a.SaveDraft(ctx, connA.ID, adminapi.DraftRequest{Outgoing: broken, Incoming: sc.Incoming})
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Count(sc.Outgoing, "\n") + 2
	if len(saved.DraftErrors) != 1 || !strings.HasPrefix(saved.DraftErrors[0], fmt.Sprintf("outgoing.star:%d:", line)) || !saved.DraftDiffers {
		t.Errorf("draft errors %q, want one at outgoing.star:%d", saved.DraftErrors, line)
	}
	if _, err := a.Publish(ctx, connA.ID, adminapi.PublishRequest{}); !errors.Is(err, engine.ErrBadRequest) {
		t.Errorf("publishing a broken draft: %v, want refused", err)
	}
	printing := strings.Replace(sc.Outgoing, "def outgoing(item, replica):\n", "def outgoing(item, replica):\n    print(\"sending\", item.summary)\n", 1)
	if printing == sc.Outgoing {
		t.Fatalf("the Basic outgoing script has no def line to add to:\n%s", sc.Outgoing)
	}
	if _, err := a.SaveDraft(ctx, connA.ID, adminapi.DraftRequest{Outgoing: printing, Incoming: sc.Incoming}); err != nil {
		t.Fatal(err)
	}
	d, err := a.CompareScripts(ctx, connA.ID, 1, adminapi.DraftVersion)
	if err != nil || !strings.Contains(d.Outgoing, `+    print("sending", item.summary)`) || d.Incoming != "" {
		t.Errorf("compare v1 with the draft: %+v (%v), want the print line added to outgoing only", d, err)
	}
	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Try the draft"})
	if err != nil {
		t.Fatal(err)
	}
	before := a.sbAnswers.writes()
	run, err := a.TestRun(ctx, connA.ID, adminapi.TestRunRequest{Ref: src.ID, Direction: adminapi.TestOutgoing})
	if err != nil || run.Error != "" {
		t.Fatalf("test run: %+v (%v)", run, err)
	}
	if !strings.Contains(run.Log, "sending Try the draft") || !strings.Contains(run.Replica, `"summary": "Try the draft"`) {
		t.Errorf("test run log %q, replica %s; want the print and the summary", run.Log, run.Replica)
	}
	if writes := a.sbAnswers.writes() - before; writes != 0 {
		t.Errorf("the test run made %d writing calls to the tracker, want none", writes)
	}
	if v, err := a.Publish(ctx, connA.ID, adminapi.PublishRequest{Note: "print"}); err != nil || v.Version != 2 {
		t.Errorf("publish: %+v (%v), want version 2", v, err)
	}
	vs, err := a.ScriptVersions(ctx, connA.ID)
	if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[0].Note != "print" {
		t.Errorf("versions %+v (%v), want 2 then 1", vs, err)
	}

	// An incoming run on a replica given as JSON (none was received for
	// the item): the changes it would make, nothing written.
	if _, err := a.TestRun(ctx, connA.ID, adminapi.TestRunRequest{Ref: src.ID, Direction: adminapi.TestIncoming}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("an incoming run with no replica received: %v, want not found", err)
	}
	given := `{"id": "r1", "key": "KAN-9", "summary": "From a file", "set": ["summary"]}`
	before = a.sbAnswers.writes()
	run, err = a.TestRun(ctx, connA.ID, adminapi.TestRunRequest{Ref: src.ID, Direction: adminapi.TestIncoming, Replica: given})
	if err != nil || run.Error != "" || !slices.Contains(run.Changes, `summary → "From a file"`) {
		t.Errorf("an incoming run on a given replica: %+v (%v), want the summary change", run, err)
	}
	if writes := a.sbAnswers.writes() - before; writes != 0 {
		t.Errorf("the incoming test run made %d writing calls, want none", writes)
	}
	if _, err := a.TestRun(ctx, connA.ID, adminapi.TestRunRequest{Ref: src.ID, Direction: adminapi.TestIncoming, Replica: "{"}); !errors.Is(err, engine.ErrBadRequest) {
		t.Errorf("a replica that is not JSON: %v, want a bad request", err)
	}
}

// TestScriptTriggerAndBudget: on a Script mode connection, the outgoing
// script's trigger decides which new items sync (only those labelled
// "partner"), and an incoming script that loops fails that sync at
// Waiting for remote within its step budget, and an outgoing script that
// fails on an item holds up that item alone, while the nodes go on
// syncing the others.
func TestScriptTriggerAndBudget(t *testing.T) {
	p := inScriptMode(pairOf(t, "jira"))
	a, b, connA, connB := connectedPair(t, p.start, p.project)
	ctx := ctxFor(t)
	scB, err := b.Scripts(ctx, connB.ID)
	if err != nil {
		t.Fatal(err)
	}
	defOut := "def outgoing(item, replica):\n"
	failing := strings.Replace(scB.Outgoing, defOut, defOut+"    if \"boom\" in item.summary:\n        replica.summary = 1 // 0\n", 1)
	publish(t, b, connB.ID, failing+"\ndef trigger(item):\n    return \"partner\" in item.labels\n", scB.Incoming)
	scA, err := a.Scripts(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	def := "def incoming(item, replica, previous, first_sync):\n"
	looping := strings.Replace(scA.Incoming, def, def+"    if \"loop\" in replica.summary:\n        while True:\n            pass\n", 1)
	if looping == scA.Incoming {
		t.Fatalf("no def line in the Basic incoming script:\n%s", scA.Incoming)
	}
	publish(t, a, connA.ID, scA.Outgoing, looping)

	partner := []string{"partner"}
	create := func(summary string, labels []string) {
		t.Helper()
		e, err := b.et().Create(ctx, engine.NewEntity{Project: connB.LocalProject, Summary: summary})
		if err != nil {
			t.Fatal(err)
		}
		if labels != nil {
			if _, err := b.et().Update(ctx, e.ID, engine.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Labels: &labels}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	create("Internal only", nil)
	create("Partner loop", partner)
	create("Partner boom", partner)
	create("For the partner", partner)

	countOnAcme := func(summary string) int {
		ids, err := a.et().List(ctx, connA.LocalProject)
		if err != nil {
			t.Fatal(err)
		}
		return countSummaries(t, a, ids, summary)
	}
	within(t, 30*time.Second, "the partner issue on Acme", func() bool { return countOnAcme("For the partner") == 1 })
	within(t, 30*time.Second, "the looping sync failing on Acme", func() bool {
		var failed int
		err := a.Store().DB().QueryRow(`SELECT count(*) FROM stage_log WHERE stage = ? AND error LIKE '%incoming.star:%budget%'`,
			engine.StageWaiting).Scan(&failed)
		if err != nil {
			t.Fatal(err)
		}
		return failed > 0
	})
	errs, err := a.Errors(ctx, connA.ID, 0)
	if err != nil || errs.Total == 0 || errs.Errors[0].RulesVersion != "script v2" || !strings.Contains(errs.Errors[0].Error, "incoming.star:") {
		t.Errorf("Acme's failing syncs: %+v (%v), want the looping one under script v2 with its script's line", errs, err)
	}
	if n := countOnAcme("Partner loop"); n != 0 {
		t.Errorf("%d copies of the looping item on Acme, want none", n)
	}
	if n := countOnAcme("Partner boom"); n != 0 {
		t.Errorf("%d copies of the item the outgoing script fails on, want none", n)
	}
	if !strings.Contains(b.log.String(), "outgoing.star:") {
		t.Errorf("Globex's log does not name the failing script's line:\n%s", b.log.String())
	}
	if n := countOnAcme("Internal only"); n != 0 {
		t.Errorf("the unlabelled issue synced (%d copies): the trigger should have kept it", n)
	}
}

// Scripts mapping the fields beyond Basic between Asana and Jira:
// assignee (by e-mail), due date, priority (Jira's five onto Asana's
// "Priority" enum of three) and Asana's tags onto Jira's labels.
const (
	fieldsAsanaOut = `
def outgoing(item, replica):
    replica.summary = item.summary
    replica.assignee = item.assignee
    replica.due_date = item.due_date
    replica.priority = item.priority
    replica.labels = item.labels
`
	fieldsAsanaIn = `
def incoming(item, replica, previous, first_sync):
    if replica.changed("assignee"):
        item.assignee = user_by_email(replica.assignee.email) if replica.assignee else None
    if replica.changed("due_date"):
        item.due_date = replica.due_date
    if replica.changed("priority"):
        item.priority = map_value(replica.priority, {"Highest": "High", "Lowest": "Low"}, default=replica.priority)
`
	fieldsJiraOut = `
def outgoing(item, replica):
    replica.summary = item.summary
    replica.assignee = item.assignee
    replica.due_date = item.due_date
    replica.priority = item.priority
`
	fieldsJiraIn = `
def incoming(item, replica, previous, first_sync):
    if replica.changed("summary"):
        item.summary = replica.summary
    if replica.changed("assignee"):
        item.assignee = replica.assignee
    if replica.changed("due_date"):
        item.due_date = replica.due_date
    if replica.changed("priority"):
        item.priority = replica.priority
    if replica.changed("labels"):
        item.labels = replica.labels
`
)

// TestScriptModeMapsFieldsBeyondBasic: assignee by e-mail both ways (one
// the other side has no user for leaves the twin unassigned, and the sync
// says so), due date both ways, priority onto an Asana enum custom field
// and back, and Asana's tags onto Jira's labels.
func TestScriptModeMapsFieldsBeyondBasic(t *testing.T) {
	p := inScriptMode(pairOf(t, "jira"))
	a, b, connA, connB := connectedPair(t, p.start, p.project)
	ctx := ctxFor(t)
	publish(t, a, connA.ID, fieldsAsanaOut, fieldsAsanaIn)
	publish(t, b, connB.ID, fieldsJiraOut, fieldsJiraIn)

	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	var src engine.Entity
	for _, id := range ids {
		if e := read(t, a, id); e.Summary == "Q3 campaign brief" {
			src = e
		}
	}
	if src.ID == "" || src.Priority != "High" || !slices.Contains(src.Labels, "partner") {
		t.Fatalf("the seeded task: %+v, want Q3 campaign brief, High, tagged partner", src.Fields)
	}
	priya, due := "priya@acme.example", "2026-12-24"
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Assignee: &priya, DueDate: &due}}); err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, src.URL)
	twin := read(t, b, done.RemoteKey)
	if twin.Assignee == nil || twin.Assignee.Email != priya || twin.DueDate != due || twin.Priority != "High" || !slices.Equal(twin.Labels, src.Labels) {
		t.Fatalf("the Jira twin: assignee %+v, due %q, priority %q, labels %v; want %s, %s, High, %v",
			twin.Assignee, twin.DueDate, twin.Priority, twin.Labels, priya, due, src.Labels)
	}

	// Marcus has no Jira user: the twin is left unassigned, and the sync
	// says why.
	marcus := "marcus@acme.example"
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Assignee: &marcus}}); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "the Jira twin unassigned", func() bool { return read(t, b, twin.ID).Assignee == nil })
	within(t, 30*time.Second, "the note on Acme's sync", func() bool {
		evs, err := a.RecentEvents(ctx, connA.ID, 5)
		if err != nil || len(evs) == 0 {
			return false
		}
		st, err := a.EventStatus(ctx, connA.ID, evs[0].EventID)
		return err == nil && slices.ContainsFunc(st.Notes, func(n string) bool {
			return strings.Contains(n, marcus) && strings.Contains(n, "left unassigned")
		})
	})

	// Jira's edits reach Asana: Lowest becomes Low there.
	alex, lowest, later := "alex@acme.example", "Lowest", "2027-01-15"
	if _, err := b.et().Update(ctx, twin.ID, engine.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Assignee: &alex, Priority: &lowest, DueDate: &later}}); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "Jira's edits on the Asana task", func() bool {
		e := read(t, a, src.ID)
		return e.Assignee != nil && e.Assignee.Email == alex && e.Priority == "Low" && e.DueDate == later
	})
	settledWithoutEcho(t, a, b)
	if e := read(t, b, twin.ID); e.Priority != "Lowest" {
		t.Errorf("the Jira twin's priority after settling: %q, want Lowest (Asana's Low must not come back as Low)", e.Priority)
	}
}

// TestScriptErrorRetriedAfterTheFix: an incoming script asking Jira for a
// status its workflow can't reach from where the issue is fails the sync
// at Waiting for remote with Jira's "no transition" error, listed in
// Errors; once a fixed version is published, retrying the sync runs it
// and the twin reaches its status.
func TestScriptErrorRetriedAfterTheFix(t *testing.T) {
	p := inScriptMode(pairOf(t, "jira"))
	a, b, connA, connB := connectedPair(t, p.start, p.project)
	ctx := ctxFor(t)
	publish(t, a, connA.ID, asanaOut, asanaIn)
	// KAN's workflow reaches In Review only from In Progress.
	publish(t, b, connB.ID, jiraOut, strings.Replace(jiraIn, `"Done" if`, `"In Review" if`, 1))

	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Review the copy"})
	if err != nil {
		t.Fatal(err)
	}
	twin := read(t, b, exalate(t, a, src.URL).RemoteKey)
	yes := true
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Completed: &yes}}); err != nil {
		t.Fatal(err)
	}
	var failed adminapi.SyncError
	within(t, 30*time.Second, "the failing sync in Globex's errors", func() bool {
		errs, err := b.Errors(ctx, connB.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs.Errors {
			if e.Stage == engine.StageWaiting && strings.Contains(e.Error, "no transition from To Do to In Review") {
				failed = e
				return true
			}
		}
		return false
	})
	if got := read(t, b, twin.ID).Status; got != "To Do" {
		t.Fatalf("the twin moved to %q while its sync failed", got)
	}
	publish(t, b, connB.ID, jiraOut, jiraIn) // In Review → Done
	if _, err := b.Retry(ctx, connB.ID, failed.EventID); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "the twin in Done after the retry", func() bool { return read(t, b, twin.ID).Status == "Done" })
	within(t, 30*time.Second, "Globex's errors empty", func() bool {
		errs, err := b.Errors(ctx, connB.ID, 10)
		return err == nil && errs.Total == 0
	})
}
