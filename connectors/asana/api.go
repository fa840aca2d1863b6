package asana

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// pageSize is Asana's largest page; fewer, fuller pages mean fewer requests.
const pageSize = "100"

// envelope is Asana's {"data": …} wrapper.
type envelope[T any] struct {
	Data T `json:"data"`
}

// page is one page of a list answer.
type page[T any] struct {
	Data     []T `json:"data"`
	NextPage *struct {
		Offset string `json:"offset"`
	} `json:"next_page"`
}

// get fetches one object.
func get[T any](ctx context.Context, c *Client, path, endpoint string, q url.Values) (T, error) {
	var env envelope[T]
	err := c.do(ctx, request{method: http.MethodGet, path: path, endpoint: endpoint, query: q}, &env)
	return env.Data, err
}

// send writes data (wrapped as {"data": data}) and decodes the answer's data.
func send[T any](ctx context.Context, c *Client, method, path, endpoint string, q url.Values, data any) (T, error) {
	var out envelope[T]
	body, err := json.Marshal(envelope[any]{Data: data})
	if err != nil {
		return out.Data, fmt.Errorf("asana: encoding %s %s: %w", method, path, err)
	}
	err = c.do(ctx, request{method: method, path: path, endpoint: endpoint, query: q, body: body}, &out)
	return out.Data, err
}

// list follows next_page.offset until Asana says there is no next page.
func list[T any](ctx context.Context, c *Client, path, endpoint string, q url.Values) ([]T, error) {
	if q == nil {
		q = url.Values{}
	}
	q.Set("limit", pageSize)
	var all []T
	for {
		var p page[T]
		if err := c.do(ctx, request{method: http.MethodGet, path: path, endpoint: endpoint, query: q}, &p); err != nil {
			return all, err
		}
		all = append(all, p.Data...)
		if p.NextPage == nil || p.NextPage.Offset == "" {
			return all, nil
		}
		q.Set("offset", p.NextPage.Offset)
	}
}

// fields builds the opt_fields query value.
func fields(names ...string) url.Values {
	return url.Values{"opt_fields": {strings.Join(names, ",")}}
}

// checkGID refuses anything but Asana's numeric gids before it reaches a
// URL path, so a pasted link or a typo gives a clear error instead of a
// request to the wrong endpoint.
func checkGID(kind, gid string) error {
	if gid == "" {
		return fmt.Errorf("asana: %s gid is empty", kind)
	}
	for _, r := range gid {
		if r < '0' || r > '9' {
			return fmt.Errorf("asana: %q is not a %s gid (Asana gids are numbers such as 1204567890123456)", gid, kind)
		}
	}
	return nil
}

// Me returns the user the token belongs to; it is the cheap way to check a
// token.
func (c *Client) Me(ctx context.Context) (User, error) {
	return get[User](ctx, c, "/users/me", "/users/{gid}", fields("name", "email", "workspaces", "workspaces.name"))
}

// Workspaces lists the workspaces and organizations the token can see.
func (c *Client) Workspaces(ctx context.Context) ([]Workspace, error) {
	return list[Workspace](ctx, c, "/workspaces", "/workspaces", fields("name", "is_organization"))
}

// Projects lists the projects of a workspace.
func (c *Client) Projects(ctx context.Context, workspaceGID string) ([]Project, error) {
	if err := checkGID("workspace", workspaceGID); err != nil {
		return nil, err
	}
	return list[Project](ctx, c, "/workspaces/"+workspaceGID+"/projects", "/workspaces/{gid}/projects",
		fields("name", "permalink_url", "workspace", "workspace.name"))
}
