package asana_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

func TestMeWorkspacesProjects(t *testing.T) {
	e := start(t, nil, sandbox.WithWorkspace("Globex"))
	c := ctx(t)
	me, err := e.client.Me(c)
	if err != nil {
		t.Fatal(err)
	}
	if me.GID == "" || me.Name == "" || me.Email == "" || len(me.Workspaces) != 1 {
		t.Errorf("me = %+v, want a named user", me)
	}
	ws, err := e.client.Workspaces(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Name != "Globex" {
		t.Errorf("workspaces = %+v, want just Globex", ws)
	}
	for _, name := range []string{"Company", "Test"} {
		p := e.project(t, name)
		if p.PermalinkURL == "" || p.Workspace == nil || p.Workspace.Name != "Globex" {
			t.Errorf("project %s = %+v, want a permalink and its workspace", name, p)
		}
	}
	e.requireValidated(t)
}

func TestTaskHasEveryBasicFieldInOneCall(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	company := e.project(t, "Company")
	tasks, err := e.client.ProjectTasks(c, company.GID, asana.TaskQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) < 10 {
		t.Fatalf("Company has %d tasks, want about a dozen", len(tasks))
	}
	subtypes := map[string]int{}
	for _, task := range tasks {
		subtypes[task.ResourceSubtype]++
	}
	for _, st := range []string{asana.SubtypeDefaultTask, asana.SubtypeMilestone, asana.SubtypeApproval} {
		if subtypes[st] == 0 {
			t.Errorf("no %s among the Company tasks: %v", st, subtypes)
		}
	}

	before := e.client.Stats()
	task, err := e.client.Task(c, tasks[0].GID)
	if err != nil {
		t.Fatal(err)
	}
	if d := e.client.Stats().Sub(before); d.Total() != 1 || d.ByEndpoint["GET /tasks/{gid}"] != 1 {
		t.Errorf("fetching one task took %+v, want exactly one GET /tasks/{gid}", d)
	}
	if task.Name == "" || task.ResourceSubtype == "" || task.ModifiedAt.IsZero() || task.CreatedAt.IsZero() {
		t.Errorf("task lacks basic fields: %+v", task)
	}
	if err := richtext.Validate(task.HTMLNotes); err != nil {
		t.Errorf("html_notes %q: %v", task.HTMLNotes, err)
	}
	u, err := url.Parse(task.PermalinkURL)
	if err != nil || !strings.HasPrefix(e.base, u.Scheme+"://"+u.Host) || !strings.Contains(u.Path, task.GID) {
		t.Errorf("permalink_url %q does not point back at the sandbox (%s) and the task", task.PermalinkURL, e.base)
	}
	if len(task.Memberships) == 0 || task.Memberships[0].Project == nil ||
		task.Memberships[0].Project.GID != company.GID || task.Memberships[0].Project.Name != "Company" {
		t.Errorf("memberships = %+v, want the Company project with its name", task.Memberships)
	}
	if task.Workspace == nil || task.Workspace.Name != "Acme" {
		t.Errorf("workspace = %+v, want Acme", task.Workspace)
	}
	e.requireValidated(t)
}

// TestFetchTaskWithCommentsAndAttachments measures what one task costs to
// read whole: the figure the engine's API-calls-per-task budget starts from.
func TestFetchTaskWithCommentsAndAttachments(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tasks, err := e.client.ProjectTasks(c, e.project(t, "Company").GID, asana.TaskQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var withBoth bool
	for _, task := range tasks {
		before := e.client.Stats()
		if _, err := e.client.Task(c, task.GID); err != nil {
			t.Fatal(err)
		}
		comments, err := e.client.Comments(c, task.GID)
		if err != nil {
			t.Fatal(err)
		}
		atts, err := e.client.Attachments(c, task.GID)
		if err != nil {
			t.Fatal(err)
		}
		if d := e.client.Stats().Sub(before); d.Total() != 3 {
			t.Errorf("task %s with %d comments and %d attachments took %d requests, want 3", task.GID, len(comments), len(atts), d.Total())
		}
		for _, s := range comments {
			if s.Type != asana.StoryTypeComment || s.CreatedBy == nil || s.CreatedBy.Name == "" || s.HTMLText == "" {
				t.Errorf("comment %+v lacks its type, author or html_text", s)
			}
		}
		withBoth = withBoth || (len(comments) > 0 && len(atts) > 0)
	}
	if !withBoth {
		t.Error("no seeded Company task has both comments and attachments")
	}
	e.requireValidated(t)
}

func TestCreateAndUpdateTask(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	test := e.project(t, "Test")
	notes := `<body>Ship it <strong>today</strong> — see <a href="https://example.com/spec">the spec</a>:<ul><li>one</li><li>two &amp; three</li></ul></body>`
	created, err := e.client.CreateTask(c, asana.NewTask{Project: test.GID, Name: "Launch ✈ plan", HTMLNotes: notes, Subtype: asana.SubtypeMilestone})
	if err != nil {
		t.Fatal(err)
	}
	if created.GID == "" || created.Name != "Launch ✈ plan" || created.ResourceSubtype != asana.SubtypeMilestone || created.PermalinkURL == "" {
		t.Errorf("created = %+v", created)
	}
	assertSameRichText(t, created.HTMLNotes, notes)

	name := "Launch plan (v2)"
	updated, err := e.client.UpdateTask(c, created.GID, asana.TaskUpdate{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Name != name || !updated.ModifiedAt.After(created.ModifiedAt) {
		t.Errorf("after update: name %q modified_at %v (was %v)", updated.Name, updated.ModifiedAt, created.ModifiedAt)
	}
	assertSameRichText(t, updated.HTMLNotes, notes)

	fetched, err := e.client.Task(c, created.GID)
	if err != nil {
		t.Fatal(err)
	}
	if fetched.Name != name || fetched.ResourceSubtype != asana.SubtypeMilestone {
		t.Errorf("fetched = %+v", fetched)
	}

	// Invalid rich text is refused before anything is sent.
	before := e.sb.Requests()
	bad := "<body><div>not allowed</div></body>"
	if _, err := e.client.UpdateTask(c, created.GID, asana.TaskUpdate{HTMLNotes: &bad}); !errors.Is(err, richtext.ErrInvalid) {
		t.Errorf("update with %q: err = %v, want richtext.ErrInvalid", bad, err)
	}
	if n := e.sb.Requests() - before; n != 0 {
		t.Errorf("invalid rich text still sent %d requests", n)
	}

	if err := e.client.DeleteTask(c, created.GID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Task(c, created.GID); !errors.Is(err, asana.ErrNotFound) {
		t.Errorf("task after delete: err = %v, want ErrNotFound", err)
	}
	e.requireValidated(t)
}

func assertSameRichText(t *testing.T, got, want string) {
	t.Helper()
	g, err1 := richtext.Canonical(got)
	w, err2 := richtext.Canonical(want)
	if err1 != nil || err2 != nil || g != w {
		t.Errorf("html_notes = %q, want %q (canonical errors %v, %v)", got, want, err1, err2)
	}
}

func TestPaginationOverAHundredTasks(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	test := e.project(t, "Test")
	seeded, err := e.client.ProjectTasks(c, test.GID, asana.TaskQuery{})
	if err != nil {
		t.Fatal(err)
	}
	const extra = 230
	for i := range extra {
		if _, err := e.client.CreateTask(c, asana.NewTask{Project: test.GID, Name: fmt.Sprintf("bulk %03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	before := e.client.Stats()
	all, err := e.client.ProjectTasks(c, test.GID, asana.TaskQuery{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(seeded) + extra; len(all) != want {
		t.Fatalf("listed %d tasks, want %d", len(all), want)
	}
	seen := map[string]bool{}
	for _, task := range all {
		if seen[task.GID] {
			t.Fatalf("task %s listed twice", task.GID)
		}
		seen[task.GID] = true
		if task.HTMLNotes == "" || task.PermalinkURL == "" {
			t.Fatalf("full listing lacks html_notes or permalink: %+v", task)
		}
	}
	if pages := e.client.Stats().Sub(before).ByEndpoint["GET /tasks"]; pages != 3 {
		t.Errorf("listing %d tasks took %d pages, want 3 of up to 100", len(all), pages)
	}
	e.requireValidated(t)
}

func TestComments(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	task, err := e.client.CreateTask(c, asana.NewTask{Project: e.project(t, "Test").GID, Name: "discuss"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.client.AddComment(c, task.GID, "<body>First <em>thought</em></body>")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.AddComment(c, task.GID, "<body>Second</body>"); err != nil {
		t.Fatal(err)
	}
	// A change to the task adds a system story, which Comments must leave out.
	name := "discuss (renamed)"
	if _, err := e.client.UpdateTask(c, task.GID, asana.TaskUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	edited, err := e.client.EditComment(c, first.GID, "<body>First thought, revised</body>")
	if err != nil {
		t.Fatal(err)
	}
	if !edited.IsEdited || edited.Text != "First thought, revised" {
		t.Errorf("edited = %+v, want is_edited and the new text", edited)
	}
	comments, err := e.client.Comments(c, task.GID)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, s := range comments {
		texts = append(texts, s.Text)
	}
	if got, want := strings.Join(texts, "|"), "First thought, revised|Second"; got != want {
		t.Errorf("comments = %q, want %q", got, want)
	}
	if _, err := e.client.AddComment(c, task.GID, "plain text is not rich text"); !errors.Is(err, richtext.ErrInvalid) {
		t.Errorf("plain comment: err = %v, want richtext.ErrInvalid", err)
	}
	e.requireValidated(t)
}
