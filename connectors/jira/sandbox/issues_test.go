package sandbox

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/jira/jiratest"
)

func TestCreateAndGetIssue(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	desc := map[string]any{"version": 1, "type": "doc", "content": []any{
		map[string]any{"type": "heading", "attrs": map[string]any{"level": 2}, "content": []any{map[string]any{"type": "text", "text": "Goal"}}},
		map[string]any{"type": "bulletList", "content": []any{map[string]any{"type": "listItem", "content": []any{
			map[string]any{"type": "paragraph", "content": []any{
				map[string]any{"type": "text", "text": "see ", "marks": []any{map[string]any{"type": "strong"}}},
				map[string]any{"type": "text", "text": "docs", "marks": []any{map[string]any{"type": "link", "attrs": map[string]any{"href": "https://example.com"}}}},
			}}}}}},
	}}
	r := e.ok(201, "POST", "/issue", map[string]any{"fields": map[string]any{
		"project": map[string]any{"id": "10000"}, "issuetype": map[string]any{"id": "10002"}, "summary": "  Crash on save  ", "description": desc}})
	if r.obj()["key"] != "KAN-1" || r.obj()["id"] != "10000" || r.obj()["self"] != e.srv.URL+"/rest/api/3/issue/10000" {
		t.Fatalf("created: %v", r.obj())
	}
	_, key2 := e.create("KAN", "Story", "Second", nil)
	_, ops1 := e.create("OPS", "Epic", "Ops epic", nil)
	if key2 != "KAN-2" || ops1 != "OPS-1" {
		t.Errorf("keys %s %s, want KAN-2 OPS-1", key2, ops1)
	}

	got := e.ok(200, "GET", "/issue/kan-1", nil)
	f := fieldsOfIssue(got)
	if got.obj()["key"] != "KAN-1" || f["summary"] != "Crash on save" {
		t.Fatalf("get: %v", got.obj())
	}
	if it := f["issuetype"].(map[string]any); it["name"] != "Bug" || it["subtask"] != false {
		t.Errorf("issuetype %v", it)
	}
	if p := f["project"].(map[string]any); p["key"] != "KAN" || p["name"] != "Kanban" {
		t.Errorf("project %v", p)
	}
	wantDesc, _ := json.Marshal(desc)
	gotDesc, _ := json.Marshal(f["description"])
	if string(wantDesc) != string(gotDesc) {
		t.Errorf("description round trip:\n got %s\nwant %s", gotDesc, wantDesc)
	}
	if c := f["comment"].(map[string]any); c["total"] != 0.0 || len(c["comments"].([]any)) != 0 {
		t.Errorf("comment %v", c)
	}
	if created, updated := mustTime(t, f["created"]), mustTime(t, f["updated"]); !created.Equal(updated) {
		t.Errorf("new issue: created %v, updated %v", created, updated)
	}
	if f := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key2, nil)); f["description"] != nil {
		t.Errorf("no description should be null, got %v", f["description"])
	}
	e.fails(404, "Issue does not exist or you do not have permission to see it.", req{method: "GET", path: "/issue/KAN-99"})
	e.fails(404, "Issue does not exist", req{method: "GET", path: "/issue/99999"})
}

