package sandbox

import (
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/jira/jiratest"
)

func TestComments(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	id, key := e.create("KAN", "Task", "Talk", nil)
	before := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key, nil))["updated"]
	var ids []string
	for i := range 5 {
		c := e.ok(201, "POST", "/issue/"+key+"/comment", map[string]any{"body": doc("comment " + itoa(i))}).obj()
		if c["self"] != e.srv.URL+"/rest/api/3/issue/"+id+"/comment/"+c["id"].(string) || c["jsdPublic"] != true {
			t.Errorf("comment %v", c)
		}
		if a := c["author"].(map[string]any); a["emailAddress"] != e.sb.Email() {
			t.Errorf("author %v", a)
		}
		ids = append(ids, c["id"].(string))
	}
	f := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key, nil))
	if !mustTime(t, f["updated"]).After(mustTime(t, before)) {
		t.Errorf("a comment did not move the issue's updated")
	}
	if c := f["comment"].(map[string]any); c["total"] != 5.0 || len(c["comments"].([]any)) != 5 {
		t.Errorf("fields.comment %v", c)
	}

	page := e.ok(200, "GET", "/issue/"+key+"/comment?startAt=1&maxResults=2", nil)
	got := page.list("comments")
	if page.obj()["total"] != 5.0 || page.obj()["startAt"] != 1.0 || page.obj()["maxResults"] != 2.0 || len(got) != 2 || got[0]["id"] != ids[1] {
		t.Errorf("page: %s", page.raw)
	}
	desc := e.ok(200, "GET", "/issue/"+key+"/comment?orderBy=-created", nil).list("comments")
	if desc[0]["id"] != ids[4] || desc[4]["id"] != ids[0] {
		t.Errorf("-created order wrong")
	}
	if tail := e.ok(200, "GET", "/issue/"+key+"/comment?startAt=10", nil).list("comments"); len(tail) != 0 {
		t.Errorf("past the end: %v", tail)
	}

	// Edit (the operation the subset lacks).
	edited := e.ok(200, "PUT", "/issue/"+key+"/comment/"+ids[2], map[string]any{"body": doc("fixed")}).obj()
	if adfTextOf(edited["body"]) != "fixed" || !mustTime(t, edited["updated"]).After(mustTime(t, edited["created"])) {
		t.Errorf("edited %v", edited)
	}
	e.fails(404, "Can not find a comment", req{method: "PUT", path: "/issue/" + key + "/comment/999", body: map[string]any{"body": doc("x")}})
	e.fails(400, "Comment body can not be empty", req{method: "POST", path: "/issue/" + key + "/comment", body: map[string]any{}})
	e.fails(400, "Atlassian Document", req{method: "POST", path: "/issue/" + key + "/comment", body: map[string]any{"body": "plain"}})
	e.fails(400, "Atlassian Document", req{method: "PUT", path: "/issue/" + key + "/comment/" + ids[0], body: map[string]any{"body": "plain"}})
	e.fails(404, "Issue does not exist", req{method: "POST", path: "/issue/KAN-77/comment", body: map[string]any{"body": doc("x")}})
	e.fails(404, "Issue does not exist", req{method: "GET", path: "/issue/KAN-77/comment"})
	r := e.do(req{method: "GET", path: "/issue/" + key + "/comment?orderBy=updated", expect: jiratest.ExpectInvalidRequest})
	if r.status != 400 || !strings.Contains(r.errText(), "orderBy") {
		t.Errorf("bad orderBy: %d %s", r.status, r.raw)
	}
}

// TestEmptyCommentRefused: a comment with nothing to show is Jira's 400
// with the error on the comment field, on add and on edit alike, and
// changes nothing; whatever has text, or content other than text, passes.
func TestEmptyCommentRefused(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	_, key := e.create("KAN", "Task", "Talk", nil)
	kept := e.ok(201, "POST", "/issue/"+key+"/comment", map[string]any{"body": doc("kept")}).obj()
	updated := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key, nil))["updated"]
	para := func(inlines ...any) map[string]any {
		p := map[string]any{"type": "paragraph"}
		if inlines != nil {
			p["content"] = inlines
		}
		return p
	}
	root := func(blocks ...any) map[string]any {
		return map[string]any{"version": 1, "type": "doc", "content": blocks}
	}
	text := func(s string) any { return map[string]any{"type": "text", "text": s} }
	hardBreak := map[string]any{"type": "hardBreak"}
	empty := map[string]any{
		"no content member":  map[string]any{"version": 1, "type": "doc"},
		"empty content":      root(),
		"an empty paragraph": root(para()),
		"empty paragraphs":   root(para(), map[string]any{"type": "paragraph", "content": []any{}}),
		"breaks and spaces":  root(para(hardBreak, text("  \n\t")), para(text(" "))),
	}
	const want = `{"errorMessages":[],"errors":{"comment":"Comment body can not be empty!"}}`
	for name, body := range empty {
		for _, q := range []req{
			{method: "POST", path: "/issue/" + key + "/comment"},
			{method: "PUT", path: "/issue/" + key + "/comment/" + kept["id"].(string)},
		} {
			q.body = map[string]any{"body": body}
			if r := e.do(q); r.status != 400 || strings.TrimSpace(string(r.raw)) != want {
				t.Errorf("%s, %s: %d %s, want 400 %s", name, q.method, r.status, r.raw, want)
			}
		}
	}
	got := e.ok(200, "GET", "/issue/"+key+"/comment", nil).list("comments")
	if len(got) != 1 || adfTextOf(got[0]["body"]) != "kept" {
		t.Errorf("refused comments changed the issue's comments: %v", got)
	}
	if now := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key, nil))["updated"]; now != updated {
		t.Errorf("a refused comment moved updated from %v to %v", updated, now)
	}

	// Not empty: text after a blank paragraph, a rule, an emoji.
	for name, body := range map[string]any{
		"text after a blank paragraph": root(para(), para(text("x"))),
		"a rule":                       root(map[string]any{"type": "rule"}),
		"an emoji":                     root(para(map[string]any{"type": "emoji", "attrs": map[string]any{"shortName": ":smile:"}})),
	} {
		if r := e.do(req{method: "POST", path: "/issue/" + key + "/comment", body: map[string]any{"body": body}}); r.status != 201 {
			t.Errorf("%s: %d %s, want 201", name, r.status, r.raw)
		}
	}
}
