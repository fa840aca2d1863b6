package tui

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/jira"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/internal/demo"
)

// TestFlowScriptMode is Script mode as an admin meets it in the demo, at
// 80×24: Acme (Asana) upgrades its Basic connection to Globex (Jira) on
// the Rules tab, maps Asana's completed to the replica's status with "+
// Add mapping", test-runs the draft on a task and sees the status in the
// replica, and publishes it. With Globex's incoming script applying the
// status, completing the task on Asana moves its Jira twin to Done, a
// sync that ran under the published version.
func TestFlowScriptMode(t *testing.T) {
	f := startFlowWith(t, demo.Mixed, nil, func(n *demo.Node) Node { return n.Node.Admin() })
	a, b := f.nodes[0], f.nodes[1]
	ctx := context.Background()
	conn, err := a.Connect(ctx, engine.ConnectRequest{To: b.URL, DestToken: b.AdminToken, DestProject: b.Project, Project: a.Project})
	if err != nil {
		t.Fatal(err)
	}
	onAsana, onJira := asana.NewTracker(a.Client, ""), jira.NewTracker(b.JiraClient, "")
	if _, err := onAsana.Check(ctx); err != nil {
		t.Fatal(err)
	}
	task, err := onAsana.Create(ctx, engine.NewEntity{Project: conn.LocalProject, Summary: "Launch webinar"})
	if err != nil {
		t.Fatal(err)
	}

	// Acme: the connection's Rules tab, then the upgrade, asked first.
	f.mark()
	f.typ("r")
	f.waitFor(conn.Name, "Basic")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Recent syncs")
	f.mark()
	f.send(tea.KeyRight)
	f.waitFor("Basic mode rules cannot be edited.", "u upgrades this side to Script mode")
	f.mark()
	f.typ("u")
	f.waitFor("to Script mode on this side?", "the other side is not changed. y/n")
	f.mark()
	f.typ("y")
	f.waitFor("Script mode · version 1 in force · the draft is the same", "✓ Upgraded: version 1", "def outgoing(item, replica):")

	// + Add mapping: this side's completed → the other side's status.
	f.mark()
	f.typ("+")
	f.waitFor("Add a mapping to the draft of "+conn.Name, "This side's field")
	f.send(tea.KeyRight, tea.KeyTab, tea.KeyTab, tea.KeyTab)
	f.mark()
	f.typ("true=Done, false=To Do")
	f.waitFor(`replica.status = map_value(item.completed, {True: "Done", False: "To Do"})`)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("✓ Added to the draft's outgoing.star")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("the draft differs (c compares, p publishes)")

	// A test run on the task: the replica carries its status.
	f.mark()
	f.typ("t")
	f.waitFor("Run the draft on one of", "Launch webinar")
	f.typ("Launch")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("The draft's outgoing script on "+task.Key, "nothing was written", "Replica it would send", `"status": "To Do"`)
	f.mark()
	f.send(tea.KeyEsc, tea.KeyEsc)
	f.waitFor("the draft differs")

	// Publish: the diff, then y.
	f.mark()
	f.typ("p")
	f.waitFor("+++ draft/outgoing.star", "Publish the draft as version 2? Syncs from now on run it. y/n")
	f.mark()
	f.typ("y")
	f.waitFor("✓ Published version 2")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("version 2 in force · the draft is the same")
	sc, err := a.Scripts(ctx, conn.ID)
	if err != nil || sc.Published != 2 || !strings.Contains(sc.Outgoing, `    replica.status = map_value(item.completed, {True: "Done", False: "To Do"})`) {
		t.Fatalf("Acme's scripts after publishing in the console: %+v (%v)", sc, err)
	}

	// Globex applies the status it receives.
	conns, err := b.Connections(ctx)
	if err != nil || len(conns) != 1 {
		t.Fatalf("Globex's connections: %v %v", conns, err)
	}
	up, err := b.Upgrade(ctx, conns[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	in, err := appendToFunction(up.Incoming, "incoming", mapping{here: "status", there: "status", incoming: true}.code())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.SaveDraft(ctx, conns[0].ID, adminapi.DraftRequest{Outgoing: up.Outgoing, Incoming: in}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, conns[0].ID, adminapi.PublishRequest{}); err != nil {
		t.Fatal(err)
	}

	// The task's first sync, from the Scope tab; then it is completed on
	// Asana, and the sync that follows moves the Jira twin to Done.
	f.mark()
	f.send(tea.KeyLeft)
	f.typ("s")
	f.waitFor("Sync one item of")
	f.typ(task.ID)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("✓ Synchronized", "KAN-", "Rules: script v2 on Acme")
	twin := twinOf(t, b, task.ID, onJira)
	if twin.Status != "To Do" {
		t.Errorf("the Jira twin is in %q, want To Do", twin.Status)
	}
	yes := true
	if _, err := onAsana.Update(ctx, task.ID, engine.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Completed: &yes}}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool {
		evs, err := a.RecentEvents(ctx, conn.ID, 5)
		return err == nil && len(evs) >= 2
	})
	f.mark()
	f.send(tea.KeyEnter) // done: home
	f.waitFor("Last sync", conn.Name)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Recent syncs")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Syncing", "✓ Synchronized", "Rules: script v2 on Acme")
	waitUntil(t, func() bool {
		e, err := onJira.Get(ctx, twin.ID)
		return err == nil && e.Status == "Done"
	})
}

