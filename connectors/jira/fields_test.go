package jira_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/jira"
	"github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine/tracker"
)

func ptr[T any](v T) *T { return &v }

// calls is what a step cost, by endpoint ("PUT /issue/{id}": 1).
func (e *env) calls(t *testing.T, step func()) map[string]int64 {
	t.Helper()
	before := e.client.Stats()
	step()
	d := e.client.Stats().Sub(before)
	out := map[string]int64{}
	for k, n := range d.ByEndpoint {
		if n != 0 {
			out[k] = n
		}
	}
	return out
}

func sameCalls(got map[string]int64, want map[string]int64) bool {
	if len(got) != len(want) {
		return false
	}
	for k, n := range want {
		if got[k] != n {
			return false
		}
	}
	return true
}

// TestTrackerGetFields reads the fields beyond the Basic ones of the demo's
// issues, in the one call Get makes.
func TestTrackerGetFields(t *testing.T) {
	e := start(t, nil, sandbox.WithSite("Globex"))
	tr, _ := e.tracker(t)
	login := e.issueNamed(t, "KAN", "Login button unresponsive on Safari 17")
	var got tracker.Entity
	cost := e.calls(t, func() {
		var err error
		if got, err = tr.Get(ctx(t), login.Key); err != nil {
			t.Fatal(err)
		}
	})
	if !sameCalls(cost, map[string]int64{"GET /issue/{id}": 1}) {
		t.Errorf("Get cost %v, want one GET /issue", cost)
	}
	if got.Status != "In Progress" || got.Completed || got.Priority != "High" ||
		got.Assignee == nil || *got.Assignee != (tracker.User{Email: "alex@acme.example", Name: "Alex Rivera"}) ||
		!slices.Equal(got.Labels, []string{"frontend", "safari"}) {
		t.Errorf("fields = %+v", got.Fields)
	}
	if _, err := time.Parse(time.DateOnly, got.DueDate); err != nil {
		t.Errorf("due date %q: %v", got.DueDate, err)
	}

	done, err := tr.Get(ctx(t), e.issueNamed(t, "KAN", "Set up CI pipeline for the mobile app").Key)
	if err != nil || done.Status != "Done" || !done.Completed {
		t.Errorf("a done issue: %+v %v", done.Fields, err)
	}
	private, err := tr.Get(ctx(t), e.issueNamed(t, "KAN", "Update the privacy policy page").Key)
	if err != nil || private.Assignee == nil || *private.Assignee != (tracker.User{Name: "Jordan Lee"}) || private.Status != "In Review" {
		t.Errorf("an assignee whose e-mail is hidden: %+v %v", private.Fields, err)
	}
	plain, err := tr.Get(ctx(t), e.issueNamed(t, "KAN", "Reduce cold start time of the API gateway").Key)
	if err != nil || plain.Status != "To Do" || plain.Completed || plain.Assignee != nil || plain.DueDate != "" || plain.Labels != nil || plain.Priority != "Low" {
		t.Errorf("an issue with no assignee, date or labels: %+v %v", plain.Fields, err)
	}
}

