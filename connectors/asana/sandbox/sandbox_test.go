package sandbox

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana/asanatest"
)

func TestNewOptions(t *testing.T) {
	if _, err := New(WithSeed("x")); err == nil || err.Error() != `unknown seed "x" (want demo or empty)` {
		t.Fatalf("New(WithSeed(x)) error = %v", err)
	}
	for _, opt := range []Option{WithWorkspace(" "), WithRateLimit(-1), WithLatency(-1), WithFaultRate(1.5)} {
		if _, err := New(opt); err == nil {
			t.Errorf("New with a bad option succeeded")
		}
	}
	sb, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^2/\d+/\d+:[0-9a-f]{32}$`).MatchString(sb.Token()) {
		t.Errorf("generated token %q is not PAT-like", sb.Token())
	}
	other, _ := New()
	if other.Token() == sb.Token() {
		t.Errorf("two sandboxes generated the same token")
	}
	fixed, _ := New(WithToken("secret"))
	if fixed.Token() != "secret" {
		t.Errorf("Token() = %q, want secret", fixed.Token())
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	r := e.send("GET", "/users/me", nil, "", "", asanatest.ExpectInvalidRequest)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("no token: status %d", r.status)
	}
	r = e.send("GET", "/users/me", nil, "", "2/1/2:wrong")
	if r.status != http.StatusUnauthorized || r.errMessage() != "Not Authorized" {
		t.Fatalf("wrong token: %d %s", r.status, r.raw)
	}
	if got := e.sb.Requests(); got != 2 {
		t.Errorf("Requests() = %d after two refused requests, want 2", got)
	}
}

func TestUnknownRoute(t *testing.T) {
	e := newEnv(t)
	e.fails(404, "No matching route for request", "GET", "/portfolios", nil, asanatest.ExpectUnknownRoute)
	e.fails(404, "No matching route for request", "PATCH", "/tasks/1200000000000001", nil, asanatest.ExpectUnknownRoute)
}

func TestUsersAndWorkspaces(t *testing.T) {
	e := newEnv(t, WithWorkspace("Globex Corp"))
	me := e.ok(200, "GET", "/users/me", nil).data()
	if me["name"] != "Alex Rivera" || me["email"] != "alex@globexcorp.example" || me["resource_type"] != "user" {
		t.Fatalf("users/me = %v", me)
	}
	ws := me["workspaces"].([]any)[0].(map[string]any)
	if ws["name"] != "Globex Corp" {
		t.Fatalf("workspaces = %v", me["workspaces"])
	}
	byGID := e.ok(200, "GET", "/users/"+me["gid"].(string)+"?opt_fields=name,workspaces.name", nil).data()
	if byGID["name"] != "Alex Rivera" || byGID["email"] != nil || len(byGID) != 3 {
		t.Fatalf("opt_fields on users = %v", byGID)
	}
	byEmail := e.ok(200, "GET", "/users/priya@globexcorp.example", nil).data()
	if byEmail["name"] != "Priya Shah" {
		t.Fatalf("user by e-mail = %v", byEmail)
	}
	e.fails(404, "Unknown object", "GET", "/users/1299999999999999", nil)
	e.fails(400, "Not a Long", "GET", "/users/bogus", nil)

	list := e.ok(200, "GET", "/workspaces?limit=10&opt_fields=name,is_organization,email_domains", nil)
	if list.body["next_page"] != nil || len(list.list()) != 1 || list.list()[0]["is_organization"] != false {
		t.Fatalf("workspaces = %s", list.raw)
	}
	if _, present := e.ok(200, "GET", "/workspaces", nil).body["next_page"]; present {
		t.Errorf("next_page present without limit")
	}
	pretty := e.ok(200, "GET", "/workspaces?opt_pretty=true", nil)
	if !strings.Contains(string(pretty.raw), "\n  ") {
		t.Errorf("opt_pretty did not indent: %s", pretty.raw)
	}
}

func TestProjects(t *testing.T) {
	e := newEnv(t)
	ws := e.workspace()
	all := e.ok(200, "GET", "/projects?workspace="+ws, nil).list()
	var names []string
	for _, p := range all {
		names = append(names, p["name"].(string))
		if !slices.Equal(sortedKeys(p), []string{"gid", "name", "resource_type"}) {
			t.Errorf("compact project has %v", sortedKeys(p))
		}
	}
	if !slices.Equal(names, []string{"Company", "Test"}) {
		t.Fatalf("projects = %v", names)
	}
	inWS := e.ok(200, "GET", "/workspaces/"+ws+"/projects?limit=1&opt_fields=name,workspace.name,owner,permalink_url,members", nil)
	first := inWS.list()[0]
	if first["workspace"].(map[string]any)["name"] != "Acme" || first["owner"].(map[string]any)["name"] != "Alex Rivera" || len(first["members"].([]any)) != 4 {
		t.Fatalf("expanded project = %v", first)
	}
	np := inWS.body["next_page"].(map[string]any)
	second := e.ok(200, "GET", np["path"].(string), nil)
	if second.list()[0]["name"] != "Test" || second.body["next_page"] != nil {
		t.Fatalf("second page = %s", second.raw)
	}
	if !strings.HasPrefix(np["uri"].(string), e.srv.URL+"/api/1.0/workspaces/") {
		t.Errorf("next_page.uri = %v", np["uri"])
	}
	if got := e.ok(200, "GET", "/projects?archived=true", nil).list(); len(got) != 0 {
		t.Errorf("archived projects = %v", got)
	}
	e.fails(404, "Unknown object", "GET", "/workspaces/1299999999999999/projects", nil)
	e.fails(404, "workspace: Unknown object", "GET", "/projects?workspace=1299999999999999", nil)
}

func TestProjectsMethod(t *testing.T) {
	e := newEnv(t)
	ps := e.sb.Projects()
	if len(ps) != 2 || ps[0].Name != "Company" || ps[1].Name != "Test" || ps[0].GID != e.project("Company") {
		t.Fatalf("Projects() = %v", ps)
	}
}

func TestEmptySeed(t *testing.T) {
	e := newEnv(t, WithSeed("empty"))
	if got := e.ok(200, "GET", "/projects", nil).list(); len(got) != 0 {
		t.Fatalf("empty seed has projects: %v", got)
	}
	if me := e.ok(200, "GET", "/users/me", nil).data(); me["name"] != "Alex Rivera" {
		t.Fatalf("empty seed user = %v", me)
	}
	// A task can still be created in the workspace.
	tk := e.ok(201, "POST", "/tasks", map[string]any{"name": "Loose", "workspace": e.workspace()}).data()
	if tk["permalink_url"] != e.srv.URL+"/0/0/"+tk["gid"].(string) {
		t.Errorf("permalink of a task without project = %v", tk["permalink_url"])
	}
}

func sortedKeys(m map[string]any) []string {
	ks := keys(m)
	slices.Sort(ks)
	return ks
}
