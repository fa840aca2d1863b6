package sandbox

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// transitionIDs lists the ids and target statuses of an issue's
// transitions, as "21>In Progress".
func (e *env) transitionIDs(key string) []string {
	e.t.Helper()
	var out []string
	for _, tr := range e.ok(200, "GET", "/issue/"+key+"/transitions", nil).list("transitions") {
		to, _ := tr["to"].(map[string]any)
		out = append(out, tr["id"].(string)+">"+to["name"].(string))
	}
	return out
}

// statusOf is an issue's status name and category key.
func (e *env) statusOf(key string) (name, category string) {
	e.t.Helper()
	st, _ := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key+"?fields=status", nil))["status"].(map[string]any)
	cat, _ := st["statusCategory"].(map[string]any)
	name, _ = st["name"].(string)
	category, _ = cat["key"].(string)
	return name, category
}

func transitionTo(id string) map[string]any {
	return map[string]any{"transition": map[string]any{"id": id}}
}

// TestWorkflowTransitions moves an issue through KAN's workflow: only the
// transitions its status allows are listed and taken; In Review is reached
// only from In Progress; the status can't be edited.
func TestWorkflowTransitions(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	_, key := e.create("KAN", "Task", "Moving", nil)
	if name, cat := e.statusOf(key); name != "To Do" || cat != "new" {
		t.Fatalf("a new issue is %s (%s), want To Do (new)", name, cat)
	}
	if got, want := e.transitionIDs(key), []string{"21>In Progress", "31>Done"}; !slices.Equal(got, want) {
		t.Errorf("from To Do: %v, want %v", got, want)
	}
	e.fails(400, "Transition id '41' is not valid for this issue.", req{method: "POST", path: "/issue/" + key + "/transitions", body: transitionTo("41")})

	before := mustTime(t, fieldsOfIssue(e.ok(200, "GET", "/issue/"+key+"?fields=updated", nil))["updated"])
	e.ok(204, "POST", "/issue/"+key+"/transitions", transitionTo("21"))
	if name, cat := e.statusOf(key); name != "In Progress" || cat != "indeterminate" {
		t.Errorf("after transition 21: %s (%s)", name, cat)
	}
	if after := mustTime(t, fieldsOfIssue(e.ok(200, "GET", "/issue/"+key+"?fields=updated", nil))["updated"]); !after.After(before) {
		t.Errorf("a transition left updated at %v", after)
	}
	if got, want := e.transitionIDs(key), []string{"11>To Do", "31>Done", "41>In Review"}; !slices.Equal(got, want) {
		t.Errorf("from In Progress: %v, want %v", got, want)
	}
	one := e.ok(200, "GET", "/issue/"+key+"/transitions?transitionId=41", nil).list("transitions")
	if len(one) != 1 || one[0]["isGlobal"] != false || one[0]["name"] != "Request review" {
		t.Errorf("transitionId=41: %v", one)
	}
	e.ok(204, "POST", "/issue/"+key+"/transitions", transitionTo("41"))
	e.ok(204, "POST", "/issue/"+key+"/transitions", transitionTo("31"))
	if name, cat := e.statusOf(key); name != "Done" || cat != "done" {
		t.Errorf("after review and done: %s (%s)", name, cat)
	}

	e.fails(400, "Missing 'transition' identifier", req{method: "POST", path: "/issue/" + key + "/transitions", body: map[string]any{}})
	e.fails(400, "cannot be set", req{method: "POST", path: "/issue/" + key + "/transitions",
		body: map[string]any{"transition": map[string]any{"id": "11"}, "fields": map[string]any{"resolution": map[string]any{"name": "Done"}}}})
	e.fails(404, "Issue does not exist", req{method: "POST", path: "/issue/KAN-404/transitions", body: transitionTo("11")})
	e.fails(404, "Issue does not exist", req{method: "GET", path: "/issue/KAN-404/transitions"})
	e.fails(400, "cannot be set", req{method: "PUT", path: "/issue/" + key, body: map[string]any{"fields": map[string]any{"status": map[string]any{"name": "To Do"}}}})
	if name, _ := e.statusOf(key); name != "Done" {
		t.Errorf("refused requests moved the issue to %s", name)
	}

	// OPS has the simplified workflow: no review step.
	_, ops := e.create("OPS", "Task", "Simple", nil)
	e.ok(204, "POST", "/issue/"+ops+"/transitions", transitionTo("21"))
	if got, want := e.transitionIDs(ops), []string{"11>To Do", "31>Done"}; !slices.Equal(got, want) {
		t.Errorf("OPS from In Progress: %v, want %v", got, want)
	}
}