// TestTrackerUpdateFields sets every field beyond the Basic ones in one
// update: the status through its transition, the assignee found by
// e-mail, the rest in the PUT; Update returns them as Get reads them.
func TestTrackerUpdateFields(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"), sandbox.WithSite("Globex"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "Fields"})
	if err != nil {
		t.Fatal(err)
	}
	u := tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{
		Status:   ptr("in progress"),
		Assignee: ptr("Dana@Globex.example"),
		Priority: ptr("High"),
		DueDate:  ptr("2026-12-31"),
		Labels:   ptr([]string{"partner", "backend", "partner"}),
	}}
	var got tracker.Entity
	cost := e.calls(t, func() {
		if got, err = tr.Update(c, made.Key, u); err != nil {
			t.Fatal(err)
		}
	})
	want := map[string]int64{"GET /user/search": 1, "GET /issue/{id}/transitions": 1, "PUT /issue/{id}": 1,
		"POST /issue/{id}/transitions": 1, "GET /issue/{id}": 1}
	if !sameCalls(cost, want) {
		t.Errorf("Update cost %v, want %v", cost, want)
	}
	wantFields := tracker.Fields{Status: "In Progress", Assignee: &tracker.User{Email: "dana@globex.example", Name: "Dana Whitfield"},
		Priority: "High", DueDate: "2026-12-31", Labels: []string{"backend", "partner"}}
	if !sameFields(got.Fields, wantFields) {
		t.Errorf("Update returned %+v, want %+v", got.Fields, wantFields)
	}
	read, err := tr.Get(c, made.ID)
	if err != nil || !sameFields(read.Fields, wantFields) {
		t.Errorf("Get after Update: %+v %v", read.Fields, err)
	}

	// The account is remembered: the same assignee again costs no search.
	cost = e.calls(t, func() {
		if _, err := tr.Update(c, made.Key, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Assignee: ptr("dana@globex.example")}}); err != nil {
			t.Fatal(err)
		}
	})
	if cost["GET /user/search"] != 0 {
		t.Errorf("a known assignee cost %v", cost)
	}

	// Completed alone moves to a done status and back to a to-do one.
	got, err = tr.Update(c, made.Key, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Completed: ptr(true)}})
	if err != nil || got.Status != "Done" || !got.Completed {
		t.Errorf("completing: %+v %v", got.Fields, err)
	}
	got, err = tr.Update(c, made.Key, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Completed: ptr(false)}})
	if err != nil || got.Status != "To Do" || got.Completed {
		t.Errorf("reopening: %+v %v", got.Fields, err)
	}

	// "" clears; an e-mail the profile hides is still found.
	got, err = tr.Update(c, made.Key, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{
		Priority: ptr(""), DueDate: ptr(""), Labels: ptr([]string{}), Assignee: ptr("jordan@globex.example")}})
	if err != nil || got.Priority != "" || got.DueDate != "" || got.Labels != nil || got.Assignee == nil || got.Assignee.Name != "Jordan Lee" {
		t.Errorf("clearing, and a hidden e-mail: %+v %v", got.Fields, err)
	}
	got, err = tr.Update(c, made.Key, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Assignee: ptr("")}})
	if err != nil || got.Assignee != nil {
		t.Errorf("unassigning: %+v %v", got.Fields, err)
	}
}

func sameFields(a, b tracker.Fields) bool {
	if (a.Assignee == nil) != (b.Assignee == nil) || a.Assignee != nil && *a.Assignee != *b.Assignee {
		return false
	}
	return a.Status == b.Status && a.Completed == b.Completed && a.Priority == b.Priority &&
		a.DueDate == b.DueDate && slices.Equal(a.Labels, b.Labels)
}

// TestTrackerUpdateBasicCallsUnchanged: an update of Basic fields only
// costs what it always did, a PUT and a GET.
func TestTrackerUpdateBasicCallsUnchanged(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	tr, _ := e.tracker(t)
	made, err := tr.Create(ctx(t), tracker.NewEntity{Project: "KAN", Summary: "basic"})
	if err != nil {
		t.Fatal(err)
	}
	summary, desc := "still basic", "<body>text</body>"
	cost := e.calls(t, func() {
		if _, err := tr.Update(ctx(t), made.ID, tracker.EntityUpdate{Summary: &summary, Description: &desc}); err != nil {
			t.Fatal(err)
		}
	})
	if !sameCalls(cost, map[string]int64{"PUT /issue/{id}": 1, "GET /issue/{id}": 1}) {
		t.Errorf("a Basic update cost %v, want one PUT and one GET", cost)
	}
}

// TestTrackerNoTransition: a status no transition leads to is an error
// naming both statuses, marked tracker.ErrBadRequest, and the update
// writes nothing; the status the issue has already needs no transition.
func TestTrackerNoTransition(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "stuck"})
	if err != nil {
		t.Fatal(err)
	}
	for status, want := range map[string]string{
		"In Review": "no transition from To Do to In Review",
		"Shipped":   "no transition from To Do to Shipped",
	} {
		cost := e.calls(t, func() {
			_, err = tr.Update(c, made.Key, tracker.EntityUpdate{Summary: ptr("changed"), FieldsUpdate: tracker.FieldsUpdate{Status: ptr(status)}})
		})
		if !errors.Is(err, tracker.ErrBadRequest) || !strings.Contains(err.Error(), want) {
			t.Errorf("Update to %s: %v, want ErrBadRequest saying %q", status, err, want)
		}
		if cost["PUT /issue/{id}"]+cost["POST /issue/{id}/transitions"] != 0 {
			t.Errorf("a refused status wrote: %v", cost)
		}
	}
	got, err := tr.Get(c, made.ID)
	if err != nil || got.Summary != "stuck" || got.Status != "To Do" {
		t.Errorf("after refused updates: %q %q %v", got.Summary, got.Status, err)
	}
	cost := e.calls(t, func() {
		got, err = tr.Update(c, made.Key, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Status: ptr("to do")}})
	})
	if err != nil || got.Status != "To Do" || cost["POST /issue/{id}/transitions"] != 0 {
		t.Errorf("to the status it has: %+v %v, cost %v", got.Fields, err, cost)
	}
	// From In Progress, the review step is there.
	if _, err := tr.Update(c, made.Key, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Status: ptr("In Progress")}}); err != nil {
		t.Fatal(err)
	}
	if got, err := tr.Update(c, made.Key, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Status: ptr("In Review")}}); err != nil || got.Status != "In Review" {
		t.Errorf("In Progress to In Review: %+v %v", got.Fields, err)
	}
}

