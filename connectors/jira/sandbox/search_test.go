package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/jira/jiratest"
)

// search posts a query and returns the keys found (ids when only ids come).
func (e *env) search(jql string, extra map[string]any) []string {
	e.t.Helper()
	body := map[string]any{"jql": jql, "fields": []string{"summary", "updated"}}
	for k, v := range extra {
		body[k] = v
	}
	r := e.ok(200, "POST", "/search/jql", body)
	var out []string
	for _, is := range r.list("issues") {
		if k, ok := is["key"].(string); ok {
			out = append(out, k)
		} else {
			out = append(out, is["id"].(string))
		}
	}
	return out
}

func TestSearchShapesAndPaging(t *testing.T) {
	e := newEnv(t, nil)
	// GET with the default fields: ids only.
	r := e.ok(200, "GET", "/search/jql?jql="+url.QueryEscape("project = KAN"), nil)
	if len(r.list("issues")) != 6 || r.obj()["isLast"] != true || r.obj()["nextPageToken"] != nil || r.obj()["total"] != nil {
		t.Fatalf("ids-only search: %s", r.raw)
	}
	for _, is := range r.list("issues") {
		if len(is) != 1 || is["id"] == nil {
			t.Errorf("ids-only issue %v", is)
		}
	}
	// With fields, key and self come too; the comment field is the object form.
	r = e.ok(200, "GET", "/search/jql?jql="+url.QueryEscape("key = KAN-1")+"&fields=summary,comment", nil)
	is := r.list("issues")[0]
	f := is["fields"].(map[string]any)
	if is["key"] != "KAN-1" || is["self"] == nil || f["summary"] == nil || f["comment"].(map[string]any)["total"] != 2.0 || f["updated"] != nil {
		t.Errorf("search with fields: %v", is)
	}

	// Paging: tokens carry on, bound to their query.
	var seen []string
	token := ""
	for range 10 {
		body := map[string]any{"jql": "project = KAN ORDER BY key ASC", "maxResults": 4, "fields": []string{"summary"}}
		if token != "" {
			body["nextPageToken"] = token
		}
		r := e.ok(200, "POST", "/search/jql", body)
		for _, is := range r.list("issues") {
			seen = append(seen, is["key"].(string))
		}
		if r.obj()["isLast"] == true {
			if r.obj()["nextPageToken"] != nil {
				t.Error("last page has a nextPageToken")
			}
			break
		}
		token = r.obj()["nextPageToken"].(string)
	}
	if strings.Join(seen, ",") != "KAN-1,KAN-2,KAN-3,KAN-4,KAN-5,KAN-6" {
		t.Errorf("paged keys %v", seen)
	}
	first := e.ok(200, "POST", "/search/jql", map[string]any{"jql": "project = KAN", "maxResults": 2})
	tok := first.obj()["nextPageToken"].(string)
	e.fails(400, "next page token is invalid", req{method: "POST", path: "/search/jql", body: map[string]any{"jql": "project = OPS", "nextPageToken": tok}})
	e.fails(400, "next page token is invalid", req{method: "POST", path: "/search/jql", body: map[string]any{"jql": "project = KAN", "nextPageToken": "x" + tok}})
	second := e.ok(200, "GET", "/search/jql?jql="+url.QueryEscape("project = KAN")+"&maxResults=2&nextPageToken="+url.QueryEscape(tok), nil)
	if ids := second.list("issues"); len(ids) != 2 || ids[0]["id"] == first.list("issues")[0]["id"] {
		t.Errorf("GET with a POST token: %s", second.raw)
	}
	// maxResults is capped at 100.
	if r := e.ok(200, "POST", "/search/jql", map[string]any{"jql": "project = KAN", "maxResults": 5000}); len(r.list("issues")) != 6 {
		t.Errorf("maxResults 5000: %s", r.raw)
	}
	ids := make([]int64, 51)
	e.fails(400, "at most 50", req{method: "POST", path: "/search/jql", body: map[string]any{"jql": "project = KAN", "reconcileIssues": ids}})
}

