package sandbox

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana/asanatest"
)

func TestWebhooks(t *testing.T) {
	e := newEnv(t)
	target := newHookTarget(t, "echo")
	ws := e.workspace()
	company := e.project("Company")
	created := e.ok(201, "POST", "/webhooks", map[string]any{
		"resource": company, "target": target.url(),
		"filters": []any{map[string]any{"resource_type": "task", "action": "changed", "fields": []string{"name"}}},
	})
	hook := created.data()
	if hook["active"] != true || hook["target"] != target.url() || hook["resource"].(map[string]any)["name"] != "Company" ||
		hook["last_success_at"] != nil || hook["last_failure_at"] != nil || hook["delivery_retry_count"] != 0.0 {
		t.Fatalf("created webhook = %s", created.raw)
	}
	if _, ok := hook["next_attempt_after"]; ok {
		t.Errorf("a new webhook has next_attempt_after: %s", created.raw)
	}
	secret, _ := created.body["X-Hook-Secret"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(secret) || target.secretsSeen()[0] != secret {
		t.Fatalf("X-Hook-Secret %q, handshake carried %q", secret, target.secretsSeen())
	}
	gid := hook["gid"].(string)
	f := hook["filters"].([]any)[0].(map[string]any)
	if f["resource_type"] != "task" || f["action"] != "changed" {
		t.Errorf("filters = %v", hook["filters"])
	}
	list := e.ok(200, "GET", "/webhooks?workspace="+ws+"&resource="+company+"&limit=10", nil)
	if len(list.list()) != 1 || list.list()[0]["gid"] != gid || list.body["next_page"] != nil {
		t.Fatalf("webhooks = %s", list.raw)
	}
	if got := e.ok(200, "GET", "/webhooks/"+gid+"?opt_fields=target,resource.name", nil).data(); got["target"] == nil || len(got) != 3 {
		t.Errorf("GET webhook with opt_fields = %v", got)
	}
	e.fails(400, "workspace: Missing input", "GET", "/webhooks", nil, asanatest.ExpectInvalidRequest)
	e.fails(400, "target: Missing input", "POST", "/webhooks", map[string]any{"resource": company}, asanatest.ExpectInvalidRequest)
	e.fails(404, "resource: Unknown object", "POST", "/webhooks", map[string]any{"resource": "1299999999999999", "target": target.url()})
	e.fails(400, "resource: Not a Long", "POST", "/webhooks", map[string]any{"resource": "Company", "target": target.url()})
	e.fails(400, "filters: Webhooks on a workspace require filters", "POST", "/webhooks", map[string]any{"resource": ws, "target": target.url()})
	e.fails(400, "target: Not a valid URL", "POST", "/webhooks", map[string]any{"resource": company, "target": "ftp://x/\x1b[31m"})
	if n := target.handshakeCount(); n != 1 {
		t.Errorf("%d handshakes, want 1: refused requests must not reach the target", n)
	}
	e.ok(200, "DELETE", "/webhooks/"+gid, nil)
	e.fails(404, "Unknown object", "GET", "/webhooks/"+gid, nil)
	e.fails(404, "Unknown object", "DELETE", "/webhooks/"+gid, nil)
	if got := e.ok(200, "GET", "/webhooks?workspace="+ws, nil).list(); len(got) != 0 {
		t.Errorf("webhooks after delete = %v", got)
	}
	if r := e.send("GET", "/webhooks?workspace="+ws, nil, "", "wrong"); r.status != http.StatusUnauthorized {
		t.Errorf("GET /webhooks with a bad token: %d", r.status)
	}
	if r := e.send("POST", "/webhooks", strings.NewReader(`{"data":{}}`), "application/json", "wrong"); r.status != http.StatusUnauthorized {
		t.Errorf("POST /webhooks with a bad token: %d", r.status)
	}
	e.sb.SetRefuseWrites(true)
	e.fails(403, "Forbidden", "POST", "/webhooks", map[string]any{"resource": company, "target": target.url()})
	e.sb.SetRefuseWrites(false)
}

func TestWebhookHandshakeRefused(t *testing.T) {
	e := newEnv(t, WithWebhookTimeout(100*time.Millisecond))
	company := e.project("Company")
	gone := httptest204Closed(t)
	redirect := newHookTarget(t, "echo")
	for _, tc := range []struct{ name, target string }{
		{"echo mismatch", newHookTarget(t, "mismatch").url()},
		{"500 with the secret", newHookTarget(t, "500").url()},
		{"timeout", newHookTarget(t, "hang").url()},
		{"nobody listening", gone},
		{"redirect", redirectTo(t, redirect.url())},
	} {
		r := e.call("POST", "/webhooks", map[string]any{"resource": company, "target": tc.target})
		if r.status != 400 || !strings.HasPrefix(r.errMessage(), "Could not complete activation handshake") {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
	}
	if n := redirect.handshakeCount(); n != 0 {
		t.Errorf("the redirect was followed: %d handshakes at its target", n)
	}
	if got := e.ok(200, "GET", "/webhooks?workspace="+e.workspace(), nil).list(); len(got) != 0 {
		t.Errorf("webhooks after failed handshakes = %v", got)
	}
	ok := newHookTarget(t, "echo204")
	e.hook(company, ok.url())
}

// httptest204Closed returns the URL of a server that is no longer there.
func httptest204Closed(t *testing.T) string {
	srv := newHookTarget(t, "echo").srv
	u := srv.URL + "/hooks/1?app=x"
	srv.Close()
	return u
}

func redirectTo(t *testing.T, to string) string {
	h := newHookTarget(t, "echo")
	h.srv.Config.Handler = http.RedirectHandler(to, http.StatusTemporaryRedirect)
	return h.url()
}

// TestWebhookDeliveries: the events GET /events reports, signed, batched and
// in order; a task webhook sees only its task; filters apply.
func TestWebhookDeliveries(t *testing.T) {
	e := newEnv(t, WithWebhookBatchWindow(20*time.Millisecond))
	test := e.project("Test")
	onProject := newHookTarget(t, "echo")
	_, secret := e.hook(test, onProject.url())
	sync := e.events(test, "", 412).body["sync"].(string)

	gid := e.ok(201, "POST", "/tasks", map[string]any{"name": "Hooked", "projects": []string{test}}).data()["gid"].(string)
	onTask := newHookTarget(t, "echo")
	_, taskSecret := e.hook(gid, onTask.url())
	filtered := newHookTarget(t, "echo")
	_, filteredSecret := e.hook(test, filtered.url(),
		map[string]any{"resource_type": "task", "action": "changed", "fields": []string{"name"}})
	other := e.ok(201, "POST", "/tasks", map[string]any{"name": "Other", "projects": []string{test}}).data()["gid"].(string)
	// One request makes several events at once: one delivery.
	e.ok(200, "PUT", "/tasks/"+gid, map[string]any{"name": "Hooked twice", "html_notes": "<body>n</body>"})
	e.ok(201, "POST", "/tasks/"+gid+"/stories", map[string]any{"text": "hello"})
	e.ok(200, "PUT", "/tasks/"+other, map[string]any{"completed": true})

	want := e.events(test, sync, 200).list()
	var got []map[string]any
	batched := false
	for len(got) < len(want) {
		d := onProject.next(secret)
		batched = batched || len(d.events) > 1
		got = append(got, d.events...)
	}
	if len(got) != len(want) {
		t.Fatalf("delivered %d events, GET /events %d", len(got), len(want))
	}
	for i := range want {
		if summary(got[i]) != summary(want[i]) || got[i]["resource"].(map[string]any)["gid"] != want[i]["resource"].(map[string]any)["gid"] ||
			got[i]["created_at"] != want[i]["created_at"] {
			t.Errorf("event %d: delivered %v, GET /events %v", i, got[i], want[i])
		}
	}
	if !batched {
		t.Error("no delivery carried more than one event")
	}

	// The task webhook: its task's events after it was made, none of Other's.
	for _, ev := range onTask.until(taskSecret, func(ev map[string]any) bool {
		return summary(ev) == "story added comment_added <task>"
	}) {
		if ev["resource"].(map[string]any)["gid"] == other {
			t.Errorf("task webhook got Other's event %v", ev)
		}
	}

	// The filter lets only the name change through.
	d := filtered.next(filteredSecret)
	if len(d.events) != 1 || summary(d.events[0]) != "task changed name" {
		t.Errorf("filtered delivery = %s", d.body)
	}
	// Both targets got everything the project's events had; the filtered one
	// nothing more once the same events reached the unfiltered one.
	filtered.none()
}

// TestWebhookRetry: a 500 is retried with the same events before later
// ones, and the webhook shows the failure meanwhile.
func TestWebhookRetry(t *testing.T) {
	e := newEnv(t, WithWebhookBatchWindow(5*time.Millisecond), WithWebhookRetryBase(20*time.Millisecond))
	test := e.project("Test")
	target := newHookTarget(t, "echo")
	hook, secret := e.hook(test, target.url())
	target.answer(http.StatusInternalServerError)
	release := target.holdAt(2)
	defer release()
	gid := e.ok(201, "POST", "/tasks", map[string]any{"name": "Retried", "projects": []string{test}}).data()["gid"].(string)
	first := target.next(secret)
	again := target.next(secret) // the retry, held until released
	if string(again.body) != string(first.body) {
		t.Fatalf("retry carried %s, first attempt %s", again.body, first.body)
	}
	failing := e.ok(200, "GET", "/webhooks/"+hook, nil).data()
	if failing["delivery_retry_count"] != 1.0 || failing["last_failure_at"] == nil ||
		!strings.HasPrefix(failing["last_failure_content"].(string), "500 Internal Server Error") ||
		failing["next_attempt_after"] == nil || failing["failure_deletion_timestamp"] == nil || failing["last_success_at"] != nil {
		t.Errorf("failing webhook = %v", failing)
	}
	e.ok(200, "PUT", "/tasks/"+gid, map[string]any{"name": "Retried later"})
	release()
	later := target.next(secret)
	if len(later.events) == 0 || summary(later.events[0]) != "task changed name" {
		t.Errorf("after the retry: %s", later.body)
	}
	waitFor(t, "the success recorded", func() bool {
		return e.ok(200, "GET", "/webhooks/"+hook, nil).data()["last_success_at"] != nil
	})
	ok := e.ok(200, "GET", "/webhooks/"+hook, nil)
	if w := ok.data(); w["delivery_retry_count"] != 0.0 || w["last_failure_at"] == nil || w["next_attempt_after"] != nil {
		t.Errorf("recovered webhook = %s", ok.raw)
	}
}

// TestWebhookDeletedAfterFailing: failing for the whole deletion window
// deletes the webhook; nothing more is sent.
func TestWebhookDeletedAfterFailing(t *testing.T) {
	e := newEnv(t, WithWebhookBatchWindow(5*time.Millisecond), WithWebhookRetryBase(10*time.Millisecond),
		WithWebhookDeletionWindow(150*time.Millisecond))
	test := e.project("Test")
	target := newHookTarget(t, "echo")
	hook, secret := e.hook(test, target.url())
	codes := make([]int, 100)
	for i := range codes {
		codes[i] = http.StatusServiceUnavailable
	}
	target.answer(codes...)
	e.ok(201, "POST", "/tasks", map[string]any{"name": "Undeliverable", "projects": []string{test}})
	target.next(secret)
	target.next(secret)
	waitFor(t, "the webhook deleted", func() bool { return e.call("GET", "/webhooks/"+hook, nil).status == 404 })
	waitFor(t, "its delivery loop to end", func() bool { return e.sb.hooks.loops.Load() == 0 })
	for len(target.got) > 0 {
		target.next(secret)
	}
	e.ok(201, "POST", "/tasks", map[string]any{"name": "After", "projects": []string{test}})
	// A second webhook proves a delivery had time to happen.
	witness := newHookTarget(t, "echo")
	_, ws := e.hook(test, witness.url())
	e.ok(201, "POST", "/tasks", map[string]any{"name": "Seen", "projects": []string{test}})
	witness.next(ws)
	target.none()
}

func TestWebhookHeartbeat(t *testing.T) {
	e := newEnv(t, WithWebhookHeartbeat(30*time.Millisecond))
	target := newHookTarget(t, "echo")
	_, secret := e.hook(e.project("Company"), target.url())
	for range 2 {
		if d := target.next(secret); string(d.body) != `{"events":[]}` {
			t.Fatalf("heartbeat = %s", d.body)
		}
	}
}

// TestWebhookDeleteStops: after DELETE the webhook gets nothing; another on
// the same project goes on.
func TestWebhookDeleteStops(t *testing.T) {
	e := newEnv(t, WithWebhookBatchWindow(5*time.Millisecond))
	test, company := e.project("Test"), e.project("Company")
	gone, kept, elsewhere := newHookTarget(t, "echo"), newHookTarget(t, "echo"), newHookTarget(t, "echo")
	goneHook, _ := e.hook(test, gone.url())
	_, keptSecret := e.hook(test, kept.url())
	e.hook(company, elsewhere.url())
	ws := e.workspace()
	if l := e.ok(200, "GET", "/webhooks?workspace="+ws+"&resource="+test, nil).list(); len(l) != 2 {
		t.Errorf("webhooks on Test = %v", l)
	}
	if l := e.ok(200, "GET", "/webhooks?workspace="+ws, nil).list(); len(l) != 3 {
		t.Errorf("webhooks = %v", l)
	}
	waitFor(t, "three delivery loops", func() bool { return e.sb.hooks.loops.Load() == 3 })
	e.ok(200, "DELETE", "/webhooks/"+goneHook, nil)
	waitFor(t, "the deleted webhook's loop to end", func() bool { return e.sb.hooks.loops.Load() == 2 })
	e.ok(201, "POST", "/tasks", map[string]any{"name": "After delete", "projects": []string{test}})
	kept.next(keptSecret)
	gone.none()
	elsewhere.none()
}

// TestWebhookClose: Close stops deliveries and heartbeats.
func TestWebhookClose(t *testing.T) {
	e := newEnv(t, WithWebhookHeartbeat(time.Millisecond))
	target := newHookTarget(t, "echo")
	_, secret := e.hook(e.project("Test"), target.url())
	target.next(secret)
	if err := e.sb.Close(); err != nil {
		t.Fatal(err)
	}
	if n := e.sb.hooks.loops.Load(); n != 0 {
		t.Errorf("%d delivery loops still running after Close", n)
	}
	target.srv.Close() // waits for the handlers: whatever was sent is in got
	for len(target.got) > 0 {
		<-target.got
	}
	target.none()
}
