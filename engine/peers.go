package engine

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-sync/tandem/store"
)

// PingRequest is the body of a signed ping: the receiver checks that the
// connection it names is the one whose key signed the request.
type PingRequest struct {
	From string `json:"from"` // the sender's connection id
}

// connectionKey opens a connection's stored key.
func (n *Node) connectionKey(c store.Connection) ([]byte, error) {
	if len(c.KeyCipher) == 0 {
		return nil, fmt.Errorf("connection %s has no key yet (%s)", c.ID, c.Status)
	}
	return n.box.open(c.KeyCipher)
}

// MaxPeerBody bounds a signed request between nodes. A replica carries an
// item's description and every comment (a 1 MB description, 10,000
// comments), so it is far above the admin API's bound; attachments travel
// apart, streamed.
const MaxPeerBody = 32 << 20

// signedPost sends v to the connection's peer, signed with the connection's
// key, and decodes the answer into out. idem names the operation so the
// peer applies it once however often it is sent.
func (n *Node) signedPost(ctx context.Context, c store.Connection, path, idem string, v, out any) error {
	key, err := n.connectionKey(c)
	if err != nil {
		return err
	}
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(body) > MaxPeerBody {
		return fmt.Errorf("the item is too big to send: %d MB of summary, description and comments, over the %d MB two nodes exchange",
			len(body)>>20, MaxPeerBody>>20)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.RemoteURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	SignRequest(req, body, c.RemoteID, key, idem, n.now())
	return n.roundTrip(req, out)
}

// ping proves the connection's key works both ways.
func (n *Node) ping(ctx context.Context, c store.Connection) error {
	return n.signedPost(ctx, c, PathPing, uuid.NewString(), PingRequest{From: c.ID}, nil)
}

// VerifyPeer checks a signed request from another node (or from this node's
// other end of a local connection) and returns the connection it is for.
// Every failure is one of the Err* signing errors; the HTTP layer answers
// 401 and logs the reason, never the key or the signature.
func (n *Node) VerifyPeer(ctx context.Context, r *http.Request, body []byte) (Connection, error) {
	var conn store.Connection
	key := func(id string) ([]byte, error) {
		c, err := n.st.Connection(ctx, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && len(c.KeyCipher) == 0) {
			return nil, ErrUnknownPeer
		}
		if err != nil {
			return nil, err
		}
		conn = c
		return n.connectionKey(c)
	}
	seen := func(id, nonce string, expires time.Time) (bool, error) {
		fresh, err := n.st.SeenNonce(ctx, id, nonce, expires)
		if err != nil {
			// A nonce that can't be recorded on a full disk is the
			// node's trouble, not the sender's signature: say so.
			if derr := n.disk.check(); derr != nil {
				return false, derr
			}
		}
		return fresh, err
	}
	if _, err := VerifyRequest(r, body, n.now(), key, seen); err != nil {
		return Connection{}, err
	}
	return fromStore(conn), nil
}

// HandlePing answers a verified ping: the sender must name the connection's
// other end.
func (n *Node) HandlePing(ctx context.Context, c Connection, p PingRequest) error {
	sc, err := n.st.Connection(ctx, c.ID)
	if err != nil {
		return err
	}
	if p.From != sc.RemoteID {
		return Errorf(ErrBadRequest, "ping from connection %q, expected %q", p.From, sc.RemoteID)
	}
	return nil
}

// connectLocal links two projects of this node: both ends live here, share
// one key, and talk to each other over this node's own peer API like any
// two nodes would, so a local connection behaves exactly like a remote one.
func (n *Node) connectLocal(ctx context.Context, project, otherProject string) (Connection, error) {
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
	name := strings.Join(strings.Fields(a.Name), "_") + "_to_" + strings.Join(strings.Fields(b.Name), "_")
	end := func(id, remoteID, role string, mine, theirs Project) store.Connection {
		return store.Connection{ID: id, RemoteID: remoteID, Name: name, Role: role, Mode: ModeBasic, Status: StatusActive,
			LocalProject: mine.ID, LocalProjectName: mine.Name, RemoteURL: n.inst.URL, RemoteName: n.inst.Name,
			RemoteInstanceID: n.inst.ID, RemoteTracker: n.inst.Tracker, RemoteProjectName: theirs.Name, Local: true,
			KeyCipher: sealed, CreatedAt: now, UpdatedAt: now}
	}
	idA, idB := uuid.NewString(), uuid.NewString()
	ca, cb := end(idA, idB, store.RoleInitiator, a, b), end(idB, idA, store.RoleAcceptor, b, a)
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.CreateConnection(ctx, tx, ca); err != nil {
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