func TestJQLSubset(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	e.pin(t0)
	e.create("KAN", "Task", "Export invoices as CSV", nil) // KAN-1, 08:00
	e.sb.clk.advance(time.Hour)
	e.create("KAN", "Bug", "Crash when exporting PDF", nil) // KAN-2, 09:00
	e.sb.clk.advance(time.Hour)
	e.create("OPS", "Task", "Rotate certificates", nil) // OPS-1, 10:00
	e.sb.clk.advance(time.Hour)
	e.ok(204, "PUT", "/issue/KAN-1", map[string]any{"fields": map[string]any{"summary": "Export invoices as CSV files"}}) // KAN-1 updated 11:00
	for jql, want := range map[string]string{
		"project = KAN":                                   "KAN-2,KAN-1",
		`project = "KAN" ORDER BY key ASC`:                "KAN-1,KAN-2",
		"project = 10001":                                 "OPS-1",
		"project = Operations":                            "OPS-1",
		"project in (KAN, OPS) order by created asc":      "KAN-1,KAN-2,OPS-1",
		"project = KAN ORDER BY updated DESC":             "KAN-1,KAN-2",
		"project = KAN ORDER BY updated ASC":              "KAN-2,KAN-1",
		"issuetype = Bug":                                 "KAN-2",
		"project = KAN AND issuetype = Task":              "KAN-1",
		"type in (Bug, Task) AND project = OPS":           "OPS-1",
		`summary ~ "export"`:                              "KAN-2,KAN-1",
		`summary ~ "csv EXPORT"`:                          "KAN-1",
		`summary ~ "export missing"`:                      "",
		"id in (10000, 10002) ORDER BY key ASC":           "KAN-1,OPS-1",
		"key in (KAN-1,OPS-1) order by key desc":          "OPS-1,KAN-1",
		"key = KAN-2":                                     "KAN-2",
		"issuekey = kan-2":                                "KAN-2",
		`updated >= "2026-03-02 09:00" ORDER BY key ASC`:  "KAN-1,KAN-2,OPS-1",
		`updated > "2026-03-02 09:00" ORDER BY key ASC`:   "KAN-1,OPS-1",
		`updated < "2026/03/02 10:00"`:                    "KAN-2",
		`created <= "2026-03-02 09:00" ORDER BY key ASC`:  "KAN-1,KAN-2",
		`created = "2026-03-02 10:00"`:                    "OPS-1",
		`created >= 2026-03-03`:                           "",
		`project = KAN AND updated >= -1h`:                "KAN-1",
		`project = KAN AND updated >= "-2h 30m"`:          "KAN-2,KAN-1",
		"project = KAN AND updated >= '2026-03-02 10:59'": "KAN-1",
	} {
		if got := strings.Join(e.search(jql, nil), ","); got != want {
			t.Errorf("%s: got %q, want %q", jql, got, want)
		}
	}
	for jql, want := range map[string]string{
		"":                               "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
		"ORDER BY updated DESC":          "Unbounded JQL",
		"project = KAN OR project = OPS": "Error in the JQL Query",
		"(project = KAN)":                "Error in the JQL Query",
		"assignee = currentUser()":       "Field 'assignee' does not exist",
		"summary = foo":                  "operator '=' is not supported",
		"project = NOPE":                 "The value 'NOPE' does not exist for the field 'project'.",
		"issuetype = Saga":               "does not exist for the field 'issuetype'",
		"key = KAN-99":                   "An issue with key 'KAN-99' does not exist",
		`updated >= "yesterday"`:         "Date value 'yesterday'",
		`updated >= "2026-03-02 9"`:      "Date value",
		`summary ~ "open`:                "not closed",
		"project = KAN ORDER BY summary": "Not able to sort",
		"project = KAN project = OPS":    "Expecting either 'OR' or 'AND'",
	} {
		e.fails(400, want, req{method: "POST", path: "/search/jql", body: map[string]any{"jql": jql}})
	}
	e.fails(400, "Unbounded JQL", req{method: "GET", path: "/search/jql"})
}

