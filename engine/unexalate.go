package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/store"
)

// PathUnexalate is where a node tells its peer that a user stopped syncing
// an item pair: the peer removes its side of the link too.
const PathUnexalate = "/api/v1/peer/unexalate"

// peerCallTimeout bounds a call to the peer that a user waits for (an
// unexalate, a link): an unreachable peer is said at once, not after
// minutes.
const peerCallTimeout = 20 * time.Second

// UnexalateNotice is the body of a signed POST /api/v1/peer/unexalate.
type UnexalateNotice struct {
	// ID is the sender's entity; Twin is the receiver's, as the sender
	// has the link.
	ID   string `json:"id"`
	Twin string `json:"twin"`
}

// Unexalate stops syncing an item pair: both nodes remove the twin link
// and the links of its comments and attachments, nothing is deleted in
// either tracker, and change detection leaves both items alone until a
// user exalates one of them again, which makes a fresh pair. ref names
// either side's item.
//
// Both nodes agree before either changes anything: this node asks its
// peer first (signed), and removes its own link once the peer has. A peer
// that can't be reached, or an item with a sync still on its way on either
// side, is refused with one line saying so, and nothing changes: the
// admin runs it again later. (A pending unexalate retried in the
// background would leave the pair half linked meanwhile, with the other
// side's changes still arriving here for an item that no longer has a
// twin; refusing keeps both sides' state one of two: linked or not.)
func (n *pipeline) Unexalate(ctx context.Context, connID, ref string) (adminapi.UnexalateResult, error) {
	c, twin, err := n.findTwin(ctx, connID, ref)
	if err != nil {
		return adminapi.UnexalateResult{}, err
	}
	res := adminapi.UnexalateResult{ConnectionID: c.ID, LocalKey: twin.LocalKey, LocalURL: twin.LocalURL,
		RemoteKey: twin.RemoteKey, RemoteURL: twin.RemoteURL}
	// No sync of the item may start while the two sides agree: one
	// prepared now would carry a link the peer is removing. Both ends of
	// a local connection are this node, whose peer handler takes the
	// lock itself.
	if !c.Local {
		unlock, err := n.writing.write(ctx, twin.LocalID)
		if err != nil {
			return res, err
		}
		defer unlock()
	}
	if err := n.idleItem(ctx, c, twin); err != nil {
		return res, err
	}
	pctx, cancel := context.WithTimeout(ctx, peerCallTimeout)
	defer cancel()
	err = n.signedPost(pctx, c, PathUnexalate, "unexalate-"+uuid.NewString(), UnexalateNotice{ID: twin.LocalID, Twin: twin.RemoteID}, nil)
	if err != nil {
		return res, peerRefusal(c, "unexalate "+twin.LocalKey, err)
	}
	if err := n.st.InTx(ctx, func(tx *sql.Tx) error {
		return n.st.Unlink(ctx, tx, c.ID, twin.LocalID, twin.RemoteKey, n.now())
	}); err != nil {
		return res, fmt.Errorf("%s removed its link to %s, but this node could not remove its own (run unexalate again): %w",
			c.RemoteName, twin.LocalKey, err)
	}
	n.log.Info("unexalated: the pair no longer syncs; nothing deleted", "connection", c.ID, "entity", twin.LocalKey, "twin", twin.RemoteKey)
	return res, nil
}

