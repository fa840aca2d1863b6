package sandbox

import (
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana/asanatest"
)

func TestWebhooks(t *testing.T) {
	e := newEnv(t)
	ws := e.workspace()
	company := e.project("Company")
	created := e.ok(201, "POST", "/webhooks", map[string]any{
		"resource": company, "target": "https://example.com/hooks/1",
		"filters": []any{map[string]any{"resource_type": "task", "action": "changed", "fields": []string{"name"}}},
	})
	hook := created.data()
	if created.body["X-Hook-Secret"] == "" || hook["active"] != true || hook["target"] != "https://example.com/hooks/1" ||
		hook["resource"].(map[string]any)["name"] != "Company" {
		t.Fatalf("created webhook = %s", created.raw)
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
	e.fails(404, "resource: Unknown object", "POST", "/webhooks", map[string]any{"resource": "1299999999999999", "target": "https://example.com/x"})
	e.fails(400, "filters: Webhooks on a workspace require filters", "POST", "/webhooks", map[string]any{"resource": ws, "target": "https://example.com/x"})
	e.ok(200, "DELETE", "/webhooks/"+gid, nil)
	e.fails(404, "Unknown object", "GET", "/webhooks/"+gid, nil)
	if got := e.ok(200, "GET", "/webhooks?workspace="+ws, nil).list(); len(got) != 0 {
		t.Errorf("webhooks after delete = %v", got)
	}
}
