package sandbox

import (
	"encoding/json"
	"testing"
)

// TestStateRoundTrip stops a sandbox and starts another from its state:
// the issue made in the first, with its comment and attachment, is in the
// second, the token still works, and new keys follow the old ones.
func TestStateRoundTrip(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	_, key := e.create("OPS", "Bug", "Kept", doc("across restarts"))
	e.ok(201, "POST", "/issue/"+key+"/comment", map[string]any{"body": doc("a comment")})
	if r := e.upload(key, true, upFile{"kept.txt", "text/plain", "kept bytes"}); r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.raw)
	}
	state, err := e.sb.State()
	if err != nil {
		t.Fatal(err)
	}

	f := newEnv(t, []Option{WithState(state)})
	if f.sb.Token() != e.sb.Token() {
		t.Errorf("token after restart %q, want the saved one", f.sb.Token())
	}
	fields := fieldsOfIssue(f.ok(200, "GET", "/issue/"+key, nil))
	if fields["summary"] != "Kept" || adfText(mustJSON(t, fields["description"])) != "across restarts" {
		t.Errorf("issue after restart: %v", fields)
	}
	cs := f.ok(200, "GET", "/issue/"+key+"/comment", nil).list("comments")
	if len(cs) != 1 || adfText(mustJSON(t, cs[0]["body"])) != "a comment" {
		t.Errorf("comments after restart: %v", cs)
	}
	atts, _ := fields["attachment"].([]any)
	if len(atts) != 1 {
		t.Fatalf("attachments after restart: %v", fields["attachment"])
	}
	id := atts[0].(map[string]any)["id"].(string)
	if r := f.do(req{method: "GET", path: "/attachment/content/" + id + "?redirect=false"}); r.status != 200 || string(r.raw) != "kept bytes" {
		t.Errorf("download after restart: %d %q", r.status, r.raw)
	}
	if _, next := f.create("OPS", "Task", "Later", nil); next != "OPS-2" {
		t.Errorf("the issue made after restart is %s, want OPS-2", next)
	}
}

// mustJSON encodes a decoded JSON value again, for adfText.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
