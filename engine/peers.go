package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

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

// ErrStoreFailed is a signed request this node could not check or record
// because its own store failed (a full disk, a broken file): the fault is
// the receiver's, not the sender's signature, so the HTTP layer answers 503
// and the sender retries.
var ErrStoreFailed = errors.New("the node's store failed")

// PeerRequest is a signed request whose headers have passed: they are well
// formed, fresh, and name a connection this node has a key for. Its body
// has not been read yet; Finish checks the MAC once it has.
type PeerRequest struct {
	n    *Node
	h    SignedHeaders
	conn store.Connection
	key  []byte
}

// BeginPeer checks a signed request's headers and looks up the connection
// they name, before any byte of the body is read, so a request that is not
// signed, stale or for no connection costs the node no body. Errors are the
// Err* signing errors, or ErrStoreFailed.
func (n *Node) BeginPeer(ctx context.Context, r *http.Request) (*PeerRequest, error) {
	h, err := CheckSignedHeaders(r, n.now())
	if err != nil {
		return nil, err
	}
	c, err := n.st.Connection(ctx, h.ConnID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(c.KeyCipher) == 0) {
		return nil, ErrUnknownPeer
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading connection %s: %w", ErrStoreFailed, h.ConnID, err)
	}
	key, err := n.connectionKey(c)
	if err != nil {
		// This node's own fault (its node key, its store), not the
		// sender's signature: a 503 the sender retries, not a 401.
		return nil, fmt.Errorf("%w: opening the key of connection %s: %w", ErrStoreFailed, c.ID, err)
	}
	return &PeerRequest{n: n, h: h, conn: c, key: key}, nil
}

// ConnectionID is the connection the request names (not yet proven).
func (p *PeerRequest) ConnectionID() string { return p.h.ConnID }

// Finish checks the MAC against the sha256 of the body as it was read and,
// once it holds, records the request so a replay is refused. A store that
// can't record it is ErrStoreFailed, not a bad signature.
func (p *PeerRequest) Finish(ctx context.Context, bodySum []byte) (Connection, error) {
	if err := p.h.Verify(p.key, bodySum); err != nil {
		return Connection{}, err
	}
	fresh, err := p.n.st.SeenNonce(ctx, p.h.ConnID, p.h.Nonce(), p.h.Expires())
	if err != nil {
		// On a full disk, say that rather than SQLite's words for it.
		if derr := p.n.disk.check(); derr != nil {
			err = derr
		}
		return Connection{}, fmt.Errorf("%w: %w", ErrStoreFailed, err)
	}
	if !fresh {
		return Connection{}, ErrReplayed
	}
	return fromStore(p.conn), nil
}

// VerifyPeer checks a signed request from another node (or from this node's
// other end of a local connection) whose body was read already, and returns
// the connection it is for. Every failure is one of the Err* signing
// errors or ErrStoreFailed; the HTTP layer uses BeginPeer and Finish
// instead, so as not to read the body of a request it would refuse.
func (n *Node) VerifyPeer(ctx context.Context, r *http.Request, body []byte) (Connection, error) {
	p, err := n.BeginPeer(ctx, r)
	if err != nil {
		return Connection{}, err
	}
	sum := sha256.Sum256(body)
	return p.Finish(ctx, sum[:])
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
// Both ends are in mode ("" for Basic).
func (n *Node) connectLocal(ctx context.Context, project, otherProject string, mode Mode) (Connection, error) {
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
	name := strings.Join(strings.Fields(a.Name), "_") + "_to_" + strings.Join(strings.Fields(b.Name), "_")
	end := func(id, remoteID, role string, mine, theirs Project) store.Connection {
		return store.Connection{ID: id, RemoteID: remoteID, Name: name, Role: role, Mode: string(mode), Status: StatusActive,
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
