package sandbox

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana/asanatest"
)

func TestGetTaskShapes(t *testing.T) {
	e := newEnv(t)
	company := e.project("Company")
	tasks := e.ok(200, "GET", "/projects/"+company+"/tasks", nil).list()
	if len(tasks) != 12 {
		t.Fatalf("Company has %d tasks, want 12", len(tasks))
	}
	for _, tk := range tasks {
		if !slices.Equal(sortedKeys(tk), []string{"gid", "name", "resource_subtype", "resource_type"}) {
			t.Fatalf("compact task has %v", sortedKeys(tk))
		}
	}
	gid := e.taskNamed(company, "Q3 campaign brief")
	full := e.ok(200, "GET", "/tasks/"+gid, nil).data()
	for _, k := range []string{"notes", "permalink_url", "modified_at", "created_at", "memberships", "projects", "workspace", "completed", "assignee"} {
		if _, ok := full[k]; !ok {
			t.Errorf("full task lacks %s", k)
		}
	}
	for _, k := range []string{"html_notes", "created_by", "num_subtasks", "approval_status"} {
		if _, ok := full[k]; ok {
			t.Errorf("full task has opt-in field %s without opt_fields", k)
		}
	}
	if full["permalink_url"] != e.srv.URL+"/0/"+company+"/"+gid {
		t.Errorf("permalink_url = %v", full["permalink_url"])
	}
	if !strings.Contains(full["notes"].(string), "Grow trial sign-ups by 20% over Q2.") {
		t.Errorf("notes = %q", full["notes"])
	}

	sel := e.ok(200, "GET", "/tasks/"+gid+"?opt_fields=name,html_notes,created_by,memberships.project.name,memberships.section,projects.name,workspace.name,num_subtasks,parent", nil).data()
	if !slices.Equal(sortedKeys(sel), []string{"created_by", "gid", "html_notes", "memberships", "name", "num_subtasks", "parent", "projects", "workspace"}) {
		t.Fatalf("selected task has %v", sortedKeys(sel))
	}
	m := sel["memberships"].([]any)[0].(map[string]any)
	if p := m["project"].(map[string]any); p["name"] != "Company" || p["gid"] != company || len(p) != 2 {
		t.Errorf("memberships.project = %v", p)
	}
	if s := m["section"].(map[string]any); s["name"] != "In progress" || s["resource_type"] != "section" {
		t.Errorf("memberships.section = %v", s)
	}
	if !strings.HasPrefix(sel["html_notes"].(string), "<body><h1>Goal</h1>") {
		t.Errorf("html_notes = %v", sel["html_notes"])
	}
	if sel["parent"] != nil || sel["num_subtasks"] != float64(0) {
		t.Errorf("parent/num_subtasks = %v/%v", sel["parent"], sel["num_subtasks"])
	}
	approval := e.ok(200, "GET", "/tasks/"+e.taskNamed(company, "Approve Q3 ad spend")+"?opt_fields=approval_status,resource_subtype", nil).data()
	if approval["approval_status"] != "pending" || approval["resource_subtype"] != "approval" {
		t.Errorf("approval task = %v", approval)
	}

	e.fails(400, "opt_fields: Unknown field: bogus", "GET", "/tasks/"+gid+"?opt_fields=name,bogus", nil, asanatest.ExpectInvalidRequest)
	e.fails(400, "opt_fields: Unknown field: memberships.project.bogus", "GET", "/tasks/"+gid+"?opt_fields=memberships.project.bogus", nil, asanatest.ExpectInvalidRequest)
	e.fails(404, "1299999999999999: Unknown object: 1299999999999999", "GET", "/tasks/1299999999999999", nil)
	e.fails(400, "Not a Long", "GET", "/tasks/abc", nil)
}

