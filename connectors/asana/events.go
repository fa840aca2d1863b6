package asana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// eventsAnswer is both the 200 answer ({data, sync, has_more}) and the 412
// answer ({errors, sync}) of GET /events. Data is a pointer so that a 200
// without it is told apart from one with no events.
type eventsAnswer struct {
	Data    *[]Event `json:"data"`
	Sync    string   `json:"sync"`
	HasMore bool     `json:"has_more"`
}

// Events returns the changes on a project or task since sync. With an empty
// sync, or one Asana no longer knows (tokens live at most a day), Asana
// answers 412 with a fresh token: Events then returns a page with Reset set
// and no events, and the caller must reconcile (ProjectTasks with
// ModifiedSince) before going on with the new token. Asana delivers each
// event at most once, so that reconcile is what makes nothing get lost.
func (c *Client) Events(ctx context.Context, resourceGID, sync string) (EventPage, error) {
	if err := checkGID("resource", resourceGID); err != nil {
		return EventPage{}, err
	}
	q := url.Values{"resource": {resourceGID}}
	if sync != "" {
		q.Set("sync", sync)
	}
	var a eventsAnswer
	err := c.do(ctx, request{method: http.MethodGet, path: "/events", endpoint: "/events", query: q}, &a)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusPreconditionFailed {
		if json.Unmarshal(e.body, &a) != nil || a.Sync == "" {
			return EventPage{}, fmt.Errorf("asana: events on %s: 412 without a new sync token: %w", resourceGID, err)
		}
		return EventPage{Sync: a.Sync, Reset: true}, nil
	}
	if err != nil {
		return EventPage{}, err
	}
	if a.Sync == "" || a.Data == nil {
		return EventPage{}, fmt.Errorf("asana: events on %s: answer without events or a sync token", resourceGID)
	}
	return EventPage{Events: *a.Data, Sync: a.Sync, HasMore: a.HasMore}, nil
}
