package engine

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-sync/tandem/store"
)

// Accept redeems an invitation code on this node: it checks the code,
// reaches the initiator, redeems the code there and activates its own end of
// the connection with the key both sides now share.
//
// Its own end is stored Pending before the initiator is called, so a
// redemption whose answer is lost leaves a visible connection in Error
// rather than nothing at all.
func (n *connections) Accept(ctx context.Context, code, project string) (Connection, error) {
	inv, err := n.acceptable(code)
	if err != nil {
		return Connection{}, err
	}
	p, err := n.findProject(ctx, project)
	if err != nil {
		return Connection{}, err
	}
	initiator, err := n.Probe(ctx, inv.URL)
	if err != nil {
		return Connection{}, fmt.Errorf("the inviting node %s: %w", inv.Name, err)
	}
	if err := urlAsInvited(inv, initiator.URL); err != nil {
		return Connection{}, err
	}
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return Connection{}, err
	}
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return Connection{}, err
	}
	now := n.now().UTC()
	c := store.Connection{ID: uuid.NewString(), RemoteID: inv.ConnectionID, Name: connectionName(inv.Name, n.inst.Name),
		Role: store.RoleAcceptor, Mode: string(inv.Mode), Status: StatusPending, LocalProject: p.ID, LocalProjectName: p.Name,
		RemoteURL: inv.URL, RemoteName: initiator.Name, RemoteInstanceID: initiator.ID,
		RemoteTracker: initiator.Tracker, RemoteProjectName: inv.ProjectName, CreatedAt: now, UpdatedAt: now}
	base := c.Name
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if c.Name, err = n.freeName(ctx, tx, base, c.ID); err != nil {
			return err
		}
		return n.st.CreateConnection(ctx, tx, c)
	})
	if err != nil {
		return Connection{}, fmt.Errorf("storing the connection being accepted: %w", err)
	}

	req := RedeemRequest{ConnectionID: inv.ConnectionID, Secret: inv.Secret, Nonce: nonce, Acceptor: n.info(),
		AcceptorConnectionID: c.ID, ProjectName: p.Name, PublicKey: priv.PublicKey().Bytes()}
	var resp RedeemResponse
	err = n.postJSON(ctx, inv.URL+PathRedeem, nil, req, &resp)
	var refused *PeerError
	if errors.As(err, &refused) && refused.Status/100 == 4 {
		// A definite no: the initiator changed nothing, and neither do we.
		_ = n.st.DeleteConnection(context.WithoutCancel(ctx), c.ID)
		return Connection{}, invitationError(err)
	}
	if err != nil {
		return n.fail(ctx, c, "the inviting node's answer to the redemption was lost; ask its admin whether the connection is Active there", err)
	}
	if err := urlAsInvited(inv, resp.Initiator.URL); err != nil {
		// The inviting node has redeemed its code; this side keeps
		// nothing, so no traffic of this node ever goes to either URL.
		_ = n.st.DeleteConnection(context.WithoutCancel(ctx), c.ID)
		return Connection{}, fmt.Errorf("%w (it has used up its invitation: its admin can delete that connection there)", err)
	}
	key, err := n.redeemedKey(priv, resp.PublicKey, inv.Secret, inv.ConnectionID, c.ID, nonce)
	if err != nil {
		return n.fail(ctx, c, "the inviting node's key exchange failed", err)
	}
	// The name the initiator gave the connection, where no other
	// connection here has it: both sides call it the same when they can.
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		name := resp.Name
		if name != "" {
			var err error
			if name, err = n.freeName(ctx, tx, nameWords(name), c.ID); err != nil {
				return err
			}
		}
		return n.st.ActivateConnection(ctx, tx, c.ID, store.Activation{RemoteID: inv.ConnectionID, Name: name,
			RemoteName: resp.Initiator.Name, RemoteURL: inv.URL, RemoteInstanceID: resp.Initiator.ID,
			RemoteTracker: resp.Initiator.Tracker, RemoteProjectName: resp.ProjectName, KeyCipher: n.box.seal(key)})
	})
	if err != nil {
		return n.fail(ctx, c, "storing the accepted connection failed", err)
	}
	sc, err := n.st.Connection(ctx, c.ID)
	if err != nil {
		return Connection{}, err
	}
	// Prove the shared key works both ways before telling the admin so.
	if err := n.ping(ctx, sc); err != nil {
		return n.fail(ctx, sc, "the first signed request to "+sc.RemoteName+" failed", err)
	}
	n.log.Info("invitation accepted", "connection", c.ID, "initiator", sc.RemoteName, "project", p.Name)
	return fromStore(sc), nil
}