func TestCreateUpdateDeleteTask(t *testing.T) {
	e := newEnv(t)
	test := e.project("Test")
	created := e.ok(201, "POST", "/tasks?opt_fields=name,html_notes,notes,resource_subtype,memberships.project.name,created_at,modified_at,created_by.name",
		map[string]any{"name": "Ship it", "html_notes": "<body>Do <strong>this</strong> &amp; that</body>", "resource_subtype": "milestone", "projects": []string{test}},
		asanatest.ExpectInvalidRequest) // created_by.name: Asana accepts it, the spec's enum lists only created_by
	d := created.data()
	gid := d["gid"].(string)
	if created.header.Get("Location") != e.srv.URL+"/api/1.0/tasks/"+gid {
		t.Errorf("Location = %q", created.header.Get("Location"))
	}
	if d["notes"] != "Do this & that" || d["resource_subtype"] != "milestone" || d["created_by"].(map[string]any)["name"] != "Alex Rivera" {
		t.Fatalf("created = %v", d)
	}
	createdAt, modified := mustTime(t, d["created_at"]), mustTime(t, d["modified_at"])
	if !createdAt.Equal(modified) {
		t.Errorf("created_at %v != modified_at %v on a new task", createdAt, modified)
	}
	// The task is listed in its project, last.
	list := e.ok(200, "GET", "/projects/"+test+"/tasks", nil).list()
	if list[len(list)-1]["gid"] != gid {
		t.Errorf("new task not last in project: %v", list)
	}

	for i, change := range []map[string]any{
		{"name": "Ship it now"},
		{"notes": "plain <text>"},
		{"html_notes": "<body><ul><li>one</li><li>two</li></ul></body>"},
		{"resource_subtype": "default_task"},
		{"completed": true},
	} {
		u := e.ok(200, "PUT", "/tasks/"+gid+"?opt_fields=modified_at,notes,html_notes,completed,completed_at", change).data()
		next := mustTime(t, u["modified_at"])
		if !next.After(modified) {
			t.Errorf("change %d: modified_at %v did not move past %v", i, next, modified)
		}
		modified = next
		switch i {
		case 1:
			if u["html_notes"] != "<body>plain &lt;text&gt;</body>" || u["notes"] != "plain <text>" {
				t.Errorf("plain notes stored as %v / %v", u["html_notes"], u["notes"])
			}
		case 2:
			// How list markers read in notes is richtext.ToPlain's call;
			// what matters here is that notes follow html_notes.
			if n, _ := u["notes"].(string); !strings.Contains(n, "one\n") || !strings.HasSuffix(n, "two") {
				t.Errorf("notes from a list = %q", u["notes"])
			}
		case 4:
			if u["completed"] != true || u["completed_at"] == nil {
				t.Errorf("completed = %v at %v", u["completed"], u["completed_at"])
			}
		}
	}
	// A PUT that changes nothing leaves modified_at alone.
	same := e.ok(200, "PUT", "/tasks/"+gid+"?opt_fields=modified_at", map[string]any{"completed": true}).data()
	if !mustTime(t, same["modified_at"]).Equal(modified) {
		t.Errorf("no-op PUT moved modified_at")
	}

	e.fails(400, "memberships: Cannot be changed", "PUT", "/tasks/"+gid, map[string]any{"memberships": []any{}}, asanatest.ExpectInvalidRequest)
	e.fails(400, "projects: Cannot be changed", "PUT", "/tasks/"+gid, map[string]any{"projects": []string{test}})
	e.fails(400, "html_notes: XML is invalid", "PUT", "/tasks/"+gid, map[string]any{"html_notes": "<body><b>bold</b></body>"})
	e.fails(400, "html_notes: XML is invalid", "PUT", "/tasks/"+gid, map[string]any{"html_notes": "no body"})
	e.fails(400, "html_notes: XML is invalid", "PUT", "/tasks/"+gid, map[string]any{"html_notes": "<body><em>open</body>"})
	e.fails(400, "only specify one of notes and html_notes", "PUT", "/tasks/"+gid, map[string]any{"notes": "a", "html_notes": "<body>a</body>"})
	e.fails(400, "resource_subtype: Invalid value", "PUT", "/tasks/"+gid, map[string]any{"resource_subtype": "epic"}, asanatest.ExpectInvalidRequest)
	e.fails(400, "name: Not a string", "PUT", "/tasks/"+gid, map[string]any{"name": 7}, asanatest.ExpectInvalidRequest)
	e.fails(400, "Could not parse request data", "PUT", "/tasks/"+gid, nil, asanatest.ExpectInvalidRequest)
	e.fails(404, "Unknown object", "PUT", "/tasks/1299999999999999", map[string]any{"name": "x"})

	if r := e.ok(200, "DELETE", "/tasks/"+gid, nil); len(r.data()) != 0 {
		t.Errorf("DELETE answered %s", r.raw)
	}
	e.fails(404, "Unknown object", "GET", "/tasks/"+gid, nil)
	e.fails(404, "Unknown object", "DELETE", "/tasks/"+gid, nil)
}