func TestFieldSelection(t *testing.T) {
	e := newEnv(t, nil)
	names := func(q string) string {
		f := fieldsOfIssue(e.ok(200, "GET", "/issue/KAN-2"+q, nil))
		var out []string
		for _, n := range []string{"summary", "description", "issuetype", "project", "created", "updated", "comment", "attachment", "status", "labels"} {
			if _, ok := f[n]; ok {
				out = append(out, n)
			}
		}
		return strings.Join(out, ",")
	}
	for q, want := range map[string]string{
		"":                                "summary,description,issuetype,project,created,updated,comment,attachment,status,labels",
		"?fields=*all":                    "summary,description,issuetype,project,created,updated,comment,attachment,status,labels",
		"?fields=*navigable":              "summary,description,issuetype,project,created,updated,attachment,status,labels",
		"?fields=status,-labels":          "status",
		"?fields=summary,updated":         "summary,updated",
		"?fields=summary&fields=comment":  "summary,comment",
		"?fields=*all,-comment,-project":  "summary,description,issuetype,created,updated,attachment,status,labels",
		"?fields=summary,customfield_123": "summary",
		"?fields=nonsense":                "",
	} {
		if got := names(q); got != want {
			t.Errorf("%s: fields %s, want %s", q, got, want)
		}
	}
	f := fieldsOfIssue(e.ok(200, "GET", "/issue/KAN-2?fields=attachment,comment", nil))
	atts := f["attachment"].([]any)
	if len(atts) != 1 {
		t.Fatalf("KAN-2 attachments %v", atts)
	}
	a := atts[0].(map[string]any)
	if a["filename"] != "safari-console.txt" || a["mimeType"] != "text/plain" || a["content"] != e.srv.URL+"/rest/api/3/attachment/content/"+a["id"].(string) {
		t.Errorf("attachment %v", a)
	}
	if c := f["comment"].(map[string]any); c["total"] != 1.0 || c["maxResults"] != 1.0 || c["startAt"] != 0.0 {
		t.Errorf("comment page %v", c)
	}
}

func TestCreateIssueErrors(t *testing.T) {
	e := newEnv(t, nil)
	post := func(fields map[string]any) reply {
		return e.do(req{method: "POST", path: "/issue", body: map[string]any{"fields": fields}})
	}
	kan := map[string]any{"key": "KAN"}
	task := map[string]any{"name": "Task"}
	cases := []struct {
		name   string
		fields map[string]any
		field  string
		want   string
	}{
		{"no summary", map[string]any{"project": kan, "issuetype": task}, "summary", "You must specify a summary of the issue."},
		{"blank summary", map[string]any{"project": kan, "issuetype": task, "summary": "  "}, "summary", "You must specify a summary of the issue."},
		{"long summary", map[string]any{"project": kan, "issuetype": task, "summary": strings.Repeat("x", 256)}, "summary", "less than 255"},
		{"bad type", map[string]any{"project": kan, "issuetype": map[string]any{"name": "Saga"}, "summary": "s"}, "issuetype", "Specify a valid issue type"},
		{"type of another project", map[string]any{"project": map[string]any{"key": "OPS"}, "issuetype": map[string]any{"name": "Story"}, "summary": "s"}, "issuetype", "Specify a valid issue type"},
		{"no type", map[string]any{"project": kan, "summary": "s"}, "issuetype", "Specify an issue type"},
		{"bad project", map[string]any{"project": map[string]any{"key": "NOPE"}, "issuetype": task, "summary": "s"}, "project", "Specify a valid project ID or key"},
		{"plain description", map[string]any{"project": kan, "issuetype": task, "summary": "s", "description": "plain text"}, "description", adfInvalid},
		{"unknown field", map[string]any{"project": kan, "issuetype": task, "summary": "s", "environment": "prod"}, "environment", "cannot be set"},
		{"status", map[string]any{"project": kan, "issuetype": task, "summary": "s", "status": map[string]any{"name": "Done"}}, "status", "cannot be set"},
		{"bad priority", map[string]any{"project": kan, "issuetype": task, "summary": "s", "priority": map[string]any{"name": "Urgent"}}, "priority", "The priority selected is invalid."},
		{"unknown assignee", map[string]any{"project": kan, "issuetype": task, "summary": "s", "assignee": map[string]any{"accountId": "nobody"}}, "assignee", "cannot be assigned"},
		{"assignee by name", map[string]any{"project": kan, "issuetype": task, "summary": "s", "assignee": map[string]any{"name": "dana"}}, "assignee", "Specify a valid value for assignee"},
		{"bad due date", map[string]any{"project": kan, "issuetype": task, "summary": "s", "duedate": "31/12/2026"}, "duedate", "Error parsing date string"},
		{"label with a space", map[string]any{"project": kan, "issuetype": task, "summary": "s", "labels": []string{"ok", "not ok"}}, "labels", "contains spaces"},
		{"labels not a list", map[string]any{"project": kan, "issuetype": task, "summary": "s", "labels": "one"}, "labels", "string array"},
	}
	for _, c := range cases {
		r := post(c.fields)
		msg, _ := r.obj()["errors"].(map[string]any)[c.field].(string)
		if r.status != 400 || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %s", c.name, r.status, r.raw)
		}
	}
	r := post(map[string]any{})
	errs := r.obj()["errors"].(map[string]any)
	if r.status != 400 || len(errs) != 3 {
		t.Errorf("empty fields: want three field errors, got %s", r.raw)
	}
	e.fails(400, "JSON object", req{method: "POST", path: "/issue", body: strings.NewReader("[1]"), contentType: "application/json", expect: jiratest.ExpectInvalidRequest})
}

