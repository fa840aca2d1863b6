package sandbox

import (
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/jira/jiratest"
)

func TestAuth(t *testing.T) {
	e := newEnv(t, nil)
	e.ok(200, "GET", "/myself", nil)
	for name, q := range map[string]req{
		"none":        {method: "GET", path: "/myself", noAuth: true, expect: jiratest.ExpectInvalidRequest},
		"wrong token": {method: "GET", path: "/myself", user: e.sb.Email(), pass: "nope"},
		"wrong email": {method: "GET", path: "/serverInfo", user: "someone@else.example", pass: e.sb.Token()},
		"bearer":      {method: "GET", path: "/myself", noAuth: true, header: map[string]string{"Authorization": "Bearer " + e.sb.Token()}, expect: jiratest.ExpectInvalidRequest},
	} {
		r := e.fails(401, "Client must be authenticated", q)
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", name)
		}
	}
	// The e-mail is not case-sensitive.
	if r := e.do(req{method: "GET", path: "/myself", user: strings.ToUpper(e.sb.Email()), pass: e.sb.Token()}); r.status != 200 {
		t.Errorf("upper-case e-mail: %d", r.status)
	}
}

func TestMyselfAndServerInfo(t *testing.T) {
	e := newEnv(t, []Option{WithSite("Initech Labs"), WithTimeZone("Europe/Berlin")})
	me := e.ok(200, "GET", "/myself", nil).obj()
	if me["emailAddress"] != "admin@initechlabs.example" || me["emailAddress"] != e.sb.Email() {
		t.Errorf("emailAddress %v, Email() %s", me["emailAddress"], e.sb.Email())
	}
	if me["timeZone"] != "Europe/Berlin" || me["accountType"] != "atlassian" || me["active"] != true {
		t.Errorf("myself: %v", me)
	}
	if id, _ := me["accountId"].(string); !strings.HasPrefix(id, "712020:") {
		t.Errorf("accountId %q", id)
	}
	if self, _ := me["self"].(string); !strings.HasPrefix(self, e.srv.URL+"/rest/api/3/") {
		t.Errorf("self %q not built from the request's host", self)
	}
	si := e.ok(200, "GET", "/serverInfo", nil).obj()
	if si["serverTitle"] != "Initech Labs" || si["deploymentType"] != "Cloud" || si["baseUrl"] != e.srv.URL {
		t.Errorf("serverInfo: %v", si)
	}
	st := mustTime(t, si["serverTime"])
	if _, off := st.Zone(); off != 3600 && off != 7200 {
		t.Errorf("serverTime %v not in the user's zone", si["serverTime"])
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]Option{
		"seed":       WithSeed("full"),
		"zone":       WithTimeZone("Mars/Olympus"),
		"rate":       WithRateLimit(-1),
		"latency":    WithLatency(-1),
		"faults":     WithFaultRate(1.5),
		"lag":        WithSearchLag(-1),
		"attachment": WithMaxAttachmentSize(0),
		"site":       WithSite(" "),
		"email":      WithEmail("no-at-sign"),
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted a bad option", name)
		}
	}
	a, _ := New(WithRandSeed(7))
	b, _ := New(WithRandSeed(7))
	if a.Token() != b.Token() || !strings.HasPrefix(a.Token(), "ATATT3xFfGF0") {
		t.Errorf("generated tokens %q / %q: want equal and Atlassian-like", a.Token(), b.Token())
	}
	c, _ := New(WithToken("tok"), WithEmail("me@x.example"))
	if c.Token() != "tok" || c.Email() != "me@x.example" {
		t.Errorf("WithToken/WithEmail ignored: %s %s", c.Token(), c.Email())
	}
}