// acceptable parses an invitation code and refuses what this node could
// not accept whatever the initiator says: a code it issued itself, a mode
// it doesn't support. The code's URL comes back normalised: it is the
// initiator's address for good.
func (n *connections) acceptable(code string) (Invitation, error) {
	inv, err := ParseInvitation(code, n.now())
	if err != nil {
		return Invitation{}, err
	}
	if inv.URL, err = NormalizeURL(inv.URL); err != nil {
		return Invitation{}, ErrInvitationMalformed
	}
	if inv.InstanceID == n.inst.ID {
		return Invitation{}, Errorf(ErrBadRequest, "this invitation was issued by this very node: accept it on the other node")
	}
	if _, ok := n.rulesFor(inv.Mode); !ok {
		return Invitation{}, Errorf(ErrModeUnsupported, "the invitation is for a connection in %s mode, and this node does not support %s mode; upgrade tandem on %s (it supports %s)",
			inv.Mode.Name(), inv.Mode.Name(), n.inst.Name, modeNames(n.supportedModes()))
	}
	return inv, nil
}

// urlAsInvited refuses an inviting node that reports another URL than the
// one in its invitation code. The code's URL is the one this node uses for
// everything that follows; taking the inviter's word instead would let it
// point this node's signed traffic wherever it liked. A real node's code
// carries the URL it reports, so a difference means its --url changed since
// the code was made, or a lie.
func urlAsInvited(inv Invitation, reported string) error {
	if got, err := NormalizeURL(reported); err == nil && got == inv.URL {
		return nil
	}
	return Errorf(ErrURLMismatch, "the invitation code says the inviting node %q is at %s, but the node there reports its URL as %q: refused, so that this node talks only to the URL in the code; ask %q's admin for a new invitation code",
		inv.Name, inv.URL, reported, inv.Name)
}

// fail records why a connection could not be set up and returns that
// connection, in its Error state, with the error.
func (n *connections) fail(ctx context.Context, c store.Connection, reason string, err error) (Connection, error) {
	reason = reason + ": " + err.Error()
	if serr := n.st.SetConnectionStatus(context.WithoutCancel(ctx), c.ID, StatusError, reason); serr != nil {
		n.log.Error("recording a failed connection", "connection", c.ID, "err", serr)
	}
	c.Status, c.StatusReason = StatusError, reason
	return fromStore(c), errors.New(reason)
}

// redeemedKey completes the X25519 exchange and derives the connection key.
func (n *connections) redeemedKey(priv *ecdh.PrivateKey, peerPublic, secret []byte, initiatorID, acceptorID string, nonce []byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(peerPublic)
	if err != nil {
		return nil, Errorf(ErrBadRequest, "the other node's public key is not an X25519 key")
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		return nil, Errorf(ErrBadRequest, "the key exchange failed: %v", err)
	}
	return deriveConnectionKey(secret, shared, initiatorID, acceptorID, nonce), nil
}

// invitationError maps the initiator's refusal back to this package's
// sentinel errors so every caller shows the same clear message.
func invitationError(err error) error {
	var pe *PeerError
	if !errors.As(err, &pe) {
		return err
	}
	if known := ErrorForCode(pe.Code); known != nil {
		if pe.Message == "" || pe.Message == known.Error() {
			return known
		}
		// The other node's message says more than the sentinel (which
		// URL, which project): keep it.
		return Errorf(known, "%s", pe.Message)
	}
	return err
}