func TestADFValidation(t *testing.T) {
	text := func(s string, marks ...any) map[string]any {
		m := map[string]any{"type": "text", "text": s}
		if len(marks) > 0 {
			m["marks"] = marks
		}
		return m
	}
	para := func(xs ...any) map[string]any {
		return map[string]any{"type": "paragraph", "content": append([]any{}, xs...)}
	}
	d := func(xs ...any) map[string]any {
		return map[string]any{"version": 1, "type": "doc", "content": append([]any{}, xs...)}
	}
	good := []any{
		d(),
		d(para()),
		d(para(text("a", map[string]any{"type": "code"}, map[string]any{"type": "link", "attrs": map[string]any{"href": "https://x"}}))),
		d(map[string]any{"type": "rule"}, map[string]any{"type": "codeBlock", "content": []any{text("x := 1")}}),
		d(map[string]any{"type": "panel", "attrs": map[string]any{"panelType": "info"}, "content": []any{para(text("note"))}}),
		d(map[string]any{"type": "table", "content": []any{map[string]any{"type": "tableRow", "content": []any{
			map[string]any{"type": "tableHeader", "content": []any{para(text("h"))}}, map[string]any{"type": "tableCell", "content": []any{para(text("c"))}}}}}}),
		d(para(map[string]any{"type": "mention", "attrs": map[string]any{"id": "712020:x"}}, map[string]any{"type": "hardBreak"}, map[string]any{"type": "emoji", "attrs": map[string]any{"shortName": ":smile:"}})),
		d(map[string]any{"type": "mediaSingle", "content": []any{map[string]any{"type": "media", "attrs": map[string]any{"id": "abc", "type": "file", "collection": ""}}}}),
	}
	bad := map[string]any{
		"version 2":       map[string]any{"version": 2, "type": "doc", "content": []any{}},
		"not doc":         map[string]any{"version": 1, "type": "paragraph", "content": []any{}},
		"no content":      map[string]any{"version": 1, "type": "doc"},
		"empty text":      d(para(text(""))),
		"unknown node":    d(map[string]any{"type": "marquee"}),
		"text at top":     d(text("loose")),
		"heading level 7": d(map[string]any{"type": "heading", "attrs": map[string]any{"level": 7}, "content": []any{text("h")}}),
		"unknown mark":    d(para(text("a", map[string]any{"type": "blink"}))),
		"link no href":    d(para(text("a", map[string]any{"type": "link"}))),
		"code with em":    d(para(text("a", map[string]any{"type": "code"}, map[string]any{"type": "em"}))),
		"empty list":      d(map[string]any{"type": "bulletList", "content": []any{}}),
		"content string":  d(map[string]any{"type": "paragraph", "content": "text"}),
		"a string":        "just text",
	}
	for i, g := range good {
		raw, _ := json.Marshal(g)
		if _, err := checkADF(raw); err != nil {
			t.Errorf("good %d rejected: %v\n%s", i, err, raw)
		}
	}
	for name, b := range bad {
		raw, _ := json.Marshal(b)
		if _, err := checkADF(raw); err == nil {
			t.Errorf("%s accepted: %s", name, raw)
		}
	}
	// And through the API, on edit.
	e := newEnv(t, nil)
	r := e.do(req{method: "PUT", path: "/issue/KAN-1", body: map[string]any{"fields": map[string]any{"description": bad["empty text"]}}})
	if r.status != 400 || r.obj()["errors"].(map[string]any)["description"] != adfInvalid {
		t.Errorf("edit with bad ADF: %d %s", r.status, r.raw)
	}
}