func TestJQLTimeZoneAndMinutePrecision(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty"), WithTimeZone("Europe/Berlin")})
	e.pin(time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC))
	e.create("KAN", "Task", "A", nil) // 10:30 in Berlin
	e.pin(time.Date(2026, 1, 15, 10, 5, 30, 0, time.UTC))
	e.create("KAN", "Task", "B", nil) // 11:05:30 in Berlin
	if u := fieldsOfIssue(e.ok(200, "GET", "/issue/KAN-2", nil))["updated"]; u != "2026-01-15T11:05:30.000+0100" {
		t.Errorf("updated %v, want Berlin time", u)
	}
	q := func(cond string) string {
		return strings.Join(e.search("project = KAN AND "+cond+" ORDER BY key ASC", nil), ",")
	}
	// A client that writes the cutoff 10:00 in UTC, while JQL reads it in
	// Berlin (09:00 UTC), wrongly gets A too; written in Berlin it gets B.
	if got := q(`updated >= "2026-01-15 10:00"`); got != "KAN-1,KAN-2" {
		t.Errorf("UTC-written cutoff: %s", got)
	}
	if got := q(`updated >= "2026-01-15 11:00"`); got != "KAN-2" {
		t.Errorf("Berlin-written cutoff: %s", got)
	}
	// Minutes: B at 11:05:30 is within the minute 11:05, after its start.
	for cond, want := range map[string]string{
		`updated >= "2026-01-15 11:05"`: "KAN-2",
		`updated > "2026-01-15 11:05"`:  "KAN-2",
		`updated >= "2026-01-15 11:06"`: "",
		`updated <= "2026-01-15 11:05"`: "KAN-1",
		`updated = "2026-01-15 11:05"`:  "",
		`created >= "2026-01-15"`:       "KAN-1,KAN-2",
		`created < "2026-01-15"`:        "",
		`updated >= "-30m"`:             "KAN-2",
		`updated >= "-1h"`:              "KAN-1,KAN-2",
	} {
		if got := q(cond); got != want {
			t.Errorf("%s: got %q, want %q", cond, got, want)
		}
	}
}