func TestProjects(t *testing.T) {
	e := newEnv(t, nil)
	want := []Project{{"10000", "KAN", "Kanban"}, {"10001", "OPS", "Operations"}}
	if got := e.sb.Projects(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Projects() = %v", got)
	}
	p1 := e.ok(200, "GET", "/project/search?maxResults=1", nil).obj()
	if p1["total"] != 2.0 || p1["isLast"] != false || len(p1["values"].([]any)) != 1 {
		t.Fatalf("first page: %v", p1)
	}
	next, _ := p1["nextPage"].(string)
	if !strings.HasPrefix(next, e.srv.URL+"/rest/api/3/project/search?") {
		t.Fatalf("nextPage %q", next)
	}
	p2 := e.do(req{method: "GET", path: next, raw: true}).obj()
	if p2["isLast"] != true || p2["startAt"] != 1.0 || p2["nextPage"] != nil {
		t.Fatalf("second page: %v", p2)
	}
	if v := p2["values"].([]any)[0].(map[string]any); v["key"] != "OPS" {
		t.Errorf("second page holds %v", v["key"])
	}
	all := e.ok(200, "GET", "/project/search", nil).obj()
	if all["isLast"] != true || all["maxResults"] != 50.0 || len(all["values"].([]any)) != 2 {
		t.Errorf("default page: %v", all)
	}
	for _, ref := range []string{"KAN", "kan", "10000"} {
		p := e.ok(200, "GET", "/project/"+ref, nil).obj()
		types := p["issueTypes"].([]any)
		first := types[0].(map[string]any)
		if p["key"] != "KAN" || len(types) != 5 || first["name"] != "Task" || first["hierarchyLevel"] != 0.0 {
			t.Errorf("%s: %v", ref, p)
		}
	}
	ops := e.ok(200, "GET", "/project/OPS", nil).obj()
	var names []string
	for _, it := range ops["issueTypes"].([]any) {
		names = append(names, it.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "Task,Bug,Epic" {
		t.Errorf("OPS issue types %v", names)
	}
	e.fails(404, "No project could be found with key 'NOPE'", req{method: "GET", path: "/project/NOPE"})
	e.fails(400, "startAt", req{method: "GET", path: "/project/search?startAt=-1"})
}

func TestUnknownRouteAndBrowse(t *testing.T) {
	e := newEnv(t, nil)
	e.fails(404, "null for uri", req{method: "GET", path: "/nothing/here", expect: jiratest.ExpectUnknownRoute})
	r := e.do(req{method: "GET", path: "/browse/KAN-1", raw: true, noAuth: true})
	if r.status != 200 || !strings.Contains(string(r.raw), "Set up CI pipeline") || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("browse: %d %s", r.status, r.raw)
	}
	if r := e.do(req{method: "GET", path: "/browse/KAN-999", raw: true, noAuth: true}); r.status != 404 {
		t.Errorf("browse unknown: %d", r.status)
	}
}

func TestSeeds(t *testing.T) {
	e := newEnv(t, nil)
	r := e.ok(200, "GET", "/search/jql?jql=project+in+(KAN,OPS)&fields=*all&maxResults=100", nil)
	issues := r.list("issues")
	types := map[string]bool{}
	kan, ops, withDesc, withComments, withFiles := 0, 0, 0, 0, 0
	for _, is := range issues {
		f := is["fields"].(map[string]any)
		switch f["project"].(map[string]any)["key"] {
		case "KAN":
			kan++
		case "OPS":
			ops++
		}
		types[f["issuetype"].(map[string]any)["name"].(string)] = true
		if f["description"] != nil {
			withDesc++
		}
		if f["comment"].(map[string]any)["total"].(float64) > 0 {
			withComments++
		}
		withFiles += len(f["attachment"].([]any))
	}
	if kan < 5 || kan > 8 || ops < 2 || ops > 3 || len(types) < 4 || withDesc < 3 || withComments < 2 || withFiles != 1 {
		t.Errorf("demo seed: KAN %d, OPS %d, types %v, described %d, commented %d, files %d", kan, ops, types, withDesc, withComments, withFiles)
	}
	// Seed issues are created oldest first, with ids from 10000.
	first := e.ok(200, "GET", "/issue/10000", nil)
	if f := fieldsOfIssue(first); f["summary"] != "Migrate monitoring to OpenTelemetry" {
		t.Errorf("issue 10000: %v", f["summary"])
	}

	empty := newEnv(t, []Option{WithSeed("empty")})
	if n := len(empty.ok(200, "GET", "/search/jql?jql=project=KAN", nil).list("issues")); n != 0 {
		t.Errorf("empty seed has %d issues", n)
	}
	if n := len(empty.ok(200, "GET", "/project/OPS", nil).obj()["issueTypes"].([]any)); n != 3 {
		t.Errorf("empty seed: OPS has %d issue types", n)
	}
	id, key := empty.create("KAN", "Task", "First", nil)
	if id != "10000" || key != "KAN-1" {
		t.Errorf("first issue of the empty seed: %s %s", id, key)
	}
}
