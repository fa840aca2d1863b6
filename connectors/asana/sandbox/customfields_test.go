package sandbox

import (
	"slices"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana/asanatest"
)

// cfByName indexes a task's custom_fields by name.
func cfByName(tk map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, x := range tk["custom_fields"].([]any) {
		m := x.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

// names lists the name member of each object of a list.
func names(xs any) []string {
	var out []string
	for _, x := range xs.([]any) {
		out = append(out, x.(map[string]any)["name"].(string))
	}
	return out
}

// TestTaskFieldsBeyondBasic: a seeded task's tags, custom field values,
// section, assignee and due date come with the task, in the default shape
// and through opt_fields, in the document's shapes.
func TestTaskFieldsBeyondBasic(t *testing.T) {
	e := newEnv(t)
	company := e.project("Company")
	gid := e.taskNamed(company, "Trade show booth logistics")

	full := e.ok(200, "GET", "/tasks/"+gid, nil).data()
	if got := names(full["tags"]); !slices.Equal(got, []string{"partner", "blocked"}) {
		t.Errorf("default tags = %v", full["tags"])
	}
	cf := cfByName(full)
	if p := cf["Priority"]; p == nil || p["resource_type"] != "custom_field" || p["type"] != "enum" ||
		p["enum_value"].(map[string]any)["name"] != "Medium" || p["display_value"] != "Medium" || len(p["enum_options"].([]any)) != 3 {
		t.Errorf("default Priority = %v", p)
	}
	if c := cf["Customer"]; c == nil || c["text_value"] != nil || c["display_value"] != nil || c["resource_subtype"] != "text" {
		t.Errorf("an empty text field = %v", c)
	}
	if _, ok := cf["Customer"]["enum_value"]; ok {
		t.Errorf("a text field has enum_value: %v", cf["Customer"])
	}

	sel := e.ok(200, "GET", "/tasks/"+gid+"?opt_fields=tags.name,custom_fields.name,custom_fields.resource_subtype,"+
		"custom_fields.enum_value.name,custom_fields.display_value,custom_fields.number_value,custom_fields.text_value,"+
		"memberships.section.name,assignee.name,due_on,completed", nil).data()
	if !slices.Equal(sortedKeys(sel), []string{"assignee", "completed", "custom_fields", "due_on", "gid", "memberships", "tags"}) {
		t.Fatalf("selected = %v", sortedKeys(sel))
	}
	if tg := sel["tags"].([]any)[0].(map[string]any); len(tg) != 2 || tg["name"] != "partner" {
		t.Errorf("tags.name gives %v, want gid and name", tg)
	}
	p := cfByName(sel)["Priority"]
	if !slices.Equal(sortedKeys(p), []string{"display_value", "enum_value", "gid", "name", "resource_subtype"}) ||
		p["enum_value"].(map[string]any)["name"] != "Medium" {
		t.Errorf("selected Priority = %v", p)
	}
	if sel["assignee"].(map[string]any)["name"] != "Marcus Chen" || sel["due_on"] == nil || sel["completed"] != false {
		t.Errorf("assignee, due_on, completed = %v, %v, %v", sel["assignee"], sel["due_on"], sel["completed"])
	}
	if s := sel["memberships"].([]any)[0].(map[string]any)["section"].(map[string]any); s["name"] != "To do" {
		t.Errorf("section = %v", s)
	}
	points := e.ok(200, "GET", "/tasks/"+e.taskNamed(company, "Q3 campaign brief")+"?opt_fields=custom_fields.name,custom_fields.number_value,custom_fields.display_value,custom_fields.precision", nil).data()
	if n := cfByName(points)["Story points"]; n["number_value"] != float64(8) || n["display_value"] != "8" || n["precision"] != float64(0) {
		t.Errorf("Story points = %v", n)
	}
	e.fails(400, "opt_fields: Unknown field: custom_fields.bogus", "GET", "/tasks/"+gid+"?opt_fields=custom_fields.bogus", nil, asanatest.ExpectInvalidRequest)
	e.fails(400, "opt_fields: Unknown field: tags.color", "GET", "/tasks/"+gid+"?opt_fields=tags.color", nil, asanatest.ExpectInvalidRequest)
}

// TestProjectCustomFieldSettings: a project's fields are read through its
// custom_field_settings.
func TestProjectCustomFieldSettings(t *testing.T) {
	e := newEnv(t)
	var company map[string]any
	for _, p := range e.ok(200, "GET", "/projects?opt_fields=name,custom_field_settings.is_important,custom_field_settings.project.name,"+
		"custom_field_settings.custom_field.name,custom_field_settings.custom_field.resource_subtype,custom_field_settings.custom_field.enum_options.name", nil).list() {
		if p["name"] == "Company" {
			company = p
		}
	}
	settings := company["custom_field_settings"].([]any)
	if len(settings) != 3 {
		t.Fatalf("Company has %d custom field settings, want 3: %v", len(settings), settings)
	}
	first := settings[0].(map[string]any)
	f := first["custom_field"].(map[string]any)
	if f["name"] != "Priority" || f["resource_subtype"] != "enum" || first["is_important"] != true ||
		first["project"].(map[string]any)["name"] != "Company" || !slices.Equal(names(f["enum_options"]), []string{"High", "Medium", "Low"}) {
		t.Errorf("first setting = %v", first)
	}
	if _, ok := f["enum_value"]; ok {
		t.Errorf("a field's definition carries a value: %v", f)
	}
}

// TestSetCustomFields: PUT /tasks sets enum, text and number values by
// field gid, null clears one, each change moves modified_at and leaves a
// story and an event; bad values change nothing.
func TestSetCustomFields(t *testing.T) {
	e := newEnv(t)
	test := e.project("Test")
	gid := e.taskNamed(test, "Test task 2")
	const opts = "?opt_fields=modified_at,custom_fields.name,custom_fields.enum_options.name,custom_fields.display_value,custom_fields.number_value"
	before := e.ok(200, "GET", "/tasks/"+gid+opts, nil).data()
	cf := cfByName(before)
	priority, customer, points := cf["Priority"]["gid"].(string), cf["Customer"]["gid"].(string), cf["Story points"]["gid"].(string)
	high := cf["Priority"]["enum_options"].([]any)[0].(map[string]any)["gid"].(string)
	sync := e.events(test, "", 412).body["sync"].(string)

	after := e.ok(200, "PUT", "/tasks/"+gid+opts, map[string]any{"custom_fields": map[string]any{
		priority: high, customer: "Globex", points: "13.5"}}).data()
	got := cfByName(after)
	if got["Priority"]["display_value"] != "High" || got["Customer"]["display_value"] != "Globex" || got["Story points"]["number_value"] != 13.5 {
		t.Errorf("after PUT: %v", after["custom_fields"])
	}
	if !mustTime(t, after["modified_at"]).After(mustTime(t, before["modified_at"])) {
		t.Errorf("modified_at did not move")
	}
	var changes []string
	for _, ev := range e.events(test, sync, 200).list() {
		changes = append(changes, summary(ev))
	}
	want := []string{"task changed custom_fields", "story added enum_custom_field_changed <task>",
		"task changed custom_fields", "story added text_custom_field_changed <task>",
		"task changed custom_fields", "story added number_custom_field_changed <task>"}
	if !slices.Equal(changes, want) {
		t.Errorf("events = %q, want %q", changes, want)
	}

	// null clears, as on Asana; the document types the values as strings.
	cleared := e.ok(200, "PUT", "/tasks/"+gid+opts, map[string]any{"custom_fields": map[string]any{priority: nil}}, asanatest.ExpectInvalidRequest).data()
	if cfByName(cleared)["Priority"]["display_value"] != nil {
		t.Errorf("after clearing: %v", cfByName(cleared)["Priority"])
	}
	// A PUT that changes nothing leaves modified_at alone.
	same := e.ok(200, "PUT", "/tasks/"+gid+opts, map[string]any{"custom_fields": map[string]any{customer: "Globex"}}).data()
	if !mustTime(t, same["modified_at"]).Equal(mustTime(t, cleared["modified_at"])) {
		t.Errorf("a no-op PUT moved modified_at")
	}

	e.fails(400, "is not an enabled enum option", "PUT", "/tasks/"+gid, map[string]any{"custom_fields": map[string]any{priority: "High"}})
	e.fails(400, "is not an enabled enum option", "PUT", "/tasks/"+gid, map[string]any{"custom_fields": map[string]any{priority: customer}})
	e.fails(400, "must be a number", "PUT", "/tasks/"+gid, map[string]any{"custom_fields": map[string]any{points: "lots"}})
	e.fails(400, "is not on given object", "PUT", "/tasks/"+gid, map[string]any{"custom_fields": map[string]any{"1299999999999999": "x"}})
	e.fails(400, "custom_fields: Not a Long", "PUT", "/tasks/"+gid, map[string]any{"custom_fields": map[string]any{"Priority": "x"}})
	e.fails(400, "tags: Cannot be changed with PUT", "PUT", "/tasks/"+gid, map[string]any{"tags": []string{}})
	unchanged := cfByName(e.ok(200, "GET", "/tasks/"+gid+opts, nil).data())
	if unchanged["Story points"]["number_value"] != 13.5 || unchanged["Priority"]["display_value"] != nil {
		t.Errorf("a refused PUT changed values: %v", unchanged)
	}
}

// TestCreateWithTagsAndCustomFields: a new task takes tags (create-only)
// and custom field values of its projects' fields.
func TestCreateWithTagsAndCustomFields(t *testing.T) {
	e := newEnv(t)
	company := e.project("Company")
	seeded := e.ok(200, "GET", "/tasks/"+e.taskNamed(company, "Trade show booth logistics")+"?opt_fields=tags,custom_fields.name,custom_fields.enum_options.name", nil).data()
	var tags []string
	for _, x := range seeded["tags"].([]any) {
		tags = append(tags, x.(map[string]any)["gid"].(string))
	}
	p := cfByName(seeded)["Priority"]
	low := p["enum_options"].([]any)[2].(map[string]any)["gid"].(string)

	made := e.ok(201, "POST", "/tasks?opt_fields=tags.name,custom_fields.name,custom_fields.display_value", map[string]any{
		"name": "Tagged", "projects": []string{company}, "tags": tags, "custom_fields": map[string]any{p["gid"].(string): low}}).data()
	if !slices.Equal(names(made["tags"]), []string{"partner", "blocked"}) || cfByName(made)["Priority"]["display_value"] != "Low" {
		t.Errorf("created = %v", made)
	}
	e.fails(404, "tags: Unknown object: 1299999999999999", "POST", "/tasks", map[string]any{"name": "x", "projects": []string{company}, "tags": []string{"1299999999999999"}})
	e.fails(400, "is not on given object", "POST", "/tasks", map[string]any{"name": "x", "workspace": e.workspace(),
		"custom_fields": map[string]any{p["gid"].(string): low}})
}

// TestAssignByEmail: a user is found by e-mail, in any case, to read and
// to assign; an address no user has is 404.
func TestAssignByEmail(t *testing.T) {
	e := newEnv(t)
	ws := e.workspace()
	u := e.ok(200, "GET", "/users/PRIYA@Acme.example?opt_fields=name,email&workspace="+ws, nil).data()
	if u["name"] != "Priya Shah" || u["email"] != "priya@acme.example" {
		t.Errorf("user by e-mail = %v", u)
	}
	e.fails(404, "Unknown object", "GET", "/users/nobody@acme.example", nil)
	gid := e.taskNamed(e.project("Test"), "Test task 1")
	got := e.ok(200, "PUT", "/tasks/"+gid+"?opt_fields=assignee.name", map[string]any{"assignee": "Priya@acme.example"}).data()
	if got["assignee"].(map[string]any)["gid"] != u["gid"] {
		t.Errorf("assigned to %v, want %v", got["assignee"], u["gid"])
	}
	e.fails(404, "assignee: Unknown object: nobody@acme.example", "PUT", "/tasks/"+gid, map[string]any{"assignee": "nobody@acme.example"})
	unassigned := e.ok(200, "PUT", "/tasks/"+gid+"?opt_fields=assignee", map[string]any{"assignee": nil}).data()
	if unassigned["assignee"] != nil {
		t.Errorf("after assignee null: %v", unassigned["assignee"])
	}
}
