package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-sync/tandem/store"
)

// peering is the node's part that speaks the peer protocol: requests to
// other nodes signed with a connection's key, the check of theirs, and
// the plain calls (probing a node, redeeming an invitation) that come
// before a connection has a key. It holds only what that needs: the
// store (connections, nonces), the secret box their keys are sealed in,
// the HTTP client, the clock, and the disk guard that names a full disk.
// Node embeds it, so its methods are the node's.
type peering struct {
	st   *store.Store
	box  *secretBox
	http *http.Client
	now  func() time.Time
	disk *diskGuard
}

// PingRequest is the body of a signed ping: the receiver checks that the
// connection it names is the one whose key signed the request.
type PingRequest struct {
	From string `json:"from"` // the sender's connection id
}

// connectionKey opens a connection's stored key.
func (pe *peering) connectionKey(c store.Connection) ([]byte, error) {
	if len(c.KeyCipher) == 0 {
		return nil, fmt.Errorf("connection %s has no key yet (%s)", c.ID, c.Status)
	}
	return pe.box.open(c.KeyCipher)
}

// MaxPeerBody bounds a signed request between nodes. A replica carries an
// item's description and every comment (a 1 MB description, 10,000
// comments), so it is far above the admin API's bound; attachments travel
// apart, streamed.
const MaxPeerBody = 32 << 20

// signedPost sends v to the connection's peer, signed with the connection's
// key, and decodes the answer into out. idem names the operation so the
// peer applies it once however often it is sent.
func (pe *peering) signedPost(ctx context.Context, c store.Connection, path, idem string, v, out any) error {
	key, err := pe.connectionKey(c)
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
	SignRequest(req, body, c.RemoteID, key, idem, pe.now())
	return pe.roundTrip(req, out)
}

// ping proves the connection's key works both ways.
func (pe *peering) ping(ctx context.Context, c store.Connection) error {
	return pe.signedPost(ctx, c, PathPing, uuid.NewString(), PingRequest{From: c.ID}, nil)
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
	pe   *peering
	h    SignedHeaders
	conn store.Connection
	key  []byte
}

// BeginPeer checks a signed request's headers and looks up the connection
// they name, before any byte of the body is read, so a request that is not
// signed, stale or for no connection costs the node no body. Errors are the
// Err* signing errors, or ErrStoreFailed.
func (pe *peering) BeginPeer(ctx context.Context, r *http.Request) (*PeerRequest, error) {
	h, err := CheckSignedHeaders(r, pe.now())
	if err != nil {
		return nil, err
	}
	c, err := pe.st.Connection(ctx, h.ConnID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(c.KeyCipher) == 0) {
		return nil, ErrUnknownPeer
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading connection %s: %w", ErrStoreFailed, h.ConnID, err)
	}
	key, err := pe.connectionKey(c)
	if err != nil {
		// This node's own fault (its node key, its store), not the
		// sender's signature: a 503 the sender retries, not a 401.
		return nil, fmt.Errorf("%w: opening the key of connection %s: %w", ErrStoreFailed, c.ID, err)
	}
	return &PeerRequest{pe: pe, h: h, conn: c, key: key}, nil
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
	fresh, err := p.pe.st.SeenNonce(ctx, p.h.ConnID, p.h.Nonce(), p.h.Expires())
	if err != nil {
		// On a full disk, say that rather than SQLite's words for it.
		if derr := p.pe.disk.check(); derr != nil {
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
func (pe *peering) VerifyPeer(ctx context.Context, r *http.Request, body []byte) (Connection, error) {
	p, err := pe.BeginPeer(ctx, r)
	if err != nil {
		return Connection{}, err
	}
	sum := sha256.Sum256(body)
	return p.Finish(ctx, sum[:])
}

// HandlePing answers a verified ping: the sender must name the connection's
// other end.
func (pe *peering) HandlePing(ctx context.Context, c Connection, p PingRequest) error {
	sc, err := pe.st.Connection(ctx, c.ID)
	if err != nil {
		return err
	}
	if p.From != sc.RemoteID {
		return Errorf(ErrBadRequest, "ping from connection %q, expected %q", p.From, sc.RemoteID)
	}
	return nil
}

// signedGet sends a signed GET to the connection's peer and returns the
// answer for streaming; a non-2xx answer is an error.
func (pe *peering) signedGet(ctx context.Context, c store.Connection, path string) (*http.Response, error) {
	key, err := pe.connectionKey(c)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.RemoteURL+path, nil)
	if err != nil {
		return nil, err
	}
	SignRequest(req, nil, c.RemoteID, key, "", pe.now())
	resp, err := pe.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, req.URL.Host, shortNetError(err))
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, pe.decodePeerError(resp)
	}
	return resp, nil
}