// acceptorSettle is how long after a redemption the syncs queued on the
// Pending connection are sent: time for the acceptor to store the key the
// redemption's answer completes.
const acceptorSettle = time.Second

// Redeem is the initiator's side of Accept: it checks the secret, redeems
// the invitation once, completes the key exchange and activates the
// connection. Only a Pending connection can be redeemed; an Active one is
// never re-pointed at another peer or key.
func (n *connections) Redeem(ctx context.Context, r RedeemRequest) (RedeemResponse, error) {
	c, err := n.redeemable(ctx, r.ConnectionID, r.Secret, "redemption", "from", r.Acceptor.URL)
	if err != nil {
		return RedeemResponse{}, err
	}
	if r.AcceptorConnectionID == "" || len(r.Nonce) < 16 || r.Acceptor.ID == "" {
		return RedeemResponse{}, Errorf(ErrBadRequest, "the redemption lacks the acceptor's connection id, instance id or nonce")
	}
	// Invited at a URL (Invite with To, the "connect" path), the acceptor
	// is that URL: it may not send this node's traffic elsewhere. Invited
	// without one, its own word is all there is, and the secret vouches
	// for it.
	acceptorURL, err := NormalizeURL(r.Acceptor.URL)
	if err != nil {
		return RedeemResponse{}, Errorf(ErrBadRequest, "the redeeming node's own URL: %v", err)
	}
	if c.RemoteURL != "" {
		if acceptorURL != c.RemoteURL {
			n.log.Warn("invitation redemption refused: the acceptor reports another URL than it was invited at",
				"connection", c.ID, "invited", c.RemoteURL, "reported", r.Acceptor.URL)
			return RedeemResponse{}, Errorf(ErrURLMismatch, "this invitation was made for the node at %s, and the redeeming node reports its URL as %q: refused; accept it on the node at %s, or ask for a new invitation without a destination URL",
				c.RemoteURL, r.Acceptor.URL, c.RemoteURL)
		}
	}
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return RedeemResponse{}, err
	}
	key, err := n.redeemedKey(priv, r.PublicKey, r.Secret, c.ID, r.AcceptorConnectionID, r.Nonce)
	if err != nil {
		return RedeemResponse{}, err
	}
	base, name := connectionName(n.inst.Name, r.Acceptor.Name), ""
	replayed := 0
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.RedeemInvitation(ctx, tx, c.ID, r.Nonce, r.Acceptor.ID, n.now().UTC()); err != nil {
			return err
		}
		// Acme_to_pending becomes Acme_to_Globex, or Acme_to_Globex_2
		// when another connection has that name.
		var err error
		if name, err = n.freeName(ctx, tx, base, c.ID); err != nil {
			return err
		}
		err = n.st.ActivateConnection(ctx, tx, c.ID, store.Activation{RemoteID: r.AcceptorConnectionID,
			RemoteName: r.Acceptor.Name, RemoteURL: acceptorURL, RemoteInstanceID: r.Acceptor.ID,
			RemoteTracker: r.Acceptor.Tracker, RemoteProjectName: r.ProjectName, Name: name, KeyCipher: n.box.seal(key)})
		if err != nil {
			return err
		}
		// What was synced while the invitation waited goes now, or
		// rather once the acceptor has stored the key, which it does
		// when this answer reaches it: a send before that would be
		// refused and retried, showing a failure that is none.
		replayed, err = n.replayQueued(ctx, tx, c.ID, time.Now().Add(acceptorSettle)) // the queue's clock, not the node's
		return err
	})
	switch {
	case errors.Is(err, store.ErrInvitationUsed), errors.Is(err, store.ErrNotFound):
		return RedeemResponse{}, ErrInvitationUsed
	case errors.Is(err, store.ErrInvitationExpired):
		return RedeemResponse{}, ErrInvitationExpired
	case err != nil:
		return RedeemResponse{}, fmt.Errorf("redeeming the invitation of connection %s: %w", c.ID, err)
	}
	n.log.Info("invitation redeemed", "connection", c.ID, "acceptor", r.Acceptor.Name, "queued_syncs", replayed)
	return RedeemResponse{Initiator: n.info(), Name: name, ProjectName: c.LocalProjectName, PublicKey: priv.PublicKey().Bytes()}, nil
}

