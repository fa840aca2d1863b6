package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
)

// Webhooks are kept minimal: the sandbox records them and lists, reads and
// deletes them faithfully, but POST /webhooks does not perform the
// X-Hook-Secret handshake with the target and no deliveries are ever made.
// Use the Events API (GET /events) for change detection against the
// sandbox; the webhook record exists so that client code managing webhooks
// can be exercised.

func (st *store) webhook(gid string) *webhook {
	w, _ := st.objects[gid].(*webhook)
	return w
}

// getWebhooks serves GET /webhooks?workspace=...[&resource=...].
func (s *Sandbox) getWebhooks(c *call) error {
	ws, err := c.queryGID("workspace")
	if err != nil {
		return err
	}
	if ws == "" {
		return missingInput("workspace")
	}
	if ws != s.st.ws.gid {
		return unknownParam("workspace", ws)
	}
	resource, err := c.queryGID("resource")
	if err != nil {
		return err
	}
	return listPage(c, s.schema.webhook, func() ([]*webhook, error) {
		var hooks []*webhook
		for _, w := range s.st.webhooks {
			if resource == "" || w.resource.gid == resource {
				hooks = append(hooks, w)
			}
		}
		return hooks, nil
	})
}

// createWebhook serves POST /webhooks: 201 with the record and the
// X-Hook-Secret a real handshake would have carried.
func (s *Sandbox) createWebhook(c *call) error {
	data, sel, err := c.input(s.schema.webhook)
	if err != nil {
		return err
	}
	resource, ok, err := str(data, "resource")
	if err != nil {
		return err
	}
	if !ok || resource == "" {
		return missingInput("resource")
	}
	target, ok, err := str(data, "target")
	if err != nil {
		return err
	}
	if !ok || target == "" {
		return missingInput("target")
	}
	u, perr := url.Parse(target)
	if perr != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return badRequest("target: Not a valid URL: %q", target)
	}
	var filters []webhookFilter
	if raw, ok := data["filters"]; ok {
		var fs []struct {
			ResourceType    string   `json:"resource_type"`
			ResourceSubtype string   `json:"resource_subtype"`
			Action          string   `json:"action"`
			Fields          []string `json:"fields"`
		}
		if err := json.Unmarshal(raw, &fs); err != nil {
			return badRequest("filters: Not an array of filter objects")
		}
		for _, f := range fs {
			filters = append(filters, webhookFilter{resourceType: f.ResourceType, resourceSubtype: f.ResourceSubtype,
				action: f.Action, fields: f.Fields})
		}
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	var ref resRef
	switch o := st.objects[resource].(type) {
	case *project:
		ref = projectRef(o)
	case *task:
		if o.deleted {
			return unknownParam("resource", resource)
		}
		ref = taskRef(o)
	default:
		if resource == st.ws.gid {
			if len(filters) == 0 {
				return badRequest("filters: Webhooks on a workspace require filters")
			}
			ref = resRef{gid: st.ws.gid, typ: "workspace", name: st.ws.name}
			break
		}
		return unknownParam("resource", resource)
	}
	w := &webhook{gid: st.runtimeGID(), resource: ref, target: target, filters: filters,
		createdAt: st.tick(), secret: st.rng.Hex(32)}
	st.objects[w.gid] = w
	st.webhooks = append(st.webhooks, w)
	body := &object{}
	body.Set("data", c.renderCtx().render(s.schema.webhook, w, sel, s.schema.webhook.full))
	body.Set("X-Hook-Secret", w.secret)
	c.w.Header().Set("Location", c.location("/webhooks/"+w.gid))
	writeJSON(c.w, http.StatusCreated, body, c.pretty)
	return nil
}

// getWebhook serves GET /webhooks/{webhook_gid}.
func (s *Sandbox) getWebhook(c *call) error {
	return getOne(c, "webhook_gid", s.schema.webhook, s.st.webhook)
}

// deleteWebhook serves DELETE /webhooks/{webhook_gid}.
func (s *Sandbox) deleteWebhook(c *call) error {
	return deleteOne(c, "webhook_gid", s.st.webhook, s.st.deleteWebhook)
}

// deleteWebhook forgets w. Callers hold the write lock.
func (st *store) deleteWebhook(w *webhook) error {
	delete(st.objects, w.gid)
	st.webhooks = removeItem(st.webhooks, w)
	return nil
}
