package sandbox

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStateKeepsWebhooks: a webhook saved with the state delivers, signed
// with its old secret, after the restart.
func TestStateKeepsWebhooks(t *testing.T) {
	e := newEnv(t, WithWebhookBatchWindow(time.Millisecond))
	proj := e.project("Test")
	target := newHookTarget(t, "echo")
	hook, secret := e.hook(proj, target.url(), map[string]any{"resource_type": "task", "action": "added"})
	state, err := e.sb.State()
	if err != nil {
		t.Fatal(err)
	}
	e.sb.Close()

	f := newEnv(t, WithState(state), WithWebhookBatchWindow(time.Millisecond))
	w := f.ok(200, "GET", "/webhooks/"+hook, nil).data()
	if w["target"] != target.url() || w["filters"].([]any)[0].(map[string]any)["action"] != "added" {
		t.Errorf("webhook after restart = %v", w)
	}
	f.ok(201, "POST", "/tasks", map[string]any{"name": "After restart", "projects": []string{proj}})
	if d := target.next(secret); len(d.events) != 1 || summary(d.events[0]) != "task added <project>" {
		t.Errorf("delivery after restart = %s", d.body)
	}
}

// TestStateRoundTrip stops a sandbox and starts another from its state:
// the task made in the first, with its comment and attachment, is in the
// second, the token still works, and new gids stay above the old ones.
func TestStateRoundTrip(t *testing.T) {
	e := newEnv(t)
	proj := e.project("Test")
	gid := e.ok(201, "POST", "/tasks", map[string]any{"name": "Kept", "notes": "across restarts", "projects": []string{proj}}).data()["gid"].(string)
	e.ok(201, "POST", "/tasks/"+gid+"/stories", map[string]any{"text": "a comment"})
	body, ct := multipartBody(t, map[string]string{"parent": gid}, fileDisposition("kept.txt"), strings.NewReader("kept bytes"))
	if up := e.send("POST", "/attachments", body, ct, e.sb.Token()); up.status != 200 {
		t.Fatalf("upload: %d %s", up.status, up.raw)
	}
	deleted := e.taskNamed(proj, "Test task 1")
	e.ok(200, "DELETE", "/tasks/"+deleted, nil)
	state, err := e.sb.State()
	if err != nil {
		t.Fatal(err)
	}

	f := newEnv(t, WithState(state))
	if f.sb.Token() != e.sb.Token() {
		t.Errorf("token after restart %q, want the saved one", f.sb.Token())
	}
	tk := f.ok(200, "GET", "/tasks/"+gid+"?opt_fields=name,notes,projects.name", nil).data()
	if tk["name"] != "Kept" || tk["notes"] != "across restarts" || tk["projects"].([]any)[0].(map[string]any)["name"] != "Test" {
		t.Errorf("task after restart = %v", tk)
	}
	var comments []string
	for _, s := range f.ok(200, "GET", "/tasks/"+gid+"/stories?opt_fields=type,text", nil).list() {
		if s["type"] == "comment" {
			comments = append(comments, s["text"].(string))
		}
	}
	if strings.Join(comments, "|") != "a comment" {
		t.Errorf("comments after restart %q", comments)
	}
	atts := f.ok(200, "GET", "/attachments?parent="+gid, nil).list()
	if len(atts) != 1 {
		t.Fatalf("attachments after restart %v", atts)
	}
	dl := f.ok(200, "GET", "/attachments/"+atts[0]["gid"].(string), nil).data()["download_url"].(string)
	if got, status, _ := fetchPage(t, f.hc, dl); status != 200 || got != "kept bytes" {
		t.Errorf("download after restart: %d %q", status, got)
	}
	f.fails(404, "Unknown object", "GET", "/tasks/"+deleted, nil)
	if n := len(f.ok(200, "GET", "/projects/"+proj+"/tasks", nil).list()); n != 3 {
		t.Errorf("Test has %d tasks after restart, want 3 (two seeded, one made)", n)
	}
	later := f.ok(201, "POST", "/tasks", map[string]any{"name": "Later", "projects": []string{proj}}).data()["gid"].(string)
	if !gidLess(gid, later) {
		t.Errorf("gid %s made after restart is not above %s", later, gid)
	}
}

// TestStateKeepsTagsAndCustomFields: tags, custom fields, their project
// settings and task values survive a restart, set at seed or by a PUT.
func TestStateKeepsTagsAndCustomFields(t *testing.T) {
	e := newEnv(t)
	test := e.project("Test")
	gid := e.taskNamed(test, "Test task 3")
	const opts = "?opt_fields=tags.name,custom_fields.name,custom_fields.display_value,custom_fields.enum_options.name"
	cf := cfByName(e.ok(200, "GET", "/tasks/"+gid+opts, nil).data())
	low := cf["Priority"]["enum_options"].([]any)[2].(map[string]any)["gid"].(string)
	e.ok(200, "PUT", "/tasks/"+gid, map[string]any{"custom_fields": map[string]any{
		cf["Priority"]["gid"].(string): low, cf["Story points"]["gid"].(string): "3"}})
	seeded := e.taskNamed(e.project("Company"), "Trade show booth logistics")
	state, err := e.sb.State()
	if err != nil {
		t.Fatal(err)
	}

	f := newEnv(t, WithState(state))
	got := cfByName(f.ok(200, "GET", "/tasks/"+gid+opts, nil).data())
	if got["Priority"]["display_value"] != "Low" || got["Story points"]["display_value"] != "3" || got["Customer"]["display_value"] != nil {
		t.Errorf("values after restart = %v", got)
	}
	tk := f.ok(200, "GET", "/tasks/"+seeded+opts, nil).data()
	if !slices.Equal(names(tk["tags"]), []string{"partner", "blocked"}) || cfByName(tk)["Priority"]["display_value"] != "Medium" {
		t.Errorf("seeded task after restart = %v", tk)
	}
	// The options are the same objects: the gid read before still sets one.
	f.ok(200, "PUT", "/tasks/"+seeded, map[string]any{"custom_fields": map[string]any{cf["Priority"]["gid"].(string): low}})
}
