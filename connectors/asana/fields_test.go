package asana_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// calls is what the client sent since before, by endpoint.
func (e *env) calls(before asana.Stats) map[string]int64 {
	return e.client.Stats().Sub(before).ByEndpoint
}

// The seed's dates are relative to when it ran; due dates are only
// checked to be dates.
func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// TestFieldsGet: Get reads the fields beyond Basic of the seeded tasks
// from the one GET of the task; only a new assignee's e-mail costs one
// look-up more.
func TestFieldsGet(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	company := e.project(t, "Company")

	for _, tc := range []struct {
		task string
		want tracker.Fields
	}{
		{"Trade show booth logistics", tracker.Fields{Section: "To do", Assignee: &tracker.User{Email: "marcus@acme.example", Name: "Marcus Chen"},
			Priority: "Medium", Labels: []string{"blocked", "partner"}}},
		{"Q3 campaign brief", tracker.Fields{Section: "In progress", Assignee: &tracker.User{Email: "alex@acme.example", Name: "Alex Rivera"},
			Priority: "High", Labels: []string{"partner"}, Custom: map[string]string{"Story points": "8"}}},
		{"Customer case study: Northwind", tracker.Fields{Section: "To do", Assignee: &tracker.User{Email: "priya@acme.example", Name: "Priya Shah"},
			Custom: map[string]string{"Customer": "Northwind"}}},
		{"Renew SaaS licences (Figma, Notion)", tracker.Fields{Section: "Done", Completed: true,
			Assignee: &tracker.User{Email: "alex@acme.example", Name: "Alex Rivera"}}},
		{"Social calendar for September", tracker.Fields{Section: "To do"}},
	} {
		gid := e.taskNamed(t, company.GID, tc.task).GID
		got, err := tr.Get(c, gid)
		if err != nil {
			t.Fatal(err)
		}
		f := got.Fields
		if tc.task == "Trade show booth logistics" || tc.task == "Q3 campaign brief" {
			if !isDate(f.DueDate) {
				t.Errorf("%s: due date %q, want the seeded date", tc.task, f.DueDate)
			}
			f.DueDate = ""
		}
		if !reflect.DeepEqual(f, tc.want) {
			t.Errorf("%s: fields\n got %+v (assignee %+v)\nwant %+v (assignee %+v)", tc.task, f, f.Assignee, tc.want, tc.want.Assignee)
		}
	}

	// Alex is the token's user, met at Check; Marcus once; nobody again.
	before := e.client.Stats()
	for _, task := range []string{"Trade show booth logistics", "Website refresh: pricing page", "Q3 campaign brief"} {
		if _, err := tr.Get(c, e.taskNamed(t, company.GID, task).GID); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.calls(before); n["GET /tasks/{gid}"] != 3 || n["GET /users/{gid}"] != 0 {
		t.Errorf("three Gets of tasks whose assignees were met took %v, want one GET of each task and no user look-up", n)
	}
	e.requireValidated(t)
}

// TestFieldsUpdate: completed, the due date and the assignee (by e-mail)
// are set in the one PUT, come back from Update as Get reads them after,
// and clear with "".
func TestFieldsUpdate(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	created, err := tr.Create(c, tracker.NewEntity{Project: e.project(t, "Test").GID, Summary: "fields"})
	if err != nil {
		t.Fatal(err)
	}
	if created.Fields.Assignee != nil || created.Fields.Completed || created.Fields.Section != "Untitled section" {
		t.Errorf("a new task's fields = %+v", created.Fields)
	}

	done, due, who := true, "2030-01-31", "priya@acme.example"
	before := e.client.Stats()
	updated, err := tr.Update(c, created.ID, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Completed: &done, DueDate: &due, Assignee: &who}})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.calls(before); n["PUT /tasks/{gid}"] != 1 || n["GET /users/{gid}"] != 1 || len(n) != 2 {
		t.Errorf("Update took %v, want one look-up of the e-mail and one PUT", n)
	}
	want := tracker.Fields{Section: "Untitled section", Completed: true, DueDate: due, Assignee: &tracker.User{Email: who, Name: "Priya Shah"}}
	if !reflect.DeepEqual(updated.Fields, want) || !updated.ModifiedAt.After(created.ModifiedAt) {
		t.Errorf("updated fields = %+v (assignee %+v), want %+v", updated.Fields, updated.Fields.Assignee, want)
	}
	got, err := tr.Get(c, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Fields, updated.Fields) || !got.ModifiedAt.Equal(updated.ModifiedAt) {
		t.Errorf("Get after Update: %+v, want %+v", got.Fields, updated.Fields)
	}

	// The user is known now, in any case: one PUT.
	shout, summary := "PRIYA@acme.example", "fields, again"
	before = e.client.Stats()
	if _, err := tr.Update(c, created.ID, tracker.EntityUpdate{Summary: &summary, FieldsUpdate: tracker.FieldsUpdate{Assignee: &shout}}); err != nil {
		t.Fatal(err)
	}
	if n := e.calls(before); n["PUT /tasks/{gid}"] != 1 || len(n) != 1 {
		t.Errorf("Update to a known user took %v, want one PUT", n)
	}

	undone, none := false, ""
	cleared, err := tr.Update(c, created.ID, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Completed: &undone, DueDate: &none, Assignee: &none}})
	if err != nil {
		t.Fatal(err)
	}
	if f := cleared.Fields; f.Completed || f.DueDate != "" || f.Assignee != nil {
		t.Errorf("after clearing: %+v", f)
	}

	bad := "31/01/2030"
	if _, err := tr.Update(c, created.ID, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{DueDate: &bad}}); !errors.Is(err, tracker.ErrBadRequest) || !strings.Contains(err.Error(), bad) {
		t.Errorf("a due date that is no date: %v, want a bad request naming it", err)
	}
	status := "Done"
	if _, err := tr.Update(c, created.ID, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Status: &status}}); !errors.Is(err, tracker.ErrBadRequest) {
		t.Errorf("a workflow status on Asana: %v, want a bad request", err)
	}
	e.requireValidated(t)
}

