package asana

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// Webhook is a webhook as the webhook operations return it.
type Webhook struct {
	GID      string `json:"gid"`
	Resource Ref    `json:"resource"`
	Target   string `json:"target"`
	Active   bool   `json:"active"`
}

func (w Webhook) gidOf() string { return w.GID }

// webhookFields asks for what Hook carries.
func webhookFields() url.Values { return fields("resource", "resource.name", "target", "active") }

// CreateWebhook establishes a webhook on resource (POST /webhooks): Asana
// sends the X-Hook-Secret handshake to target while this call is in
// flight, and answers with an error when target didn't echo it.
func (c *Client) CreateWebhook(ctx context.Context, resource, target string) (Webhook, error) {
	if err := checkGID("resource", resource); err != nil {
		return Webhook{}, err
	}
	return send[Webhook](ctx, c, http.MethodPost, "/webhooks", "/webhooks", webhookFields(),
		map[string]string{"resource": resource, "target": target})
}

// Webhooks lists the token's webhooks in a workspace, on resource if it
// isn't "" (GET /webhooks).
func (c *Client) Webhooks(ctx context.Context, workspaceGID, resource string) ([]Webhook, error) {
	q := webhookFields()
	q.Set("workspace", workspaceGID)
	if resource != "" {
		q.Set("resource", resource)
	}
	return list[Webhook](ctx, c, "/webhooks", "/webhooks", q)
}

// Webhook reads one webhook (GET /webhooks/{gid}).
func (c *Client) Webhook(ctx context.Context, gid string) (Webhook, error) {
	if err := checkGID("webhook", gid); err != nil {
		return Webhook{}, err
	}
	return get[Webhook](ctx, c, "/webhooks/"+gid, "/webhooks/{gid}", webhookFields())
}

// DeleteWebhook deletes a webhook (DELETE /webhooks/{gid}).
func (c *Client) DeleteWebhook(ctx context.Context, gid string) error {
	if err := checkGID("webhook", gid); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/webhooks/" + gid, endpoint: "/webhooks/{gid}", query: url.Values{}}, nil)
}

var _ tracker.Webhooks = (*Tracker)(nil)

func hookOf(w Webhook) tracker.Hook {
	return tracker.Hook{ID: w.GID, Project: w.Resource.GID, Target: w.Target, Active: w.Active}
}

// Subscribe establishes a webhook on the project (tracker.Webhooks).
func (t *Tracker) Subscribe(ctx context.Context, project, target string) (tracker.Hook, error) {
	w, err := t.c.CreateWebhook(ctx, project, target)
	if err != nil {
		return tracker.Hook{}, err
	}
	return hookOf(w), nil
}

// Hook reads a webhook; tracker.ErrNotFound when Asana dropped it.
func (t *Tracker) Hook(ctx context.Context, id string) (tracker.Hook, error) {
	w, err := t.c.Webhook(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return tracker.Hook{}, gone(err, "webhook", id)
	}
	if err != nil {
		return tracker.Hook{}, err
	}
	return hookOf(w), nil
}

// Hooks lists the webhooks on a project.
func (t *Tracker) Hooks(ctx context.Context, project string) ([]tracker.Hook, error) {
	ws, err := t.c.Webhooks(ctx, t.ws.GID, project)
	if err != nil {
		return nil, err
	}
	hooks := make([]tracker.Hook, len(ws))
	for i, w := range ws {
		hooks[i] = hookOf(w)
	}
	return hooks, nil
}

// Unsubscribe deletes a webhook; one Asana no longer has is no error.
func (t *Tracker) Unsubscribe(ctx context.Context, id string) error {
	if err := t.c.DeleteWebhook(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}
