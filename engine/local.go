package engine

// A local connection: two projects of one node, linked over its own peer API.

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/google/uuid"

	"github.com/tandem-sync/tandem/store"
)

// connectLocal links two projects of this node: both ends live here, share
// one key, and talk to each other over this node's own peer API like any
// two nodes would, so a local connection behaves exactly like a remote one.
// Both ends are in mode ("" for Basic).
func (n *connections) connectLocal(ctx context.Context, project, otherProject string, mode Mode) (Connection, error) {
	mode, err := n.modeHere(mode)
	if err != nil {
		return Connection{}, err
	}
	a, err := n.findProject(ctx, project)
	if err != nil {
		return Connection{}, err
	}
	b, err := n.findProject(ctx, otherProject)
	if err != nil {
		return Connection{}, err
	}
	if a.ID == b.ID {
		return Connection{}, Errorf(ErrBadRequest, "a local connection links two different projects; both are %s", a.Name)
	}
	key := newToken("")
	sealed := n.box.seal([]byte(key))
	now := n.now().UTC()
	// Each end is named from its own project (Company_to_Test and
	// Test_to_Company), unique on the node as every connection's name.
	end := func(id, remoteID, role string, mine, theirs Project) store.Connection {
		return store.Connection{ID: id, RemoteID: remoteID, Name: nameWords(mine.Name) + "_to_" + nameWords(theirs.Name), Role: role, Mode: string(mode), Status: StatusActive,
			LocalProject: mine.ID, LocalProjectName: mine.Name, RemoteURL: n.inst.URL, RemoteName: n.inst.Name,
			RemoteInstanceID: n.inst.ID, RemoteTracker: n.inst.Tracker, RemoteProjectName: theirs.Name, Local: true,
			KeyCipher: sealed, CreatedAt: now, UpdatedAt: now}
	}
	idA, idB := uuid.NewString(), uuid.NewString()
	ca, cb := end(idA, idB, store.RoleInitiator, a, b), end(idB, idA, store.RoleAcceptor, b, a)
	baseA, baseB := ca.Name, cb.Name
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if ca.Name, err = n.freeName(ctx, tx, baseA, ca.ID); err != nil {
			return err
		}
		if err := n.st.CreateConnection(ctx, tx, ca); err != nil {
			return err
		}
		if cb.Name, err = n.freeName(ctx, tx, baseB, cb.ID); err != nil {
			return err
		}
		return n.st.CreateConnection(ctx, tx, cb)
	})
	if err != nil {
		return Connection{}, fmt.Errorf("creating the local connection: %w", err)
	}
	n.log.Info("local connection created", "connection", idA, "projects", a.Name+" ↔ "+b.Name)
	return fromStore(ca), nil
}