// TestFieldsUnknownUser: an assignee's e-mail no user has is
// ErrUnknownUser naming it, and nothing is written.
func TestFieldsUnknownUser(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	created, err := tr.Create(c, tracker.NewEntity{Project: e.project(t, "Test").GID, Summary: "unchanged"})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"nobody@acme.example", "not an address"} {
		summary := "changed"
		before := e.client.Stats()
		_, err := tr.Update(c, created.ID, tracker.EntityUpdate{Summary: &summary, FieldsUpdate: tracker.FieldsUpdate{Assignee: &who}})
		if !errors.Is(err, tracker.ErrUnknownUser) || !strings.Contains(err.Error(), who) {
			t.Errorf("assigning %q: %v, want ErrUnknownUser naming the e-mail", who, err)
		}
		if n := e.calls(before); n["PUT /tasks/{gid}"] != 0 {
			t.Errorf("assigning %q wrote: %v", who, n)
		}
	}
	got, err := tr.Get(c, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != "unchanged" || got.Fields.Assignee != nil {
		t.Errorf("after refused updates: %q assigned to %+v", got.Summary, got.Fields.Assignee)
	}
	e.requireValidated(t)
}

// TestFieldsCustom: Priority and custom fields are set by option name,
// text or number, through one read of the task's fields and one PUT;
// what is so already is not written; what can't be set is a bad request.
func TestFieldsCustom(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	test := e.project(t, "Test")
	created, err := tr.Create(c, tracker.NewEntity{Project: test.GID, Summary: "custom"})
	if err != nil {
		t.Fatal(err)
	}
	changes, err := tr.Changes(c, test.GID, "")
	if err != nil || !changes.Reset {
		t.Fatalf("first Changes: %+v, %v", changes, err)
	}

	high := "High"
	before := e.client.Stats()
	updated, err := tr.Update(c, created.ID, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Priority: &high,
		Custom: map[string]string{"Customer": "Initech", "story points": "3.5"}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.calls(before); n["GET /tasks/{gid}"] != 1 || n["PUT /tasks/{gid}"] != 1 || len(n) != 2 {
		t.Errorf("Update took %v, want one read of the task's fields and one PUT", n)
	}
	if f := updated.Fields; f.Priority != "High" || !reflect.DeepEqual(f.Custom, map[string]string{"Customer": "Initech", "Story points": "3.5"}) {
		t.Errorf("updated fields = %+v", f)
	}
	got, err := tr.Get(c, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Fields, updated.Fields) {
		t.Errorf("Get after Update: %+v, want %+v", got.Fields, updated.Fields)
	}
	if ch, err := tr.Changes(c, test.GID, changes.Cursor); err != nil || len(ch.IDs) != 1 || ch.IDs[0] != created.ID {
		t.Errorf("Changes after setting custom fields: %+v, %v; want the task", ch, err)
	}

	// Already so, spelt otherwise: read, not written.
	same := "high"
	before = e.client.Stats()
	if _, err := tr.Update(c, created.ID, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Priority: &same,
		Custom: map[string]string{"Story points": "3.50"}}}); err != nil {
		t.Fatal(err)
	}
	if n := e.calls(before); n["PUT /tasks/{gid}"] != 0 || n["GET /tasks/{gid}"] != 1 {
		t.Errorf("an update to what is so already took %v, want one read and no PUT", n)
	}

	// A text clears with "".
	cleared, err := tr.Update(c, created.ID, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Custom: map[string]string{"Customer": ""}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cleared.Fields.Custom["Customer"]; ok || cleared.Fields.Custom["Story points"] != "3.5" {
		t.Errorf("after clearing Customer: %+v", cleared.Fields.Custom)
	}

	none := ""
	for name, u := range map[string]tracker.FieldsUpdate{
		"Urgent":        {Priority: ptr("Urgent")},
		"Nope":          {Custom: map[string]string{"Nope": "x"}},
		"holds numbers": {Custom: map[string]string{"Story points": "lots"}},
		"can't clear":   {Priority: &none},
	} {
		before := e.client.Stats()
		if _, err := tr.Update(c, created.ID, tracker.EntityUpdate{FieldsUpdate: u}); !errors.Is(err, tracker.ErrBadRequest) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want a bad request saying so", name, err)
		}
		if n := e.calls(before); n["PUT /tasks/{gid}"] != 0 {
			t.Errorf("%s: a refused update wrote: %v", name, n)
		}
	}
	if got, _ := tr.Get(c, created.ID); got.Fields.Priority != "High" {
		t.Errorf("refused updates changed Priority to %q", got.Fields.Priority)
	}
	e.requireValidated(t)
}