// TestFlowScriptModeFromTheWizard: Script mode chosen in the wizard makes
// the connection in Script mode on both nodes; the draft is edited in
// $EDITOR (a script here), and a draft with a syntax error shows the error
// at its line and can't be published; compare shows the change.
func TestFlowScriptModeFromTheWizard(t *testing.T) {
	f := startFlow(t, nil)
	a, b := f.nodes[0], f.nodes[1]
	ctx := context.Background()

	f.mark()
	f.typ("i")
	f.waitFor("Destination instance URL", "Suggestion: "+b.URL)
	f.send(tea.KeyTab, tea.KeyEnter)
	f.waitFor("Choose the configuration mode", "Basic", "Script", "Your own outgoing and incoming rules, written in Starlark.")
	f.mark()
	f.send(tea.KeyDown, tea.KeyEnter)
	f.waitFor("Select a project on this side for incoming sync", "Script mode: each side runs its own")
	f.typ("Comp")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Do you have admin access to the destination instance?")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Verify access on Globex")
	f.typ(b.AdminToken)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Select a project for the incoming sync", "On Globex")
	f.typ("Test")
	f.send(tea.KeyEnter)
	f.waitFor("Confirm the connection", "Script")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Connection established successfully ✓")
	for _, n := range f.nodes {
		cs, err := n.Connections(ctx)
		if err != nil || len(cs) != 1 || cs[0].Mode != engine.ModeScript {
			t.Fatalf("%s's connection: %+v (%v), want one in Script mode", n.Name, cs, err)
		}
	}
	conns, _ := a.Connections(ctx)
	conn := conns[0]

	// To the connection's Rules tab.
	f.mark()
	f.send(tea.KeyEsc)
	f.waitFor(conn.Name, "Script")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Recent syncs")
	f.mark()
	f.send(tea.KeyRight)
	f.waitFor("Script mode · version 1 in force")

	// The editor writes a draft whose incoming script does not compile.
	t.Setenv("EDITOR", writeEditor(t, statusOut, brokenIn))
	f.mark()
	f.typ("e")
	f.waitFor("Draft saved, with 1 error to fix", "✗ incoming.star:3  got '=', want primary expression", "the draft has 1 error")
	sc, err := a.Scripts(ctx, conn.ID)
	if err != nil || sc.DraftOutgoing != statusOut || sc.DraftIncoming != brokenIn {
		t.Fatalf("the draft after the editor: %+v (%v)", sc, err)
	}

	// It can't be published: the error and its line, and y refused.
	f.mark()
	f.typ("p")
	f.waitFor("✗ incoming.star:3  got '=', want primary expression", "can't be published until it compiles")
	f.mark()
	f.typ("y")
	f.waitFor("✗ The draft does not compile")
	if sc, err := a.Scripts(ctx, conn.ID); err != nil || sc.Published != 1 {
		t.Fatalf("a draft that does not compile was published: %+v (%v)", sc, err)
	}
	f.mark()
	f.typ("n")
	f.waitFor("the draft has 1 error")

	// Compare: the version in force against the draft.
	f.mark()
	f.typ("c")
	f.waitFor("v1 (in force) → ‹the draft›", "--- v1/outgoing.star", "+++ draft/outgoing.star")
	f.mark()
	f.send(tea.KeyEsc)
	f.waitFor("the draft has 1 error")
}
