package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
)

// The webhook operations. POST /webhooks performs Asana's X-Hook-Secret
// handshake with the target before creating the record, and every webhook
// then delivers its resource's events; see hooks.go.

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

// createWebhook serves POST /webhooks: the handshake with the target, then
// 201 with the record and the X-Hook-Secret the handshake carried, or 400
// when the target did not echo it.
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
	if !isGID(resource) {
		return badRequest("resource: Not a Long: %s", resource)
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
	ref, err := s.webhookResource(resource, filters)
	if err != nil {
		return err
	}
	// The handshake runs without the lock: the target may take its time, or
	// call the API itself while it answers.
	secret := newHookSecret()
	if !s.hooks.handshake(c.r.Context(), target, secret) {
		return badRequest("%s", handshakeFailText)
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, err := s.webhookResourceLocked(resource, filters); err != nil {
		return err // deleted during the handshake
	}
	w := &webhook{gid: st.runtimeGID(), resource: ref, target: target, filters: filters,
		createdAt: st.tick(), secret: secret}
	st.objects[w.gid] = w
	st.webhooks = append(st.webhooks, w)
	s.startHook(w)
	body := &object{}
	body.Set("data", c.renderCtx().render(s.schema.webhook, w, sel, s.schema.webhook.full))
	body.Set("X-Hook-Secret", w.secret)
	c.w.Header().Set("Location", c.location("/webhooks/"+w.gid))
	writeJSON(c.w, http.StatusCreated, body, c.pretty)
	return nil
}

// webhookResource checks that a webhook may be made on resource: a
// project, a task that is not deleted, or the workspace with filters.
func (s *Sandbox) webhookResource(resource string, filters []webhookFilter) (resRef, error) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	return s.webhookResourceLocked(resource, filters)
}

// webhookResourceLocked is webhookResource for callers holding the lock.
func (s *Sandbox) webhookResourceLocked(resource string, filters []webhookFilter) (resRef, error) {
	st := s.st
	switch o := st.objects[resource].(type) {
	case *project:
		return projectRef(o), nil
	case *task:
		if o.deleted {
			return resRef{}, unknownParam("resource", resource)
		}
		return taskRef(o), nil
	}
	if resource == st.ws.gid {
		if len(filters) == 0 {
			return resRef{}, badRequest("filters: Webhooks on a workspace require filters")
		}
		return resRef{gid: st.ws.gid, typ: "workspace", name: st.ws.name}, nil
	}
	return resRef{}, unknownParam("resource", resource)
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
	if w.stop != nil {
		w.stop() // no delivery starts after this; one in flight is abandoned
	}
	return nil
}
