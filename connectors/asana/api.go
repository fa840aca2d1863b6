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

// answer is an answer's {"data": …}. Data is a pointer so that an answer
// without it ({} from a proxy, {"data": null}) is told apart from an
// object whose fields are all empty.
type answer[T any] struct {
	Data *T `json:"data"`
}

// object returns the answer's object. Asana always sends one, with its
// gid; an answer without either is refused rather than taken for a task
// (or story, or attachment) with no id.
func (a answer[T]) object(method, path string) (T, error) {
	var zero T
	if a.Data == nil {
		return zero, fmt.Errorf("asana: %s %s: the answer has no data", method, path)
	}
	if err := checkIdentified(method, path, *a.Data); err != nil {
		return zero, err
	}
	return *a.Data, nil
}

// identified is an Asana object, which always comes with its gid.
type identified interface{ gidOf() string }

func (t Task) gidOf() string       { return t.GID }
func (s Story) gidOf() string      { return s.GID }
func (a Attachment) gidOf() string { return a.GID }
func (u User) gidOf() string       { return u.GID }
func (w Workspace) gidOf() string  { return w.GID }
func (p Project) gidOf() string    { return p.GID }

// checkIdentified refuses an object of a type that has a gid without one.
func checkIdentified(method, path string, v any) error {
	if o, ok := v.(identified); ok && o.gidOf() == "" {
		return fmt.Errorf("asana: %s %s: the answer holds an object without a gid", method, path)
	}
	return nil
}

// page is one page of a list answer; Data is a pointer for the reason
// answer's is.
type page[T any] struct {
	Data     *[]T `json:"data"`
	NextPage *struct {
		Offset string `json:"offset"`
	} `json:"next_page"`
}

// get fetches one object.
func get[T any](ctx context.Context, c *Client, path, endpoint string, q url.Values) (T, error) {
	var a answer[T]
	if err := c.do(ctx, request{method: http.MethodGet, path: path, endpoint: endpoint, query: q}, &a); err != nil {
		var zero T
		return zero, err
	}
	return a.object(http.MethodGet, path)
}

// send writes data (wrapped as {"data": data}) and decodes the answer's data.
func send[T any](ctx context.Context, c *Client, method, path, endpoint string, q url.Values, data any) (T, error) {
	var out answer[T]
	var zero T
	body, err := json.Marshal(envelope[any]{Data: data})
	if err != nil {
		return zero, fmt.Errorf("asana: encoding %s %s: %w", method, path, err)
	}
	if err := c.do(ctx, request{method: method, path: path, endpoint: endpoint, query: q, body: body}, &out); err != nil {
		return zero, err
	}
	return out.object(method, path)
}

// list follows next_page.offset until Asana says there is no next page
// and returns every page's items (see pages).
func list[T any](ctx context.Context, c *Client, path, endpoint string, q url.Values) ([]T, error) {
	var all []T
	err := pages(ctx, c, path, endpoint, q, func(p []T) error {
		all = append(all, p...)
		return nil
	})
	return all, err
}

// pages follows next_page.offset until Asana says there is no next page,
// handing each page's items to each in turn, so a caller that doesn't
// keep them holds one page at a time; an error from each stops it. An
// offset that comes back a second time is an error: following it would
// read the same pages for ever.
func pages[T any](ctx context.Context, c *Client, path, endpoint string, q url.Values, each func([]T) error) error {
	if q == nil {
		q = url.Values{}
	}
	q.Set("limit", pageSize)
	offsets := map[string]bool{}
	for {
		var p page[T]
		if err := c.do(ctx, request{method: http.MethodGet, path: path, endpoint: endpoint, query: q}, &p); err != nil {
			return err
		}
		if p.Data == nil {
			return fmt.Errorf("asana: GET %s: the answer has no data", path)
		}
		for _, v := range *p.Data {
			if err := checkIdentified(http.MethodGet, path, v); err != nil {
				return err
			}
		}
		if err := each(*p.Data); err != nil {
			return err
		}
		if p.NextPage == nil || p.NextPage.Offset == "" {
			return nil
		}
		if offsets[p.NextPage.Offset] {
			return fmt.Errorf("asana: GET %s: the answer names page offset %q again", path, p.NextPage.Offset)
		}
		offsets[p.NextPage.Offset] = true
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

// User fetches a user by gid or e-mail address, with name and e-mail, as
// the workspace sees them. A user no one in the workspace is answers 404
// (ErrNotFound).
func (c *Client) User(ctx context.Context, workspaceGID, ref string) (User, error) {
	if err := checkGID("workspace", workspaceGID); err != nil {
		return User{}, err
	}
	if !isGID(ref) && !isEmail(ref) {
		return User{}, fmt.Errorf("asana: %q is neither a user gid nor an e-mail address", ref)
	}
	q := fields("name", "email")
	q.Set("workspace", workspaceGID)
	return get[User](ctx, c, "/users/"+url.PathEscape(ref), "/users/{gid}", q)
}

func isGID(s string) bool { return checkGID("", s) == nil }

// isEmail is a plausible e-mail address: something@something, no spaces
// or control characters, short enough for any real one.
func isEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || len(s) > 254 || strings.Contains(domain, "@") {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '/' || r == '?' || r == '#' {
			return false
		}
	}
	return true
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
