package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/jira"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/internal/demo"
)

// TestFlowAsanaAndJira is the demo as a newcomer meets it: Acme on Asana,
// Globex on Jira. Acme connects with admin access and syncs an Asana task
// with a comment and a file to Jira; then, on Globex, a Jira bug with a
// comment and a file goes back to Asana from the connection's page.
func TestFlowAsanaAndJira(t *testing.T) {
	f := startFlowWith(t, demo.Mixed, nil, func(n *demo.Node) Node { return n.Node.Admin() })
	a, b := f.nodes[0], f.nodes[1]
	ctx := context.Background()
	onAsana, onJira := asana.NewTracker(a.Client, ""), jira.NewTracker(b.JiraClient, "")
	if _, err := onAsana.Check(ctx); err != nil {
		t.Fatal(err)
	}
	projects, err := onAsana.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var company string
	for _, p := range projects {
		if p.Name == "Company" {
			company = p.ID
		}
	}
	task := newItem(t, onAsana, engine.NewEntity{Project: company, Summary: "Launch webinar", Description: "<body>Slides <strong>by Friday</strong>.</body>"},
		"<body>Draft agenda attached.</body>", "agenda.txt")

	f.initiateToAccess(b.URL)
	f.send(tea.KeyEnter)
	f.waitFor("Verify access on Globex")
	f.typ(b.AdminToken)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Select a project for the incoming sync", "Kanban", "Operations")
	f.typ("Kanban")
	f.send(tea.KeyEnter)
	f.waitFor("Confirm the connection", "Globex / Kanban")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Connection established successfully ✓")
	f.mark()
	f.typ(task.ID)
	f.send(tea.KeyEnter)
	f.waitFor("✓ Synchronized", "KAN-")
	f.waitForLinks(a)
	issue := twinOf(t, b, task.ID, onJira)
	if issue.Summary != "Launch webinar" || issue.Type != "Task" || !strings.Contains(issue.Description, "<strong>by Friday</strong>") {
		t.Errorf("the Jira issue: %q, type %q, description %q", issue.Summary, issue.Type, issue.Description)
	}
	if len(issue.Comments) != 1 || !strings.Contains(issue.Comments[0].Body, "Draft agenda attached.") ||
		len(issue.Attachments) != 1 || issue.Attachments[0].Name != "agenda.txt" {
		t.Errorf("the Jira issue's comments %+v and files %+v", issue.Comments, issue.Attachments)
	}

	// Globex, on Jira: a bug with a comment and a file, synced from the
	// connection's page by its key.
	bug := newItem(t, onJira, engine.NewEntity{Project: "KAN", Type: "Bug", Summary: "Webinar page 404s on mobile"},
		"<body>Repro: open the link on iOS.</body>", "screenshot.txt")
	f.send(tea.KeyEnter) // done: back to Connections
	f.mark()
	f.send(tea.KeyCtrlT)
	f.waitFor("Globex", "Acme / Company")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("s syncs one item of Kanban")
	f.mark()
	f.typ("s")
	f.waitFor("enter an issue key or link (such as KAN-") // one of its issues, not an example of another project
	f.typ(bug.Key)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("✓ Synchronized", `has no type "Bug"`)
	f.waitForLinks(b)
	mirror := twinOf(t, a, bug.ID, onAsana)
	if mirror.Summary != bug.Summary || mirror.Type != "default_task" {
		t.Errorf("the Asana task: %q, type %q", mirror.Summary, mirror.Type)
	}
	if len(mirror.Comments) != 1 || !strings.Contains(mirror.Comments[0].Body, "Repro: open the link on iOS.") ||
		len(mirror.Attachments) != 1 || mirror.Attachments[0].Name != "screenshot.txt" {
		t.Errorf("the Asana task's comments %+v and files %+v", mirror.Comments, mirror.Attachments)
	}
	st, err := a.Status(ctx, "", mirror.ID)
	if err != nil || st.RemoteType != "Bug" {
		t.Errorf("Acme's status of the bug keeps type %q (%v), want Bug", st.RemoteType, err)
	}
}

// newItem creates an item with one comment and one small file, as a user
// of that tracker would, and reads it back.
func newItem(t *testing.T, et engine.EntityTracker, e engine.NewEntity, comment, file string) engine.Entity {
	t.Helper()
	ctx := context.Background()
	made, err := et.Create(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := et.AddComment(ctx, made.ID, comment); err != nil {
		t.Fatal(err)
	}
	data := []byte("the contents of " + file + "\n")
	if _, err := et.AddAttachment(ctx, made.ID, file, int64(len(data)), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}); err != nil {
		t.Fatal(err)
	}
	if made, err = et.Get(ctx, made.ID); err != nil {
		t.Fatal(err)
	}
	return made
}

// twinOf reads, on n's tracker, the twin of the other side's entity id.
func twinOf(t *testing.T, n *demo.Node, remoteID string, et engine.EntityTracker) engine.Entity {
	t.Helper()
	ctx := context.Background()
	cs, err := n.Connections(ctx)
	if err != nil || len(cs) != 1 {
		t.Fatalf("connections of %s: %v, %v", n.Name, cs, err)
	}
	var twin engine.Entity
	waitUntil(t, func() bool {
		tw, err := n.Store().TwinByRemote(ctx, nil, cs[0].ID, remoteID)
		if err != nil {
			return false
		}
		twin, err = et.Get(ctx, tw.LocalID)
		return err == nil
	})
	return twin
}
