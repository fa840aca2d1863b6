// Package remote is a client of a tandem node's admin API, for the command
// line and the console when they run apart from the node.
package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// Client talks to one node with its admin token. It is an adminapi.Node:
// the console and the command line use it as they would a node in
// process.
type Client struct {
	base        string
	token       string
	http        *http.Client
	callTimeout time.Duration
}

// DefaultCallTimeout bounds a call whose ctx has no deadline of its own.
// A Bulk Exalate is no one call: it is queued, then followed in short
// reads (ExalateAll).
const DefaultCallTimeout = 2 * time.Minute

// Option changes a Client made by New.
type Option func(*Client)

// WithCallTimeout replaces DefaultCallTimeout for this client; d <= 0 keeps
// the default, so a zero value from a config never means "no bound".
func WithCallTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.callTimeout = d
		}
	}
}

// New returns a client of the node at nodeURL.
func New(nodeURL, adminToken string, opts ...Option) (*Client, error) {
	base, err := adminapi.NormalizeURL(nodeURL)
	if err != nil {
		return nil, fmt.Errorf("--node: %w", err)
	}
	if strings.TrimSpace(adminToken) == "" {
		return nil, errors.New("the node's admin token is required: --admin-token or TANDEM_ADMIN_TOKEN (printed at the node's first start)")
	}
	c := &Client{base: base, token: adminToken, http: &http.Client{}, callTimeout: DefaultCallTimeout}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Error is an error answer from the node: its message says what to do.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// HTTPStatus is the node's answer's status (adminapi.WaitBulk tells an
// answer that won't change, 4xx, from a failure worth trying again).
func (e *Error) HTTPStatus() int { return e.Status }

// Is matches the contract's sentinel error for the answer's code, so
// errors.Is(err, engine.ErrInvitationUsed) (the same value as
// adminapi.ErrInvitationUsed; or ErrUnreachable, ErrNotFound, ...) holds
// across the API as it does on the node.
func (e *Error) Is(target error) bool {
	known := adminapi.ErrorForCode(e.Code)
	return known != nil && known == target
}

func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.callTimeout)
		defer cancel()
	}
	return c.callLong(ctx, method, path, in, out)
}

// callLong is call without the default timeout: ctx alone bounds it.
func (c *Client) callLong(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("the node at %s can't be reached (%v): is `tandem serve` running there?", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading the node's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Status: resp.StatusCode}
		var eb adminapi.ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			e.Message, e.Code = eb.Error, eb.Code
		} else {
			e.Message = fmt.Sprintf("the node answered %s", resp.Status)
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the node at %s answered %s with something unreadable: is it a tandem node?", c.base, path)
	}
	return nil
}

var _ adminapi.Node = (*Client)(nil)

// Info is the node's public info.
func (c *Client) Info(ctx context.Context) (adminapi.Instance, error) {
	var i adminapi.Instance
	return i, c.call(ctx, http.MethodGet, adminapi.PathInstance, nil, &i)
}

// Connections lists the node's connections.
func (c *Client) Connections(ctx context.Context) ([]adminapi.Connection, error) {
	var cs []adminapi.Connection
	return cs, c.call(ctx, http.MethodGet, adminapi.PathConnections, nil, &cs)
}

// Connection returns one connection.
func (c *Client) Connection(ctx context.Context, id string) (adminapi.Connection, error) {
	var conn adminapi.Connection
	return conn, c.call(ctx, http.MethodGet, adminapi.ConnectionPath(id), nil, &conn)
}

// Projects lists the node's tracker projects.
func (c *Client) Projects(ctx context.Context) ([]adminapi.Project, error) {
	var ps []adminapi.Project
	return ps, c.call(ctx, http.MethodGet, adminapi.PathProjects, nil, &ps)
}

// Probe has the node look at another node's instance info.
func (c *Client) Probe(ctx context.Context, nodeURL string) (adminapi.Instance, error) {
	var i adminapi.Instance
	return i, c.call(ctx, http.MethodPost, adminapi.PathProbe, adminapi.ProbeRequest{URL: nodeURL}, &i)
}