// ReceiveUnexalate removes this side of a pair the peer's user stopped
// syncing. A pair already gone here is not an error: the peer may be
// asking again after it failed to record its own side.
func (n *pipeline) ReceiveUnexalate(ctx context.Context, c Connection, d UnexalateNotice) error {
	sc, err := n.st.Connection(ctx, c.ID)
	if err != nil {
		return err
	}
	twin, err := n.st.TwinByRemote(ctx, nil, c.ID, d.ID)
	if err == nil && !sc.Local {
		// Locked, the item is looked up again: it may have been
		// unlinked while this waited.
		unlock, err := n.writing.write(ctx, twin.LocalID)
		if err != nil {
			return err
		}
		defer unlock()
		twin, err = n.st.TwinByRemote(ctx, nil, c.ID, d.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if d.Twin != "" && twin.LocalID != d.Twin {
		return Errorf(ErrConflict, "%s is linked to %s here, not to %s", twin.RemoteKey, twin.LocalKey, d.Twin)
	}
	if err := n.idleItem(ctx, sc, twin); err != nil {
		return err
	}
	if err := n.st.InTx(ctx, func(tx *sql.Tx) error {
		return n.st.Unlink(ctx, tx, c.ID, twin.LocalID, twin.RemoteKey, n.now())
	}); err != nil {
		return err
	}
	n.log.Info("unexalated by the other side: the pair no longer syncs; nothing deleted", "connection", c.ID,
		"entity", twin.LocalKey, "twin", twin.RemoteKey)
	return nil
}

// idleItem refuses an item pair with a sync on its way from this side
// (the peer checks its own): unlinked now, its result would find no link.
func (n *pipeline) idleItem(ctx context.Context, c store.Connection, twin store.Twin) error {
	open, err := n.st.UnfinishedEvents(ctx, c.ID, twin.LocalID)
	if err != nil {
		return err
	}
	if len(open) > 0 {
		return Errorf(ErrConflict, "%s has a sync on its way on %s (%s); try again once it is Synchronized (tandem status %s)",
			twin.LocalKey, n.inst.Name, StageName(open[0].Stage), twin.LocalKey)
	}
	return nil
}

// peerRefusal says in one line why the peer did not do what was asked,
// and that nothing changed here.
func peerRefusal(c store.Connection, what string, err error) error {
	var pe *PeerError
	if errors.As(err, &pe) && pe.Status < 500 {
		kind := ErrorForCode(pe.Code)
		if kind == nil {
			kind = ErrConflict
		}
		return Errorf(kind, "%s refused to %s: %s", c.RemoteName, what, pe.Message)
	}
	return Errorf(ErrUnreachable, "%s can't be reached to %s (%v); nothing was changed on either side: try again once it is back",
		c.RemoteName, what, err)
}

// findTwin finds the connection and the twin of the item ref names (either
// side's), on connID (id or name) or, when "", the one connection that has
// it.
func (n *pipeline) findTwin(ctx context.Context, connID, ref string) (store.Connection, store.Twin, error) {
	c, local, err := n.findItem(ctx, connID, ref)
	if err != nil {
		return c, store.Twin{}, err
	}
	twin, err := n.st.Twin(ctx, nil, c.ID, local)
	if errors.Is(err, store.ErrNotFound) {
		return c, twin, Errorf(ErrNotFound, "%s has no twin on connection %s: it is not synced, so there is nothing to unexalate", ref, c.Name)
	}
	return c, twin, err
}

// findItem resolves ref (an item of this side, or a twin's on the other)
// to the local entity it is about on a connection: connID's (id or name),
// or the one connection that knows the item (a twin, a sync or an
// unexalated mark).
func (n *pipeline) findItem(ctx context.Context, connID, ref string) (store.Connection, string, error) {
	et, err := n.entities()
	if err != nil {
		return store.Connection{}, "", err
	}
	id, err := et.ParseRef(ref)
	if err != nil {
		return store.Connection{}, "", Errorf(ErrBadRequest, "%v", err)
	}
	var cs []store.Connection
	if connID != "" {
		c, err := n.findConnection(ctx, connID)
		if err != nil {
			return c, "", err
		}
		cs = []store.Connection{c}
	} else if cs, err = n.st.Connections(ctx); err != nil {
		return store.Connection{}, "", err
	}
	ids := []string{id}
	if e, gerr := et.Get(ctx, id); gerr == nil && e.ID != id {
		ids = append(ids, e.ID) // a key (Jira's KAN-19) rather than the id
	}
	for _, c := range cs {
		for _, id := range ids {
			if local, ok := n.knows(ctx, c.ID, id); ok {
				return c, local, nil
			}
		}
	}
	if len(cs) == 1 {
		return cs[0], ids[len(ids)-1], nil
	}
	return store.Connection{}, "", Errorf(ErrNotFound, "%s was never synced from or to %s", ref, n.inst.Name)
}

// knows says whether a connection knows the item id names, and which
// local entity it is (id itself, or the twin of the other side's id).
func (n *pipeline) knows(ctx context.Context, connID, id string) (string, bool) {
	if t, err := n.st.TwinByRemote(ctx, nil, connID, id); err == nil {
		return t.LocalID, true
	}
	if _, err := n.st.Twin(ctx, nil, connID, id); err == nil {
		return id, true
	}
	if _, err := n.st.UnexalatedItem(ctx, nil, connID, id); err == nil {
		return id, true
	}
	if _, err := n.st.LatestEvent(ctx, connID, id); err == nil {
		return id, true
	}
	return "", false
}

// isUnexalated says whether a user stopped syncing an entity on a
// connection: change detection and Bulk Exalate leave it alone, and only
// an exalate of the item itself clears the mark. A store that can't say
// counts as marked, so nothing is resurrected by a read error.
func (n *pipeline) isUnexalated(ctx context.Context, connID, entityID string) bool {
	return unexalated(ctx, n.st, connID, entityID)
}

// unexalated is isUnexalated on a store, for the parts that hold one.
func unexalated(ctx context.Context, st *store.Store, connID, entityID string) bool {
	_, err := st.UnexalatedItem(ctx, nil, connID, entityID)
	return !errors.Is(err, store.ErrNotFound)
}