// findUsers runs a user search and returns the e-mails found, "(hidden)"
// for a user whose profile hides it.
func (e *env) findUsers(query string) []string {
	e.t.Helper()
	var out []string
	for _, u := range e.ok(200, "GET", "/user/search?query="+url.QueryEscape(query), nil).list("") {
		email, ok := u["emailAddress"].(string)
		if !ok {
			email = "(hidden) " + u["displayName"].(string)
		}
		out = append(out, email)
	}
	return out
}

// TestUserSearch finds the site's people by e-mail and by name, as Jira's
// user search does; a private e-mail matches only whole and is not shown.
func TestUserSearch(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty"), WithSite("Globex")})
	for query, want := range map[string][]string{
		"dana@globex.example":   {"dana@globex.example"},
		"DANA@Globex.example":   {"dana@globex.example"},
		"dan":                   {"dana@globex.example"},
		"rivera":                {"alex@acme.example"},
		"alex@acme.example":     {"alex@acme.example"},
		"jordan@globex.example": {"(hidden) Jordan Lee"},
		"jordan@glob":           nil,
		"nobody@globex.example": nil,
		"admin@globex.example":  {"admin@globex.example"},
	} {
		if got := e.findUsers(query); !slices.Equal(got, want) {
			t.Errorf("query %q: %v, want %v", query, got, want)
		}
	}
	dana := e.ok(200, "GET", "/user/search?query=dana", nil).list("")[0]
	byID := e.ok(200, "GET", "/user/search?accountId="+dana["accountId"].(string), nil).list("")
	if len(byID) != 1 || byID[0]["displayName"] != "Dana Whitfield" || byID[0]["active"] != true || byID[0]["accountType"] != "atlassian" {
		t.Errorf("by accountId: %v", byID)
	}
	if page := e.ok(200, "GET", "/user/search?query=a&maxResults=1&startAt=1", nil).list(""); len(page) != 1 {
		t.Errorf("a page of one: %v", page)
	}
	e.fails(400, "must be provided", req{method: "GET", path: "/user/search"})
	e.fails(400, "GDPR", req{method: "GET", path: "/user/search?username=dana"})
}

// TestIssueFields sets, reads and clears the fields beyond the Basic ones
// on an edit; an edit to the values the issue has leaves updated alone.
func TestIssueFields(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	_, key := e.create("KAN", "Task", "Fields", nil)
	f := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key, nil))
	if f["assignee"] != nil || f["duedate"] != nil || len(f["labels"].([]any)) != 0 || f["priority"].(map[string]any)["name"] != "Medium" {
		t.Errorf("a new issue: assignee %v, duedate %v, labels %v, priority %v", f["assignee"], f["duedate"], f["labels"], f["priority"])
	}
	dana := e.ok(200, "GET", "/user/search?query=dana", nil).list("")[0]["accountId"].(string)
	set := map[string]any{
		"assignee": map[string]any{"accountId": dana},
		"priority": map[string]any{"name": "high"},
		"duedate":  "2026-12-31",
		"labels":   []string{"partner", "backend", "partner"},
	}
	e.ok(204, "PUT", "/issue/"+key, map[string]any{"fields": set})
	f = fieldsOfIssue(e.ok(200, "GET", "/issue/"+key+"?fields=assignee,priority,duedate,labels,updated", nil))
	assignee, _ := f["assignee"].(map[string]any)
	if assignee["accountId"] != dana || assignee["emailAddress"] != "dana@globex.example" || assignee["displayName"] != "Dana Whitfield" {
		t.Errorf("assignee %v", f["assignee"])
	}
	if p, _ := f["priority"].(map[string]any); p["name"] != "High" || p["id"] != "2" {
		t.Errorf("priority %v", f["priority"])
	}
	if f["duedate"] != "2026-12-31" || !slices.Equal(toStrings(f["labels"]), []string{"backend", "partner"}) {
		t.Errorf("duedate %v, labels %v", f["duedate"], f["labels"])
	}
	updated := f["updated"]
	e.ok(204, "PUT", "/issue/"+key, map[string]any{"fields": set})
	if again := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key+"?fields=updated", nil))["updated"]; again != updated {
		t.Errorf("an edit that changed nothing moved updated from %v to %v", updated, again)
	}

	for name, c := range map[string]struct {
		value any
		want  string
	}{
		"assignee": {map[string]any{"accountId": "nobody"}, "cannot be assigned"},
		"priority": {map[string]any{"id": "9"}, "The priority selected is invalid."},
		"duedate":  {"tomorrow", "Error parsing date string: tomorrow"},
		"labels":   {[]string{"two words"}, "The label 'two words' contains spaces"},
	} {
		e.fails(400, c.want, req{method: "PUT", path: "/issue/" + key, body: map[string]any{"fields": map[string]any{name: c.value}}})
	}

	e.ok(204, "PUT", "/issue/"+key, map[string]any{"fields": map[string]any{"assignee": nil, "priority": nil, "duedate": nil, "labels": nil}})
	f = fieldsOfIssue(e.ok(200, "GET", "/issue/"+key, nil))
	if f["assignee"] != nil || f["priority"] != nil || f["duedate"] != nil || len(f["labels"].([]any)) != 0 {
		t.Errorf("after clearing: assignee %v, priority %v, duedate %v, labels %v", f["assignee"], f["priority"], f["duedate"], f["labels"])
	}
}