// Invite creates a Pending connection and returns its invitation code.
func (c *Client) Invite(ctx context.Context, req adminapi.InviteRequest) (adminapi.Connection, string, error) {
	var r adminapi.InviteResponse
	err := c.call(ctx, http.MethodPost, adminapi.PathInvitations, req, &r)
	return r.Connection, r.Code, err
}

// RenewInvitation makes a new code for a Pending connection's invitation,
// revoking the old one.
func (c *Client) RenewInvitation(ctx context.Context, id string) (adminapi.Connection, string, error) {
	var r adminapi.InviteResponse
	err := c.call(ctx, http.MethodPost, adminapi.ConnectionActionPath(id, adminapi.ActionInvitation), nil, &r)
	return r.Connection, r.Code, err
}

// Accept accepts an invitation code on the node.
func (c *Client) Accept(ctx context.Context, code, project string) (adminapi.Connection, error) {
	var conn adminapi.Connection
	return conn, c.call(ctx, http.MethodPost, adminapi.PathAccept, adminapi.AcceptRequest{Code: code, Project: project}, &conn)
}

// Connect sets a connection up through the destination's admin API.
func (c *Client) Connect(ctx context.Context, r adminapi.ConnectRequest) (adminapi.Connection, error) {
	var conn adminapi.Connection
	return conn, c.call(ctx, http.MethodPost, adminapi.PathConnect, r, &conn)
}

// SetActive deactivates or re-activates a connection.
func (c *Client) SetActive(ctx context.Context, id string, active bool) (adminapi.Connection, error) {
	verb := adminapi.ActionDeactivate
	if active {
		verb = adminapi.ActionActivate
	}
	var conn adminapi.Connection
	return conn, c.call(ctx, http.MethodPost, adminapi.ConnectionActionPath(id, verb), nil, &conn)
}

// Delete deletes a connection on the node.
func (c *Client) Delete(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, adminapi.ConnectionPath(id), nil, nil)
}

// Exalate starts the sync of one entity (ref) on a connection (id or name;
// "" for the only one).
func (c *Client) Exalate(ctx context.Context, connection, ref string) (adminapi.StageEvent, error) {
	var r adminapi.ExalateResponse
	err := c.call(ctx, http.MethodPost, adminapi.PathExalate, adminapi.ExalateRequest{Ref: ref, Connection: connection}, &r)
	if err != nil || len(r.Events) == 0 {
		return adminapi.StageEvent{}, err
	}
	return r.Events[0], nil
}

// ExalateAll starts the sync of every entity of the connection's project
// (Bulk Exalate) and waits until each has its sync: how many, and the
// first adminapi.BulkEventsListed. The node answers the start once the
// bulk is queued, and each read of it after is a short call; if ctx ends
// first, the bulk goes on.
func (c *Client) ExalateAll(ctx context.Context, connection string) (adminapi.BulkStarted, error) {
	b, err := c.StartBulk(ctx, connection)
	if err != nil {
		return adminapi.BulkStarted{}, err
	}
	return adminapi.WaitBulk(ctx, c, b, nil)
}

// StartBulk queues a Bulk Exalate of the connection's project (or joins
// the one listing it) and returns it.
func (c *Client) StartBulk(ctx context.Context, connection string) (adminapi.Bulk, error) {
	var r adminapi.ExalateResponse
	if err := c.call(ctx, http.MethodPost, adminapi.PathExalate, adminapi.ExalateRequest{Connection: connection, All: true}, &r); err != nil {
		return adminapi.Bulk{}, err
	}
	if r.Bulk == nil {
		return adminapi.Bulk{}, errors.New("the node answered the Bulk Exalate without queueing it: upgrade the node to this version of tandem")
	}
	return *r.Bulk, nil
}

// Bulk says how far a Bulk Exalate got; events > 0 asks for the syncs of
// its first events items too.
func (c *Client) Bulk(ctx context.Context, connection, id string, events int) (adminapi.Bulk, error) {
	var b adminapi.Bulk
	return b, c.call(ctx, http.MethodGet, adminapi.BulkPath(connection, id, events), nil, &b)
}

// Status returns the latest sync of an entity with its stages and links.
func (c *Client) Status(ctx context.Context, ref, connection string) (adminapi.EventStatus, error) {
	var st adminapi.EventStatus
	return st, c.call(ctx, http.MethodGet, adminapi.StatusPath(ref, connection), nil, &st)
}