func TestEditIssue(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	id, key := e.create("KAN", "Task", "Old", doc("old text"))
	before := mustTime(t, fieldsOfIssue(e.ok(200, "GET", "/issue/"+key, nil))["updated"])
	r := e.do(req{method: "PUT", path: "/issue/" + id + "?notifyUsers=false", body: map[string]any{"fields": map[string]any{
		"summary": "New", "description": doc("new text"), "issuetype": map[string]any{"name": "Bug"}}}})
	if r.status != 204 || len(r.raw) != 0 {
		t.Fatalf("edit: %d %s", r.status, r.raw)
	}
	f := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key, nil))
	after := mustTime(t, f["updated"])
	if f["summary"] != "New" || f["issuetype"].(map[string]any)["name"] != "Bug" || adfTextOf(f["description"]) != "new text" {
		t.Errorf("after edit: %v", f)
	}
	if !after.After(before) {
		t.Errorf("updated %v not after %v", after, before)
	}
	// Clearing the description, and asking for the issue back.
	r = e.ok(200, "PUT", "/issue/"+key+"?returnIssue=true", map[string]any{"fields": map[string]any{"description": nil}})
	if f := fieldsOfIssue(r); f["description"] != nil || !mustTime(t, f["updated"]).After(after) {
		t.Errorf("cleared: %v", f)
	}
	// An edit that changes nothing records nothing, as in Jira.
	last := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key, nil))["updated"]
	e.ok(204, "PUT", "/issue/"+key, map[string]any{"fields": map[string]any{"summary": "New"}})
	if now := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key, nil))["updated"]; now != last {
		t.Errorf("no-op edit moved updated from %v to %v", last, now)
	}
	// Rapid writes still give strictly newer timestamps.
	prev := mustTime(t, last)
	for i := range 5 {
		e.ok(204, "PUT", "/issue/"+key, map[string]any{"fields": map[string]any{"summary": "v" + itoa(i)}})
		u := mustTime(t, fieldsOfIssue(e.ok(200, "GET", "/issue/"+key+"?fields=updated", nil))["updated"])
		if !u.After(prev) {
			t.Fatalf("write %d: updated %v not after %v", i, u, prev)
		}
		prev = u
	}
	for _, c := range []struct {
		body  map[string]any
		field string
		want  string
	}{
		{map[string]any{"summary": ""}, "summary", "You must specify a summary"},
		{map[string]any{"issuetype": map[string]any{"name": "Nope"}}, "issuetype", "Specify a valid issue type"},
		{map[string]any{"project": map[string]any{"key": "OPS"}}, "project", "cannot be set"},
		{map[string]any{"issuetype": map[string]any{"name": "Epic"}}, "issuetype", "can't change an issue's hierarchy level (Bug to Epic)"},
	} {
		r := e.do(req{method: "PUT", path: "/issue/" + key, body: map[string]any{"fields": c.body}})
		if msg, _ := r.obj()["errors"].(map[string]any)[c.field].(string); r.status != 400 || !strings.Contains(msg, c.want) {
			t.Errorf("%v: %d %s", c.body, r.status, r.raw)
		}
	}
	e.fails(404, "Issue does not exist", req{method: "PUT", path: "/issue/KAN-404", body: map[string]any{"fields": map[string]any{"summary": "x"}}})
	e.fails(400, "notifyUsers", req{method: "PUT", path: "/issue/" + key + "?notifyUsers=maybe", body: map[string]any{"fields": map[string]any{}}, expect: jiratest.ExpectInvalidRequest})
}

// adfTextOf extracts the text of a decoded ADF document.
func adfTextOf(v any) string {
	raw, _ := json.Marshal(v)
	return adfText(raw)
}
