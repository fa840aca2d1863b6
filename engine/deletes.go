package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tandem-sync/tandem/store"
)

// PathDeleted is where a node tells its peer that an entity with a twin
// was deleted.
const PathDeleted = "/api/v1/peer/deleted"

// deletedArgs tells the peer that a twinned entity was deleted here.
type deletedArgs struct{ Conn, Entity string }

func (deletedArgs) Kind() string { return "tandem_deleted" }

// DeletedNotice is the body of a signed POST /api/v1/peer/deleted.
type DeletedNotice struct {
	// ID is the deleted entity's id on the sender's side.
	ID string `json:"id"`
}

// recordDeleted notes that a twinned entity is gone from this side's
// tracker, and tells the peer, which records it too. Nothing is deleted
// on the other side: deletes are recorded and shown, never propagated.
func (n *pipeline) recordDeleted(ctx context.Context, c store.Connection, twin store.Twin) error {
	if twin.LocalDeleted {
		return nil
	}
	twin.LocalDeleted = true
	err := n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.PutTwin(ctx, tx, twin); err != nil {
			return err
		}
		_, err := n.river.InsertTx(ctx, tx, deletedArgs{Conn: c.ID, Entity: twin.LocalID}, nil)
		return err
	})
	if err == nil {
		n.log.Info("twin deleted here; recorded, not propagated", "connection", c.ID, "entity", twin.LocalKey, "twin", twin.RemoteKey)
	}
	return err
}

// sendDeleted delivers a deletion notice to the peer.
func (n *pipeline) sendDeleted(ctx context.Context, a deletedArgs) error {
	c, err := n.st.Connection(ctx, a.Conn)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return n.signedPost(ctx, c, PathDeleted, "deleted-"+a.Entity, DeletedNotice{ID: a.Entity}, nil)
}

// ReceiveDeleted records that the peer's twin of one of this node's
// entities was deleted.
func (n *pipeline) ReceiveDeleted(ctx context.Context, c Connection, d DeletedNotice) error {
	twin, err := n.st.TwinByRemote(ctx, nil, c.ID, d.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // never twinned here, or already forgotten
	}
	if err != nil {
		return err
	}
	if twin.RemoteDeleted {
		return nil
	}
	twin.RemoteDeleted = true
	if err := n.st.InTx(ctx, func(tx *sql.Tx) error { return n.st.PutTwin(ctx, tx, twin) }); err != nil {
		return fmt.Errorf("recording the deletion of %s's twin: %w", twin.LocalKey, err)
	}
	n.log.Info("twin deleted on the other side; recorded, not propagated", "connection", c.ID, "entity", twin.LocalKey)
	return nil
}