// EventStatus returns one sync with its stages.
func (c *Client) EventStatus(ctx context.Context, connection, event string) (adminapi.EventStatus, error) {
	var st adminapi.EventStatus
	return st, c.call(ctx, http.MethodGet, adminapi.SyncPath(connection, event), nil, &st)
}

// Subscribe streams the node's stage events (server-sent events) until ctx
// ends or the stream breaks; it returns once the stream is open.
func (c *Client) Subscribe(ctx context.Context) (<-chan adminapi.StageEvent, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+adminapi.PathEvents, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	stream := &http.Client{} // no timeout: the stream lasts as long as ctx
	resp, err := stream.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the node at %s can't be reached (%v): is `tandem serve` running there?", c.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		var eb struct{ Error string }
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			return nil, &Error{Status: resp.StatusCode, Message: eb.Error}
		}
		return nil, &Error{Status: resp.StatusCode, Message: "the node answered " + resp.Status}
	}
	out := make(chan adminapi.StageEvent, 64)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		lines := bufio.NewScanner(resp.Body)
		lines.Buffer(make([]byte, 64<<10), 1<<20)
		for lines.Scan() {
			data, ok := strings.CutPrefix(lines.Text(), "data: ")
			if !ok {
				continue
			}
			var ev adminapi.StageEvent
			if json.Unmarshal([]byte(data), &ev) != nil {
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// SetTrigger turns "sync new tasks automatically" on or off.
func (c *Client) SetTrigger(ctx context.Context, id string, on bool) (adminapi.Connection, error) {
	var conn adminapi.Connection
	return conn, c.call(ctx, http.MethodPost, adminapi.ConnectionActionPath(id, adminapi.ActionTrigger), adminapi.TriggerRequest{On: on}, &conn)
}

// Stats sums up a connection's syncs.
func (c *Client) Stats(ctx context.Context, connID string) (adminapi.ConnectionStats, error) {
	var st adminapi.ConnectionStats
	return st, c.call(ctx, http.MethodGet, adminapi.ConnectionActionPath(connID, adminapi.ActionStats), nil, &st)
}

// Rules returns the rows of a connection's rules, in order.
func (c *Client) Rules(ctx context.Context, connID string) ([]adminapi.Rule, error) {
	var rules []adminapi.Rule
	return rules, c.call(ctx, http.MethodGet, adminapi.ConnectionActionPath(connID, adminapi.ActionRules), nil, &rules)
}

// RecentEvents returns a connection's latest syncs, newest first; limit <= 0
// leaves the number to the node (20).
func (c *Client) RecentEvents(ctx context.Context, connID string, limit int) ([]adminapi.StageEvent, error) {
	var evs []adminapi.StageEvent
	return evs, c.call(ctx, http.MethodGet, adminapi.ConnectionActionPath(connID, adminapi.ActionEvents)+adminapi.LimitQuery(limit), nil, &evs)
}

// RecentItems returns a project's most recently modified items, newest
// first; limit <= 0 leaves the number to the node (10).
func (c *Client) RecentItems(ctx context.Context, project string, limit int) ([]adminapi.Item, error) {
	var items []adminapi.Item
	return items, c.call(ctx, http.MethodGet, adminapi.ItemsPath(project, limit), nil, &items)
}

// DestinationProjects has the node check a destination with its admin
// token and list the destination's projects.
func (c *Client) DestinationProjects(ctx context.Context, destURL, adminToken string) (adminapi.Instance, []adminapi.Project, error) {
	var r adminapi.DestinationResponse
	err := c.call(ctx, http.MethodPost, adminapi.PathDestinationProjects, adminapi.DestinationRequest{URL: destURL, Token: adminToken}, &r)
	return r.Instance, r.Projects, err
}

// PreviewInvitation tells what accepting an invitation code would connect
// to, without accepting it.
func (c *Client) PreviewInvitation(ctx context.Context, code string) (adminapi.InvitationPreview, error) {
	var p adminapi.InvitationPreview
	return p, c.call(ctx, http.MethodPost, adminapi.PathPreviewInvitation, adminapi.PreviewRequest{Code: code}, &p)
}