func TestCreateTaskInputs(t *testing.T) {
	e := newEnv(t)
	company := e.project("Company")
	ws := e.workspace()
	e.fails(400, "workspace: Missing input", "POST", "/tasks", map[string]any{"name": "Nowhere"})
	e.fails(404, "projects: Unknown object: 1299999999999999", "POST", "/tasks", map[string]any{"name": "x", "projects": []string{"1299999999999999"}})
	e.fails(404, "workspace: Unknown object", "POST", "/tasks", map[string]any{"name": "x", "workspace": "1299999999999999"})
	e.fails(400, "html_notes: XML is invalid", "POST", "/tasks", map[string]any{"workspace": ws, "html_notes": "<body><div>x</div></body>"})
	if r := e.send("POST", "/tasks", strings.NewReader(`{"options":{"pretty":true}}`), "application/json", e.sb.Token()); r.status != 400 || r.errMessage() != "data: Missing input" {
		t.Errorf("POST without data: %d %s", r.status, r.raw)
	}

	// memberships choose the section. Asana documents them as create-only
	// {project, section} gids; the spec only models the read shape
	// (readOnly, with objects), so such a request cannot validate.
	sections := map[string]string{}
	for _, tk := range e.ok(200, "GET", "/projects/"+company+"/tasks?opt_fields=memberships.section.name", nil).list() {
		s := tk["memberships"].([]any)[0].(map[string]any)["section"].(map[string]any)
		sections[s["name"].(string)] = s["gid"].(string)
	}
	done := sections["Done"]
	r := e.ok(201, "POST", "/tasks?opt_fields=memberships.section.name,assignee.name,due_on",
		map[string]any{"name": "Filed", "memberships": []any{map[string]any{"project": company, "section": done}}, "assignee": "me", "due_on": "2030-01-31"},
		asanatest.ExpectInvalidRequest)
	m := r.data()["memberships"].([]any)[0].(map[string]any)
	if m["section"].(map[string]any)["name"] != "Done" || r.data()["assignee"].(map[string]any)["name"] != "Alex Rivera" || r.data()["due_on"] != "2030-01-31" {
		t.Fatalf("created with memberships = %s", r.raw)
	}
	inSection := e.ok(200, "GET", "/tasks?section="+done, nil).list()
	if inSection[len(inSection)-1]["name"] != "Filed" {
		t.Errorf("GET /tasks?section = %v", inSection)
	}
	e.fails(400, "due_on: Not a valid date", "POST", "/tasks", map[string]any{"workspace": ws, "due_on": "tomorrow"}, asanatest.ExpectInvalidRequest)
}

// TestBodyOptions: on POST and PUT, options ride beside data, as Asana
// documents for JSON bodies.
func TestBodyOptions(t *testing.T) {
	e := newEnv(t)
	body := `{"data":{"name":"With options","workspace":"` + e.workspace() + `"},"options":{"fields":["name","html_notes"],"pretty":true}}`
	r := e.send("POST", "/tasks", strings.NewReader(body), "application/json", e.sb.Token())
	if r.status != 201 || !slices.Equal(sortedKeys(r.data()), []string{"gid", "html_notes", "name"}) {
		t.Fatalf("POST with options: %d %s", r.status, r.raw)
	}
	if !strings.Contains(string(r.raw), "\n  ") {
		t.Errorf("options.pretty ignored: %s", r.raw)
	}
	bad := `{"data":{"name":"x","workspace":"` + e.workspace() + `"},"options":{"fields":["nope"]}}`
	if r := e.send("POST", "/tasks", strings.NewReader(bad), "application/json", e.sb.Token()); r.status != 400 {
		t.Errorf("bad options.fields: %d %s", r.status, r.raw)
	}
}