// redeemable checks that secret is the one of connection connID's
// invitation and that the invitation can still be redeemed: what a
// redemption and a check (CheckInvitation) both require, with the same
// answers. It changes nothing; the redemption itself checks again, in its
// transaction. what names the request in the warning a wrong secret logs,
// with attrs (never the secret).
func (n *connections) redeemable(ctx context.Context, connID string, secret []byte, what string, attrs ...any) (store.Connection, error) {
	c, err := n.st.Connection(ctx, connID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.Role != store.RoleInitiator) {
		return store.Connection{}, ErrInvitationRefused
	}
	if err != nil {
		return store.Connection{}, err
	}
	inv, err := n.st.Invitation(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Connection{}, ErrInvitationRefused
	}
	if err != nil {
		return store.Connection{}, err
	}
	if !tokensEqual(hashSecret(secret), inv.SecretHash) {
		n.log.Warn("invitation "+what+" with a wrong secret", append([]any{"connection", c.ID}, attrs...)...)
		return store.Connection{}, ErrInvitationRefused
	}
	if c.Status != StatusPending || !inv.RedeemedAt.IsZero() {
		return store.Connection{}, ErrInvitationUsed
	}
	if !n.now().Before(inv.ExpiresAt) {
		return store.Connection{}, ErrInvitationExpired
	}
	return c, nil
}

// Connect sets a connection up through the destination's admin API: it
// invites, then has the destination accept, in one step.
func (n *connections) Connect(ctx context.Context, r ConnectRequest) (Connection, error) {
	to, err := NormalizeURL(r.To)
	if err != nil {
		return Connection{}, err
	}
	if to == n.inst.URL {
		return n.connectLocal(ctx, r.Project, r.DestProject, r.Mode)
	}
	if r.DestToken == "" {
		return Connection{}, Errorf(ErrBadRequest, "the destination's admin token is required (TANDEM_DEST_TOKEN or --dest-token)")
	}
	c, code, err := n.Invite(ctx, InviteRequest{To: to, Project: r.Project, Mode: r.Mode})
	if err != nil {
		return Connection{}, err
	}
	header := http.Header{"Authorization": {"Bearer " + r.DestToken}}
	err = n.postJSON(ctx, to+PathAccept, header, AcceptRequest{Code: code, Project: r.DestProject}, nil)
	var refused *PeerError
	switch {
	case errors.As(err, &refused) && refused.Status == http.StatusUnauthorized:
		_ = n.st.DeleteConnection(context.WithoutCancel(ctx), c.ID)
		return Connection{}, Errorf(ErrBadRequest, "the destination refused the admin token: check --dest-token")
	case errors.As(err, &refused) && refused.Status/100 == 4:
		// A definite refusal: the destination made nothing.
		_ = n.st.DeleteConnection(context.WithoutCancel(ctx), c.ID)
		return Connection{}, fmt.Errorf("the destination could not accept: %w", invitationError(err))
	case err != nil:
		// The destination may still be finishing; keep the connection,
		// visibly failed, rather than deleting what it may have made.
		sc, _ := n.st.Connection(context.WithoutCancel(ctx), c.ID)
		if sc.Status == StatusActive {
			return fromStore(sc), nil
		}
		return n.fail(ctx, sc, "the destination did not confirm the connection", err)
	}
	sc, err := n.st.Connection(ctx, c.ID)
	if err != nil {
		return Connection{}, err
	}
	return fromStore(sc), nil
}
