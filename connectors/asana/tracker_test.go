package asana_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// tracker checks and returns a tracker on e's client.
func (e *env) tracker(t *testing.T) (*asana.Tracker, tracker.TrackerAccount) {
	t.Helper()
	tr := asana.NewTracker(e.client, "")
	acct, err := tr.Check(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return tr, acct
}

// taskNamed finds a task of a project by name.
func (e *env) taskNamed(t *testing.T, project, name string) asana.Task {
	t.Helper()
	tasks, err := e.client.ProjectTasks(ctx(t), project, asana.TaskQuery{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(tasks, func(x asana.Task) bool { return x.Name == name })
	if i < 0 {
		t.Fatalf("no task %q in project %s", name, project)
	}
	return tasks[i]
}

func TestTrackerGet(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	company := e.project(t, "Company")
	// Seeded with three comments, a file, and a rename that left a system
	// story behind.
	seeded := e.taskNamed(t, company.GID, "Update brand guidelines (logo usage)")

	before := e.client.Stats()
	got, err := tr.Get(c, seeded.GID)
	if err != nil {
		t.Fatal(err)
	}
	// The task is assigned to someone the tracker hasn't met: the
	// document gives a task its assignee's name, not the e-mail, so that
	// costs one look-up, once.
	d := e.client.Stats().Sub(before)
	if d.Total() != 4 || d.ByEndpoint["GET /tasks/{gid}"] != 1 || d.ByEndpoint["GET /tasks/{gid}/stories"] != 1 ||
		d.ByEndpoint["GET /attachments"] != 1 || d.ByEndpoint["GET /users/{gid}"] != 1 {
		t.Errorf("Get took %+v, want one task, one stories, one attachments request and one look-up of the assignee", d.ByEndpoint)
	}
	before = e.client.Stats()
	again, err := tr.Get(c, seeded.GID)
	if err != nil {
		t.Fatal(err)
	}
	d = e.client.Stats().Sub(before)
	if d.Total() != 3 || d.ByEndpoint["GET /tasks/{gid}"] != 1 || d.ByEndpoint["GET /tasks/{gid}/stories"] != 1 || d.ByEndpoint["GET /attachments"] != 1 {
		t.Errorf("Get took %+v, want one task, one stories and one attachments request", d.ByEndpoint)
	}
	if !reflect.DeepEqual(again, got) {
		t.Errorf("a second Get differs:\n got %+v\nwant %+v", again, got)
	}

	if got.ID != seeded.GID || got.Key != seeded.GID || got.Project != company.GID ||
		got.Type != asana.SubtypeDefaultTask || got.Summary != seeded.Name || !got.ModifiedAt.Equal(seeded.ModifiedAt) {
		t.Errorf("entity = %+v, want task %s of project %s as listed: %+v", got, seeded.GID, company.GID, seeded)
	}
	if got.URL != seeded.PermalinkURL || !strings.HasPrefix(got.URL, strings.TrimSuffix(e.base, "/api/1.0")) {
		t.Errorf("URL = %q, want the sandbox's permalink %q", got.URL, seeded.PermalinkURL)
	}
	if id, err := tr.ParseRef(got.URL); err != nil || id != seeded.GID {
		t.Errorf("ParseRef(%q) = %q, %v; want the task's own gid", got.URL, id, err)
	}
	assertSameRichText(t, got.Description, "<body>Add <em>clear-space</em> and <em>minimum size</em> rules for the new logo. Use <code>#1F6FEB</code> for the accent.</body>")

	wantComments := []struct{ author, body string }{
		{"Sofia Alvarez", "<body>Uploaded the current logo for reference.</body>"},
		{"Priya Shah", "<body>Can we also cover the dark-mode variant?</body>"},
		{"Sofia Alvarez", "<body>Yes, adding a section for it.</body>"},
	}
	if len(got.Comments) != len(wantComments) {
		t.Fatalf("comments = %+v, want the %d seeded comments and no system story", got.Comments, len(wantComments))
	}
	for i, w := range wantComments {
		cm := got.Comments[i]
		if cm.ID == "" || cm.Author != w.author || cm.Body != w.body || cm.CreatedAt.IsZero() || cm.Edited {
			t.Errorf("comment %d = %+v, want %q by %s", i, cm, w.body, w.author)
		}
	}

	if len(got.Attachments) != 1 || got.Attachments[0].Name != "logo.png" || got.Attachments[0].ID == "" {
		t.Fatalf("attachments = %+v, want logo.png", got.Attachments)
	}
	rc, meta, err := tr.OpenAttachment(c, got.Attachments[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if size := got.Attachments[0].Size; size != int64(len(data)) || meta != got.Attachments[0] || !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Errorf("attachment %+v: downloaded %d bytes (%+v), want a PNG of the listed size", got.Attachments[0], len(data), meta)
	}
	e.requireValidated(t)
}

func TestTrackerGetMissingTask(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	task, err := e.client.CreateTask(c, asana.NewTask{Project: e.project(t, "Test").GID, Name: "short-lived"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.DeleteTask(c, task.GID); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Get(c, task.GID); !errors.Is(err, asana.ErrNotFound) || !strings.Contains(err.Error(), task.GID) {
		t.Errorf("Get of a deleted task: err = %v, want ErrNotFound naming %s", err, task.GID)
	}
}

func TestTrackerParseRef(t *testing.T) {
	tr := asana.NewTracker(nil, "")
	const task = "1204567890123456"
	for _, ref := range []string{
		task,
		"  " + task + "  ",
		"\t" + task + "\n",
		"https://app.asana.com/0/1206043162733419/" + task,
		"https://app.asana.com/0/1206043162733419/" + task + "/f",
		"https://app.asana.com/0/1206043162733419/" + task + "/",
		"https://app.asana.com/0/0/" + task,
		"https://app.asana.com/1/15793206719/project/1206043162733419/task/" + task,
		"https://app.asana.com/1/15793206719/project/1206043162733419/task/" + task + "?focus=true",
		"  https://app.asana.com/1/15793206719/task/" + task + " ",
		"http://127.0.0.1:54321/0/1206043162733419/" + task,
		"http://localhost:8080/0/0/" + task + "#comments",
	} {
		if got, err := tr.ParseRef(ref); err != nil || got != task {
			t.Errorf("ParseRef(%q) = %q, %v; want %s", ref, got, err, task)
		}
	}
	for _, ref := range []string{
		"",
		"   ",
		"0",
		"KAN-19",
		"12a4",
		"-1204567890123456",
		"https://app.asana.com/0/1206043162733419/list", // a project
		"https://app.asana.com/0/1206043162733419",      // a project
		"https://app.asana.com/0/1206043162733419/0",    // no task
		"https://app.asana.com/0/1206043162733419/" + task + "/x",
		"https://app.asana.com/1/15793206719/project/1206043162733419",
		"https://app.asana.com/1/15793206719/project/1206043162733419/task/",
		"https://app.asana.com/1/15793206719/project/1206043162733419/task/abc",
		"https://app.asana.com/api/1.0/tasks/" + task,
		"app.asana.com/0/1206043162733419/" + task, // no scheme
		"ftp://app.asana.com/0/1206043162733419/" + task,
		"https:///0/1206043162733419/" + task, // no host
	} {
		got, err := tr.ParseRef(ref)
		if err == nil {
			t.Errorf("ParseRef(%q) = %q, want an error", ref, got)
			continue
		}
		if !errors.Is(err, tracker.ErrBadRequest) || !strings.Contains(err.Error(), "https://app.asana.com/0/<project>/<task>") {
			t.Errorf("ParseRef(%q): err = %v, want a bad request that shows what a reference looks like", ref, err)
		}
	}
}

func TestTrackerCreateThenGet(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	test := e.project(t, "Test")
	desc := `<body>Ship it <strong>today</strong>, see <a href="https://example.com/spec">the spec</a>:<ul><li>one</li><li>two &amp; three</li></ul></body>`

	before := e.client.Stats()
	created, err := tr.Create(c, tracker.NewEntity{Project: test.GID, Type: asana.SubtypeMilestone, Summary: "Launch ✈ plan", Description: desc})
	if err != nil {
		t.Fatal(err)
	}
	if d := e.client.Stats().Sub(before); d.Total() != 1 {
		t.Errorf("Create took %+v, want one request", d.ByEndpoint)
	}
	if created.ID == "" || created.Key != created.ID || created.Project != test.GID || created.Type != asana.SubtypeMilestone ||
		created.Summary != "Launch ✈ plan" || created.URL == "" || created.ModifiedAt.IsZero() ||
		created.Comments == nil || len(created.Comments) != 0 || created.Attachments == nil || len(created.Attachments) != 0 {
		t.Errorf("created = %+v", created)
	}
	assertSameRichText(t, created.Description, desc)
	got, err := tr.Get(c, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, created) {
		t.Errorf("Get after Create:\n got %+v\nwant %+v", got, created)
	}

	plain, err := tr.Create(c, tracker.NewEntity{Project: test.GID, Summary: "no type, no description"})
	if err != nil {
		t.Fatal(err)
	}
	if types, def, err := tr.Types(c, test.GID); err != nil || plain.Type != def || !slices.Contains(types, def) {
		t.Errorf("Create without a type made a %q; Types = %v, %q, %v", plain.Type, types, def, err)
	}
	e.requireValidated(t)
}

func TestTrackerTypes(t *testing.T) {
	e := start(t, nil)
	tr, _ := e.tracker(t)
	company := e.project(t, "Company")
	before := e.client.Stats()
	types, def, err := tr.Types(ctx(t), company.GID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"default_task", "milestone", "approval"}; !slices.Equal(types, want) || def != "default_task" {
		t.Errorf("Types = %v, %q; want %v, default_task", types, def, want)
	}
	if d := e.client.Stats().Sub(before); d.Total() != 0 {
		t.Errorf("Types sent requests: %+v", d.ByEndpoint)
	}
}

func TestTrackerUpdate(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	test := e.project(t, "Test")
	created, err := tr.Create(c, tracker.NewEntity{Project: test.GID, Summary: "draft", Description: "<body>first</body>"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.AddComment(c, created.ID, "<body>a comment Update must not read</body>"); err != nil {
		t.Fatal(err)
	}

	summary := "final"
	before := e.client.Stats()
	updated, err := tr.Update(c, created.ID, tracker.EntityUpdate{Summary: &summary})
	if err != nil {
		t.Fatal(err)
	}
	if d := e.client.Stats().Sub(before); d.Total() != 1 || d.ByEndpoint["PUT /tasks/{gid}"] != 1 {
		t.Errorf("Update took %+v, want one PUT", d.ByEndpoint)
	}
	if updated.Summary != summary || updated.Type != created.Type || updated.Description != created.Description ||
		updated.Project != test.GID || !updated.ModifiedAt.After(created.ModifiedAt) ||
		updated.Comments != nil || updated.Attachments != nil {
		t.Errorf("updated = %+v, want the new summary, the other fields as created, and no comments or attachments read", updated)
	}
	got, err := tr.Get(c, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != summary || !got.ModifiedAt.Equal(updated.ModifiedAt) || len(got.Comments) != 1 {
		t.Errorf("Get after Update = %+v, want summary %q, modified at %v and the comment", got, summary, updated.ModifiedAt)
	}

	typ, desc := asana.SubtypeApproval, "<body>second <em>take</em></body>"
	updated, err = tr.Update(c, created.ID, tracker.EntityUpdate{Type: &typ, Description: &desc})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Type != typ || updated.Summary != summary {
		t.Errorf("after a type change: %+v", updated)
	}
	assertSameRichText(t, updated.Description, desc)
	e.requireValidated(t)
}

func TestTrackerComments(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, acct := e.tracker(t)
	task, err := tr.Create(c, tracker.NewEntity{Project: e.project(t, "Test").GID, Summary: "discuss"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := tr.AddComment(c, task.ID, "<body>First <em>thought</em></body>")
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == "" || first.Author != acct.User || first.Body != "<body>First <em>thought</em></body>" || first.Edited || first.CreatedAt.IsZero() {
		t.Errorf("added = %+v, want the comment by %s", first, acct.User)
	}
	second, err := tr.AddComment(c, task.ID, "<body>Second</body>")
	if err != nil {
		t.Fatal(err)
	}
	edited, err := tr.EditComment(c, first.ID, "<body>First thought, <strong>revised</strong></body>")
	if err != nil {
		t.Fatal(err)
	}
	if edited.ID != first.ID || !edited.Edited || edited.Body != "<body>First thought, <strong>revised</strong></body>" {
		t.Errorf("edited = %+v", edited)
	}
	got, err := tr.Get(c, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []tracker.Comment{edited, second}; !reflect.DeepEqual(got.Comments, want) {
		t.Errorf("comments = %+v, want %+v", got.Comments, want)
	}
	e.requireValidated(t)
}

// partTypes records the Content-Type of every uploaded file part.
type partTypes struct {
	mu    sync.Mutex
	types map[string]string // file name → Content-Type
}

func (p *partTypes) transport() http.RoundTripper {
	return roundTrip(func(r *http.Request) (*http.Response, error) {
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/attachments") && params["boundary"] != "" {
			body, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				return nil, err
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
			for part, err := mr.NextPart(); err == nil; part, err = mr.NextPart() {
				if part.FormName() == "file" {
					p.mu.Lock()
					p.types[asana.DecodeDispositionName(part.FileName())] = part.Header.Get("Content-Type")
					p.mu.Unlock()
				}
			}
		}
		return http.DefaultTransport.RoundTrip(r)
	})
}

func (p *partTypes) get(name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.types[name]
}

func TestTrackerAttachments(t *testing.T) {
	pt := &partTypes{types: map[string]string{}}
	e := start(t, func(cfg *asana.Config) { cfg.HTTPClient = &http.Client{Transport: pt.transport()} })
	c := ctx(t)
	tr, _ := e.tracker(t)
	if tr.MaxAttachmentSize() != 100<<20 {
		t.Errorf("MaxAttachmentSize = %d, want 100 MB", tr.MaxAttachmentSize())
	}
	task, err := tr.Create(c, tracker.NewEntity{Project: e.project(t, "Test").GID, Summary: "with files"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	files := []struct {
		name, contentType string
		data              []byte
	}{
		{"diagram.png", "image/png", randomBytes(rng, 70_001)},
		{"notes.unknownext", "application/octet-stream", []byte("plain bytes\n")},
	}
	var added []tracker.Attachment
	for _, f := range files {
		opens := 0
		a, err := tr.AddAttachment(c, task.ID, f.name, int64(len(f.data)), func() (io.ReadCloser, error) {
			opens++
			return io.NopCloser(bytes.NewReader(f.data)), nil
		})
		if err != nil {
			t.Fatalf("AddAttachment %q: %v", f.name, err)
		}
		if a.ID == "" || a.Name != f.name || a.Size != int64(len(f.data)) || opens != 1 {
			t.Errorf("added %+v after %d opens, want %q of %d bytes opened once", a, opens, f.name, len(f.data))
		}
		if ct := pt.get(f.name); ct != f.contentType {
			t.Errorf("%q was sent as %q, want %q", f.name, ct, f.contentType)
		}
		added = append(added, a)

		rc, meta, err := tr.OpenAttachment(c, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(data, f.data) || meta != a {
			t.Errorf("%q read back: %d bytes (err %v, meta %+v), want the %d bytes uploaded", f.name, len(data), err, meta, len(f.data))
		}
	}
	got, err := tr.Get(c, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Attachments, added) {
		t.Errorf("attachments = %+v, want %+v", got.Attachments, added)
	}
	if _, err := tr.AddAttachment(c, task.ID, "huge.iso", tr.MaxAttachmentSize()+1, nil); !errors.Is(err, asana.ErrTooLarge) {
		t.Errorf("an oversized file: err = %v, want ErrTooLarge", err)
	}
	e.requireValidated(t)
}

func TestTrackerChanges(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	test := e.project(t, "Test")
	seeded := e.taskNamed(t, test.GID, "Test task 1")
	untouched := e.taskNamed(t, test.GID, "Test task 2")

	since := time.Now().Truncate(time.Millisecond)
	first, err := tr.Changes(c, test.GID, "")
	if err != nil {
		t.Fatal(err)
	}
	if !first.Reset || first.Cursor == "" || len(first.IDs) != 0 {
		t.Fatalf("first round = %+v, want Reset with a cursor", first)
	}
	if expired, err := tr.Changes(c, test.GID, "0123456789abcdef0123456789abcdef"); err != nil || !expired.Reset || expired.Cursor == "" {
		t.Errorf("an unknown cursor gave %+v, %v; want Reset", expired, err)
	}

	created, err := tr.Create(c, tracker.NewEntity{Project: test.GID, Summary: "new here"})
	if err != nil {
		t.Fatal(err)
	}
	comment, err := tr.AddComment(c, created.ID, "<body>hello</body>")
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("tiny")
	if _, err := tr.AddAttachment(c, created.ID, "tiny.txt", int64(len(data)), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}); err != nil {
		t.Fatal(err)
	}
	renamed := "Test task 1 (renamed)"
	if _, err := tr.Update(c, seeded.GID, tracker.EntityUpdate{Summary: &renamed}); err != nil {
		t.Fatal(err)
	}

	before := e.client.Stats()
	round, err := tr.Changes(c, test.GID, first.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	// Every story and attachment event here names its task: nothing to look up.
	if d := e.client.Stats().Sub(before); d.Total() != 1 || d.ByEndpoint["GET /events"] != 1 {
		t.Errorf("a round of %d changes took %+v, want one GET /events", len(round.IDs), d.ByEndpoint)
	}
	if want := []string{created.ID, seeded.GID}; round.Reset || !slices.Equal(round.IDs, want) || round.Cursor == "" || round.Cursor == first.Cursor {
		t.Errorf("changes = %+v, want %v once each and a new cursor", round, want)
	}

	// The reconcile after the Reset finds the same tasks.
	changed, err := tr.ChangedSince(c, test.GID, since)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(changed)
	want := []string{created.ID, seeded.GID}
	slices.Sort(want)
	if !slices.Equal(changed, want) || slices.Contains(changed, untouched.GID) {
		t.Errorf("changed since the Reset: %v, want %v", changed, want)
	}

	// An edited comment's event names no task: Changes looks it up, once
	// however often the comment was edited.
	for _, body := range []string{"<body>hello again</body>", "<body>hello, third time</body>"} {
		if _, err := tr.EditComment(c, comment.ID, body); err != nil {
			t.Fatal(err)
		}
	}
	before = e.client.Stats()
	edited, err := tr.Changes(c, test.GID, round.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if d := e.client.Stats().Sub(before); d.Total() != 2 || d.ByEndpoint["GET /stories/{gid}"] != 1 {
		t.Errorf("a round with an edited comment took %+v, want the events and one look-up of the story", d.ByEndpoint)
	}
	if edited.Reset || !slices.Equal(edited.IDs, []string{created.ID}) {
		t.Errorf("after a comment edit: %+v, want %s", edited, created.ID)
	}
	quiet, err := tr.Changes(c, test.GID, edited.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if quiet.Reset || len(quiet.IDs) != 0 || quiet.Cursor == "" {
		t.Errorf("a quiet round = %+v, want no ids and a cursor", quiet)
	}
	e.requireValidated(t)
}

func TestTrackerChangesDrainsEveryPage(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	test := e.project(t, "Test")
	first, err := tr.Changes(c, test.GID, "")
	if err != nil || !first.Reset {
		t.Fatalf("first round = %+v, %v; want Reset", first, err)
	}
	var want []string
	for range 130 {
		task, err := e.client.CreateTask(c, asana.NewTask{Project: test.GID, Name: "bulk"})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, task.GID)
	}
	before := e.client.Stats()
	round, err := tr.Changes(c, test.GID, first.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(round.IDs, want) {
		t.Errorf("one round named %d tasks, want the %d created, in order", len(round.IDs), len(want))
	}
	if pages := e.client.Stats().Sub(before).ByEndpoint["GET /events"]; pages < 2 {
		t.Errorf("%d events read in %d calls; Asana gives at most 100 a call", len(want), pages)
	}
	listed, err := tr.List(c, test.GID)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 3+len(want) || !slices.Equal(listed[3:], want) {
		t.Errorf("List gave %d ids, want the 3 seeded then the %d created", len(listed), len(want))
	}
}