func TestListTasksQueries(t *testing.T) {
	e := newEnv(t)
	company := e.project("Company")
	ws := e.workspace()
	mine := e.ok(200, "GET", "/tasks?assignee=me&workspace="+ws+"&opt_fields=name,assignee.name", nil).list()
	if len(mine) != 4 {
		t.Errorf("assignee=me has %d tasks, want 4", len(mine))
	}
	for _, tk := range mine {
		if tk["assignee"].(map[string]any)["name"] != "Alex Rivera" {
			t.Errorf("task %v is not mine", tk)
		}
	}
	incomplete := e.ok(200, "GET", "/projects/"+company+"/tasks?completed_since=now", nil).list()
	if len(incomplete) != 10 {
		t.Errorf("completed_since=now gives %d tasks, want 10", len(incomplete))
	}
	byProject := e.ok(200, "GET", "/tasks?project="+company, nil).list()
	if len(byProject) != 12 {
		t.Errorf("GET /tasks?project gives %d tasks", len(byProject))
	}

	// modified_since: only what changed after the mark.
	mark := time.Now().UTC()
	gid := e.taskNamed(company, "Newsletter: August edition")
	e.ok(200, "PUT", "/tasks/"+gid, map[string]any{"name": "Newsletter: September edition"})
	changed := e.ok(200, "GET", "/tasks?project="+company+"&modified_since="+url.QueryEscape(mark.Format(time.RFC3339Nano)), nil).list()
	if len(changed) != 1 || changed[0]["gid"] != gid {
		t.Errorf("modified_since = %v", changed)
	}

	e.fails(400, "Must specify exactly one of project", "GET", "/tasks", nil)
	e.fails(400, "Must specify exactly one of project", "GET", "/tasks?assignee=me", nil)
	e.fails(400, "Must specify exactly one of project", "GET", "/tasks?project="+company+"&assignee=me&workspace="+ws, nil)
	e.fails(404, "project: Unknown object", "GET", "/tasks?project=1299999999999999", nil)
	e.fails(400, "modified_since: Not a valid date-time", "GET", "/tasks?project="+company+"&modified_since=yesterday", nil, asanatest.ExpectInvalidRequest)
	e.fails(404, "Unknown object", "GET", "/projects/1299999999999999/tasks", nil)
}

func TestPagination(t *testing.T) {
	e := newEnv(t, WithSeed("empty"))
	ws := e.workspace()
	// A project cannot be created through the subset, so page through the
	// tasks assigned to me instead: 130 of them.
	want := map[string]bool{}
	for i := 0; i < 130; i++ {
		d := e.ok(201, "POST", "/tasks", map[string]any{"name": fmt.Sprintf("Task %03d", i), "workspace": ws, "assignee": "me"}).data()
		want[d["gid"].(string)] = true
	}
	path := "/tasks?assignee=me&workspace=" + ws + "&limit=100&opt_fields=name"
	got := map[string]bool{}
	var pages []int
	last := ""
	for path != "" {
		r := e.ok(200, "GET", path, nil)
		pages = append(pages, len(r.list()))
		for _, tk := range r.list() {
			g := tk["gid"].(string)
			if got[g] || !gidLess(last, g) && last != "" {
				t.Fatalf("task %s repeated or out of order", g)
			}
			got[g], last = true, g
		}
		path = ""
		if np, ok := r.body["next_page"].(map[string]any); ok {
			if !strings.Contains(np["path"].(string), "offset="+url.QueryEscape(np["offset"].(string))) {
				t.Errorf("next_page.path %v lacks its offset", np["path"])
			}
			path = np["path"].(string)
		}
	}
	if !slices.Equal(pages, []int{100, 30}) || len(got) != len(want) {
		t.Fatalf("pages %v, %d of %d tasks", pages, len(got), len(want))
	}
	e.fails(400, "limit: Must be an integer between 1 and 100", "GET", "/tasks?assignee=me&workspace="+ws+"&limit=0", nil, asanatest.ExpectInvalidRequest)
	e.fails(400, "limit: Must be an integer between 1 and 100", "GET", "/tasks?assignee=me&workspace="+ws+"&limit=101", nil, asanatest.ExpectInvalidRequest)
	e.fails(400, "offset: Your pagination token is invalid", "GET", "/tasks?assignee=me&workspace="+ws+"&limit=10&offset=forged", nil)
	// An offset belongs to its query.
	first := e.ok(200, "GET", "/tasks?assignee=me&workspace="+ws+"&limit=10", nil)
	off := first.body["next_page"].(map[string]any)["offset"].(string)
	e.fails(400, "offset: Your pagination token is invalid", "GET", "/workspaces?limit=10&offset="+url.QueryEscape(off), nil)
}