func TestSearchLagAndReconcile(t *testing.T) {
	e := newEnv(t, []Option{WithSearchLag(time.Minute)})
	e.pin(time.Now())
	const jql = "project = KAN ORDER BY key ASC"
	if got := e.search(jql, nil); len(got) != 6 {
		t.Fatalf("seed issues not indexed: %v", got)
	}
	id, key := e.create("KAN", "Task", "Fresh", nil)
	e.ok(204, "PUT", "/issue/KAN-1", map[string]any{"fields": map[string]any{"summary": "Renamed"}})
	summaryOf := func(extra map[string]any) (string, bool) {
		body := map[string]any{"jql": jql, "fields": []string{"summary"}}
		for k, v := range extra {
			body[k] = v
		}
		var kan1 string
		found := false
		for _, is := range e.ok(200, "POST", "/search/jql", body).list("issues") {
			switch is["key"] {
			case "KAN-1":
				kan1 = is["fields"].(map[string]any)["summary"].(string)
			case key:
				found = true
			}
		}
		return kan1, found
	}
	if s, found := summaryOf(nil); s != "Set up CI pipeline for the mobile app" || found {
		t.Errorf("lagging index: KAN-1 %q, new issue found %v", s, found)
	}
	// The renamed issue no longer matches on its new words until indexed.
	if got := e.search(`summary ~ "Renamed"`, nil); len(got) != 0 {
		t.Errorf("new summary matched before indexing: %v", got)
	}
	if s, found := summaryOf(map[string]any{"reconcileIssues": []int64{10005, mustInt(t, id)}}); s != "Set up CI pipeline for the mobile app" || !found {
		// 10005 is not KAN-1; only the new issue is reconciled here.
		t.Errorf("reconcile the new issue: KAN-1 %q, found %v", s, found)
	}
	kan1ID := e.ok(200, "GET", "/issue/KAN-1", nil).obj()["id"].(string)
	if s, _ := summaryOf(map[string]any{"reconcileIssues": []int64{mustInt(t, kan1ID)}}); s != "Renamed" {
		t.Errorf("reconciled KAN-1: %q", s)
	}
	// GET takes reconcileIssues too.
	r := e.ok(200, "GET", "/search/jql?jql="+url.QueryEscape("key = "+key)+"&reconcileIssues="+id, nil)
	if len(r.list("issues")) != 1 {
		t.Errorf("GET reconcile: %s", r.raw)
	}
	// GET /issue is never stale.
	if s := fieldsOfIssue(e.ok(200, "GET", "/issue/KAN-1", nil))["summary"]; s != "Renamed" {
		t.Errorf("GET /issue: %v", s)
	}
	// Writes took a millisecond each after the pin; a minute and a second
	// later they are all older than the lag.
	e.sb.clk.advance(time.Minute + time.Second)
	if s, found := summaryOf(nil); s != "Renamed" || !found {
		t.Errorf("after the lag: KAN-1 %q, new issue found %v", s, found)
	}
	if got := e.search(`summary ~ "Renamed"`, nil); !slices.Equal(got, []string{"KAN-1"}) {
		t.Errorf("after the lag: %v", got)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// TestRemovedSearch: the search Jira Cloud removed answers 410 Gone with
// Jira's ErrorCollection pointing to its replacement, whatever the method,
// query or body, and changes nothing.
func TestRemovedSearch(t *testing.T) {
	e := newEnv(t, nil)
	for _, q := range []req{
		{method: "GET", path: "/search?jql=" + url.QueryEscape("project = KAN")},
		{method: "GET", path: "/search"},
		{method: "POST", path: "/search", body: map[string]any{"jql": "project = KAN", "maxResults": 5}},
	} {
		q.expect = jiratest.ExpectUnknownRoute
		r := e.do(q)
		want := `{"errorMessages":["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. ` +
			`A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"],"errors":{}}`
		if r.status != http.StatusGone || strings.TrimSpace(string(r.raw)) != want {
			t.Errorf("%s %s: %d %s, want 410 %s", q.method, q.path, r.status, r.raw, want)
		}
	}
	// Its replacement still answers, and an unknown path is still a 404.
	e.ok(200, "GET", "/search/jql?jql="+url.QueryEscape("project = KAN"), nil)
	e.fails(404, "null for uri", req{method: "GET", path: "/search/other", expect: jiratest.ExpectUnknownRoute})
}

// TestSearchCarriesWhatGetIssueDoes: a search naming every field Get reads
// (a Bulk Exalate's listing) answers each issue's fields as GET /issue does,
// comments and attachments included; with fewer comments embedded than the
// issue has, total says how many there are, in both.
func TestSearchCarriesWhatGetIssueDoes(t *testing.T) {
	fields := "summary,description,issuetype,project,created,updated,status,assignee,priority,duedate,labels,comment,attachment"
	e := newEnv(t, []Option{WithEmbeddedComments(2)})
	_, key := e.create("KAN", "Task", "Three comments", doc("described"))
	for i := range 3 {
		e.ok(201, "POST", "/issue/"+key+"/comment", map[string]any{"body": doc("comment " + itoa(i))})
	}
	r := e.ok(200, "POST", "/search/jql", map[string]any{"jql": "project = KAN ORDER BY created ASC", "fields": strings.Split(fields, ",")})
	listed := r.list("issues")
	if len(listed) != 7 {
		t.Fatalf("%d issues listed, want 7: %s", len(listed), r.raw)
	}
	for _, is := range listed {
		got := e.ok(200, "GET", "/issue/"+is["key"].(string)+"?fields="+fields, nil).obj()
		lf, gf := is["fields"].(map[string]any), got["fields"].(map[string]any)
		for _, name := range strings.Split(fields, ",") {
			if _, ok := lf[name]; !ok {
				t.Errorf("%s: the search left out %s", is["key"], name)
			}
			if a, b := jsonText(t, lf[name]), jsonText(t, gf[name]); a != b {
				t.Errorf("%s: %s searched %s, got %s", is["key"], name, a, b)
			}
		}
		if is["key"] != key {
			continue
		}
		c := lf["comment"].(map[string]any)
		if c["total"] != 3.0 || len(c["comments"].([]any)) != 2 || c["startAt"] != 0.0 {
			t.Errorf("comment field of %s: %v, want 2 of a total of 3 embedded", key, c)
		}
	}
	if _, err := New(WithEmbeddedComments(0)); err == nil {
		t.Error("WithEmbeddedComments(0) was accepted")
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