// TestDemoSeedFields: the demo's issues have statuses, people, priorities,
// due dates and labels, and a hidden e-mail stays hidden on an issue too.
func TestDemoSeedFields(t *testing.T) {
	e := newEnv(t, nil)
	issues := e.ok(200, "GET", "/search/jql?jql="+url.QueryEscape("project = KAN")+"&fields=summary,status,assignee,priority,duedate,labels&maxResults=100", nil).list("issues")
	bySummary := map[string]map[string]any{}
	for _, is := range issues {
		f := is["fields"].(map[string]any)
		bySummary[f["summary"].(string)] = f
	}
	login := bySummary["Login button unresponsive on Safari 17"]
	if login == nil {
		t.Fatalf("no seeded login issue in %v", bySummary)
	}
	if login["status"].(map[string]any)["name"] != "In Progress" || login["priority"].(map[string]any)["name"] != "High" ||
		login["assignee"].(map[string]any)["emailAddress"] != "alex@acme.example" ||
		!slices.Equal(toStrings(login["labels"]), []string{"frontend", "safari"}) {
		t.Errorf("login issue %v", login)
	}
	if _, err := time.Parse(time.DateOnly, login["duedate"].(string)); err != nil {
		t.Errorf("due date %v: %v", login["duedate"], err)
	}
	privacy := bySummary["Update the privacy policy page"]
	a := privacy["assignee"].(map[string]any)
	if _, shown := a["emailAddress"]; shown || a["displayName"] != "Jordan Lee" || privacy["status"].(map[string]any)["name"] != "In Review" {
		t.Errorf("privacy issue %v", privacy)
	}
	ci := bySummary["Set up CI pipeline for the mobile app"]
	if ci["status"].(map[string]any)["statusCategory"].(map[string]any)["key"] != "done" {
		t.Errorf("CI issue %v", ci)
	}
}

// TestStateKeepsFields: a restarted sandbox has the fields and the people
// of the one it was saved from.
func TestStateKeepsFields(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	_, key := e.create("KAN", "Task", "Kept fields", nil)
	priya := e.ok(200, "GET", "/user/search?query=priya", nil).list("")[0]["accountId"].(string)
	e.ok(204, "PUT", "/issue/"+key, map[string]any{"fields": map[string]any{
		"assignee": map[string]any{"accountId": priya}, "priority": nil, "duedate": "2027-01-02", "labels": []string{"kept"}}})
	e.ok(204, "POST", "/issue/"+key+"/transitions", transitionTo("21"))
	e.ok(204, "POST", "/issue/"+key+"/transitions", transitionTo("41"))
	state, err := e.sb.State()
	if err != nil {
		t.Fatal(err)
	}
	f := newEnv(t, []Option{WithState(state)})
	got := fieldsOfIssue(f.ok(200, "GET", "/issue/"+key, nil))
	if got["status"].(map[string]any)["name"] != "In Review" || got["priority"] != nil || got["duedate"] != "2027-01-02" ||
		got["assignee"].(map[string]any)["accountId"] != priya || !slices.Equal(toStrings(got["labels"]), []string{"kept"}) {
		t.Errorf("after restart: %v", got)
	}
	if found := f.findUsers("priya"); len(found) != 1 || !strings.HasSuffix(found[0], "@acme.example") {
		t.Errorf("people after restart: %v", found)
	}
}

func toStrings(v any) []string {
	xs, _ := v.([]any)
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
