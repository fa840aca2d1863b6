package asana

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tandem-sync/tandem/engine"
)

// Tracker is an Asana workspace seen through engine.Tracker.
type Tracker struct {
	c         *Client
	workspace string // gid or name, as configured
	ws        Workspace
}

var _ engine.Tracker = (*Tracker)(nil)

// NewTracker fronts the workspace named or numbered workspace ("" picks the
// token's only workspace). Nothing is fetched until Check.
func NewTracker(c *Client, workspace string) *Tracker {
	return &Tracker{c: c, workspace: strings.TrimSpace(workspace)}
}

// Kind is "asana".
func (t *Tracker) Kind() string { return "asana" }

// Check verifies the token (GET /users/me) and resolves the workspace, with
// an error that says what to pass when the workspace is ambiguous or absent.
func (t *Tracker) Check(ctx context.Context) (engine.TrackerAccount, error) {
	me, err := t.c.Me(ctx)
	if errors.Is(err, ErrUnauthorized) {
		return engine.TrackerAccount{}, fmt.Errorf("Asana refused the token at %s: check --asana-token (or ASANA_TOKEN)", t.c.BaseURL())
	}
	if err != nil {
		return engine.TrackerAccount{}, err
	}
	ws, err := t.c.Workspaces(ctx)
	if err != nil {
		return engine.TrackerAccount{}, err
	}
	var names []string
	for _, w := range ws {
		names = append(names, fmt.Sprintf("%q (%s)", w.Name, w.GID))
		if t.workspace != "" && (w.GID == t.workspace || strings.EqualFold(w.Name, t.workspace)) {
			t.ws = w
		}
	}
	switch {
	case t.ws.GID != "":
	case t.workspace == "" && len(ws) == 1:
		t.ws = ws[0]
	case t.workspace == "":
		return engine.TrackerAccount{}, fmt.Errorf("%s sees %d workspaces; choose one with --asana-workspace: %s", me.Name, len(ws), strings.Join(names, ", "))
	default:
		return engine.TrackerAccount{}, fmt.Errorf("%s has no workspace %q; the token sees: %s", me.Name, t.workspace, strings.Join(names, ", "))
	}
	return engine.TrackerAccount{User: me.Name, Space: t.ws.Name}, nil
}

// Projects lists the workspace's projects.
func (t *Tracker) Projects(ctx context.Context) ([]engine.Project, error) {
	if t.ws.GID == "" {
		return nil, errors.New("asana: the tracker was not checked yet")
	}
	ps, err := t.c.Projects(ctx, t.ws.GID)
	if err != nil {
		return nil, err
	}
	out := make([]engine.Project, len(ps))
	for i, p := range ps {
		out[i] = engine.Project{ID: p.GID, Name: p.Name}
	}
	return out, nil
}