// TestTrackerUnknownUser: an e-mail no user has is tracker.ErrUnknownUser
// naming it, and the update writes nothing.
func TestTrackerUnknownUser(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	made, err := tr.Create(c, tracker.NewEntity{Project: "OPS", Summary: "nobody's"})
	if err != nil {
		t.Fatal(err)
	}
	cost := e.calls(t, func() {
		_, err = tr.Update(c, made.Key, tracker.EntityUpdate{Summary: ptr("changed"), FieldsUpdate: tracker.FieldsUpdate{Assignee: ptr("ghost@nowhere.example")}})
	})
	if !errors.Is(err, tracker.ErrUnknownUser) || !strings.Contains(err.Error(), "ghost@nowhere.example") {
		t.Errorf("Update with an unknown assignee: %v, want ErrUnknownUser naming the e-mail", err)
	}
	if !sameCalls(cost, map[string]int64{"GET /user/search": 1}) {
		t.Errorf("an unknown assignee cost %v, want only the search", cost)
	}
	// A prefix of a hidden e-mail is no match.
	if _, err := tr.Update(c, made.Key, tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Assignee: ptr("jordan@globex")}}); !errors.Is(err, tracker.ErrUnknownUser) {
		t.Errorf("a prefix of a hidden e-mail: %v", err)
	}
	if got, err := tr.Get(c, made.ID); err != nil || got.Summary != "nobody's" || got.Assignee != nil {
		t.Errorf("after the refused update: %+v %v", got, err)
	}
}

// TestTrackerRefusedValues: values Jira can't take are errors naming the
// field and value, marked tracker.ErrBadRequest; those the client can tell
// cost no call.
func TestTrackerRefusedValues(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "values"})
	if err != nil {
		t.Fatal(err)
	}
	for name, c2 := range map[string]struct {
		u     tracker.FieldsUpdate
		want  string
		calls int64
	}{
		"due date":   {tracker.FieldsUpdate{DueDate: ptr("next friday")}, `due date "next friday"`, 0},
		"label":      {tracker.FieldsUpdate{Labels: ptr([]string{"two words"})}, `label "two words"`, 0},
		"section":    {tracker.FieldsUpdate{Section: ptr("Backlog")}, "no section", 0},
		"custom":     {tracker.FieldsUpdate{Custom: map[string]string{"Team": "Blue"}}, "custom fields (Team)", 0},
		"empty":      {tracker.FieldsUpdate{Status: ptr(" ")}, "status can't be empty", 0},
		"priority":   {tracker.FieldsUpdate{Priority: ptr("Urgent")}, `priority "Urgent"`, 1},
		"both":       {tracker.FieldsUpdate{Priority: ptr("Urgent"), DueDate: ptr("2026-01-01")}, `priority "Urgent"`, 1},
		"assignment": {tracker.FieldsUpdate{Priority: ptr("Urgent"), Labels: ptr([]string{"ok"})}, "The priority selected is invalid", 1},
	} {
		cost := e.calls(t, func() {
			_, err = tr.Update(c, made.Key, tracker.EntityUpdate{FieldsUpdate: c2.u})
		})
		if !errors.Is(err, tracker.ErrBadRequest) || !strings.Contains(err.Error(), c2.want) {
			t.Errorf("%s: %v, want ErrBadRequest saying %q", name, err, c2.want)
		}
		var n int64
		for _, k := range cost {
			n += k
		}
		if n != c2.calls {
			t.Errorf("%s cost %v, want %d calls", name, cost, c2.calls)
		}
	}
	if got, err := tr.Get(c, made.ID); err != nil || got.Priority != "Medium" || got.DueDate != "" || got.Labels != nil {
		t.Errorf("after refused values: %+v %v", got.Fields, err)
	}
	if _, err := e.client.FindUsers(c, " "); !errors.Is(err, jira.ErrInvalidRequest) {
		t.Errorf("an empty user search: %v", err)
	}
}
