package engine

import (
	"context"
	"errors"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/store"
)

// defaultHistory is how many of an item's syncs its history shows when the
// caller leaves it to the node; maxHistory bounds what a caller may ask.
const (
	defaultHistory = 20
	maxHistory     = 200
)

// versioned is rules that name their version, recorded on every sync they
// run (Script mode's published versions).
type versioned interface{ Version() string }

// Version implements versioned: Basic's rules are fixed, one version.
func (Basic) Version() string { return string(ModeBasic) }

// rulesVersion is the version recorded on a sync run under rules r (its
// connection's): "basic", a script's version, or "custom" for rules that
// name none (a test's).
func rulesVersion(r Rules) string {
	if v, ok := r.(versioned); ok {
		return v.Version()
	}
	return "custom"
}

// ItemHistory returns an item's latest syncs (ref names either side's
// item) on connID (id or name; "" for the connection that knows it),
// newest first, each with its stages and rules version, and whether the
// pair was unexalated.
func (n *pipeline) ItemHistory(ctx context.Context, connID, ref string, limit int) (adminapi.ItemHistory, error) {
	if limit <= 0 {
		limit = defaultHistory
	}
	limit = min(limit, maxHistory)
	c, local, err := n.findItem(ctx, connID, ref)
	if err != nil {
		return adminapi.ItemHistory{}, err
	}
	h := adminapi.ItemHistory{ConnectionID: c.ID, ConnectionName: c.Name, EntityID: local, Syncs: []adminapi.EventStatus{}}
	twin, err := n.st.Twin(ctx, nil, c.ID, local)
	switch {
	case err == nil:
		h.LocalKey, h.LocalURL, h.RemoteKey, h.RemoteURL = twin.LocalKey, twin.LocalURL, twin.RemoteKey, twin.RemoteURL
	case !errors.Is(err, store.ErrNotFound):
		return h, err
	}
	if u, err := n.st.UnexalatedItem(ctx, nil, c.ID, local); err == nil {
		h.UnexalatedAt, h.UnexalatedTwin = u.At, u.RemoteKey
	} else if !errors.Is(err, store.ErrNotFound) {
		return h, err
	}
	entries, err := n.st.ItemHistory(ctx, c.ID, local, limit)
	if err != nil {
		return h, err
	}
	for _, e := range entries {
		st, err := n.eventStatus(ctx, c.ID, e.EventID)
		if err != nil {
			return h, err
		}
		st.RulesVersion = e.RulesVersion
		if h.LocalKey == "" {
			h.LocalKey, h.LocalURL = st.LocalKey, st.LocalURL
		}
		h.Syncs = append(h.Syncs, st)
	}
	if len(h.Syncs) == 0 && h.RemoteKey == "" && h.UnexalatedAt.IsZero() {
		return h, Errorf(ErrNotFound, "%s was never synced on connection %s", ref, c.Name)
	}
	if h.LocalKey == "" {
		h.LocalKey = local
	}
	return h, nil
}
