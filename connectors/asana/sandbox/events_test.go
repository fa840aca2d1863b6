package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana/asanatest"
)

// events fetches events and returns the answer; want 200 or 412.
func (e *env) events(resource, sync string, want int) reply {
	e.t.Helper()
	path := "/events?resource=" + resource
	if sync != "" {
		path += "&sync=" + sync
	}
	r := e.call("GET", path, nil)
	if r.status != want {
		e.t.Fatalf("GET %s: %d, want %d: %s", path, r.status, want, r.raw)
	}
	return r
}

// summary reduces an event to "type action [field] [parent type]".
func summary(ev map[string]any) string {
	res := ev["resource"].(map[string]any)
	s := res["resource_type"].(string) + " " + ev["action"].(string)
	if st, ok := res["resource_subtype"].(string); ok && res["resource_type"] == "story" {
		s += " " + st
	}
	if ch, ok := ev["change"].(map[string]any); ok {
		s += " " + ch["field"].(string)
	}
	if p, ok := ev["parent"].(map[string]any); ok {
		s += " <" + p["resource_type"].(string) + ">"
	}
	return s
}

func TestEventsOnProject(t *testing.T) {
	e := newEnv(t)
	test := e.project("Test")
	first := e.events(test, "", 412)
	if !strings.HasPrefix(first.errMessage(), "Sync token invalid or too old") || first.body["sync"] == "" {
		t.Fatalf("412 answer = %s", first.raw)
	}
	sync := first.body["sync"].(string)
	e.events(test, "bogus", 412)

	empty := e.events(test, sync, 200)
	if len(empty.list()) != 0 || empty.body["has_more"] != false {
		t.Fatalf("no changes yet, got %s", empty.raw)
	}
	sync = empty.body["sync"].(string)

	gid := e.ok(201, "POST", "/tasks", map[string]any{"name": "Evented", "projects": []string{test}}).data()["gid"].(string)
	e.ok(200, "PUT", "/tasks/"+gid, map[string]any{"name": "Evented twice", "html_notes": "<body>n</body>", "resource_subtype": "milestone", "completed": true})
	sid := e.ok(201, "POST", "/tasks/"+gid+"/stories", map[string]any{"text": "hello"}).data()["gid"].(string)
	e.ok(200, "PUT", "/stories/"+sid, map[string]any{"text": "hello again"})
	body, ct := multipartBody(t, map[string]string{"parent": gid}, fileDisposition("n.txt"), strings.NewReader("note"))
	if r := e.send("POST", "/attachments", body, ct, e.sb.Token()); r.status != 200 {
		t.Fatalf("upload: %s", r.raw)
	}
	// A change in another project is not seen here.
	other := e.taskNamed(e.project("Company"), "Q3 campaign brief")
	e.ok(200, "PUT", "/tasks/"+other, map[string]any{"name": "Q3 campaign brief v2"})

	r := e.events(test, sync, 200)
	var got []string
	for _, ev := range r.list() {
		got = append(got, summary(ev))
		if ev["type"] != ev["resource"].(map[string]any)["resource_type"] || ev["user"].(map[string]any)["gid"] == nil || ev["created_at"] == nil {
			t.Errorf("event lacks type/user/created_at: %v", ev)
		}
	}
	want := []string{
		"task added <project>",
		"task changed name", "story added name_changed <task>",
		"task changed notes", "story added notes_changed <task>",
		"task changed resource_subtype", "story added resource_subtype_changed <task>",
		"task changed completed", "story added marked_complete <task>",
		"story added comment_added <task>",
		"story changed comment_added text",
		"attachment added <task>", "story added attachment_added <task>",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	if r.body["has_more"] != false {
		t.Errorf("has_more = %v", r.body["has_more"])
	}
	// Re-requesting a token gives the same events.
	if again := e.events(test, sync, 200); len(again.list()) != len(want) {
		t.Errorf("re-requested token gave %d events", len(again.list()))
	}
	sync = r.body["sync"].(string)

	e.ok(200, "DELETE", "/tasks/"+gid, nil)
	del := e.events(test, sync, 200).list()
	if len(del) != 1 || summary(del[0]) != "task deleted" || del[0]["resource"].(map[string]any)["gid"] != gid {
		t.Fatalf("deletion events = %v", del)
	}
	// Assignee changes carry the new assignee, as Asana's do.
	t1 := e.taskNamed(test, "Test task 1")
	sync = e.events(t1, "", 412).body["sync"].(string)
	e.ok(200, "PUT", "/tasks/"+t1, map[string]any{"assignee": "priya@acme.example"})
	assigned := e.events(t1, sync, 200).list()
	if len(assigned) != 2 || summary(assigned[0]) != "task changed assignee" ||
		assigned[0]["change"].(map[string]any)["new_value"].(map[string]any)["name"] != "Priya Shah" {
		t.Fatalf("assignee events = %v", assigned)
	}
	sync = e.events(test, "", 412).body["sync"].(string)
	// A token is bound to its resource.
	e.events(e.project("Company"), sync, 412)

	sel := e.call("GET", "/events?resource="+test+"&sync="+sync+"&opt_fields=action,resource.name,user.name", nil)
	if sel.status != 200 {
		t.Fatalf("opt_fields on events: %s", sel.raw)
	}
	e.fails(400, "resource: Missing input", "GET", "/events", nil, asanatest.ExpectInvalidRequest)
	e.fails(404, "resource: Unknown object", "GET", "/events?resource=1299999999999999", nil)
	e.fails(400, "opt_fields: Unknown field: bogus", "GET", "/events?resource="+test+"&opt_fields=bogus", nil, asanatest.ExpectInvalidRequest)
}

func TestEventsOnTaskAndHasMore(t *testing.T) {
	e := newEnv(t)
	company := e.project("Company")
	gid := e.taskNamed(company, "Social calendar for September")
	neighbour := e.taskNamed(company, "Hire contract copywriter")
	sync := e.events(gid, "", 412).body["sync"].(string)
	projSync := e.events(company, "", 412).body["sync"].(string)

	e.ok(200, "PUT", "/tasks/"+neighbour, map[string]any{"name": "Hire two copywriters"}) // not on this task
	for i := 0; i < 60; i++ {
		e.ok(201, "POST", "/tasks/"+gid+"/stories", map[string]any{"text": fmt.Sprintf("comment %d", i)})
		e.ok(200, "PUT", "/tasks/"+gid, map[string]any{"name": fmt.Sprintf("Social calendar v%d", i)})
	}
	// 60 comments + 60 renames with their system stories: 180 events.
	var total, calls int
	for more := true; more; calls++ {
		r := e.events(gid, sync, 200)
		n := len(r.list())
		if n > 100 {
			t.Fatalf("%d events in one answer", n)
		}
		total += n
		more = r.body["has_more"].(bool)
		sync = r.body["sync"].(string)
		for _, ev := range r.list() {
			if ev["resource"].(map[string]any)["gid"] == neighbour {
				t.Fatalf("task subscription saw a neighbour's event")
			}
		}
	}
	if total != 180 || calls != 2 {
		t.Fatalf("read %d events in %d calls, want 180 in 2", total, calls)
	}
	if rest := e.events(gid, sync, 200); len(rest.list()) != 0 || rest.body["has_more"] != false {
		t.Errorf("after draining: %s", rest.raw)
	}
	// The project sees the neighbour's rename too.
	r := e.events(company, projSync, 200)
	if r.body["has_more"] != true || len(r.list()) != 100 || summary(r.list()[0]) != "task changed name" {
		t.Errorf("project events: has_more=%v n=%d first=%v", r.body["has_more"], len(r.list()), summary(r.list()[0]))
	}
}