// TestFieldsTagsAndSection: the document has no operation to change a
// task's tags or section, so asking for the ones it has is no change, and
// asking for others is a bad request that says why and writes nothing.
func TestFieldsTagsAndSection(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	gid := e.taskNamed(t, e.project(t, "Company").GID, "Trade show booth logistics").GID

	before := e.client.Stats()
	got, err := tr.Update(c, gid, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{
		Labels: &[]string{"partner", " blocked", "partner"}, Section: ptr("To do")}})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.calls(before); n["PUT /tasks/{gid}"] != 0 || n["GET /tasks/{gid}"] != 1 {
		t.Errorf("an update to the tags and section the task has took %v, want one read and no PUT", n)
	}
	if !reflect.DeepEqual(got.Fields.Labels, []string{"blocked", "partner"}) || got.Fields.Section != "To do" {
		t.Errorf("fields = %+v", got.Fields)
	}
	for want, u := range map[string]tracker.FieldsUpdate{
		"addTag":  {Labels: &[]string{"partner"}},
		"addTask": {Section: ptr("Done")},
	} {
		before := e.client.Stats()
		if _, err := tr.Update(c, gid, tracker.EntityUpdate{FieldsUpdate: u}); !errors.Is(err, tracker.ErrBadRequest) || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want a bad request naming the missing %s", u, err, want)
		}
		if n := e.calls(before); n["PUT /tasks/{gid}"] != 0 {
			t.Errorf("%+v wrote: %v", u, n)
		}
	}
	e.requireValidated(t)
}

func ptr[T any](v T) *T { return &v }
