package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-sync/tandem/store"
)

// InvitationTTL is how long an invitation code works.
const InvitationTTL = 72 * time.Hour

// Connection statuses (DESIGN.md §4).
const (
	StatusPending     = "pending"
	StatusActive      = "active"
	StatusDeactivated = "deactivated"
	StatusError       = "error"
)

// Connection is a connection as the engine's callers see it; the key never
// leaves the engine.
type Connection struct {
	ID                string    `json:"id"`
	Name              string    `json:"name"`
	Role              string    `json:"role"`
	Mode              string    `json:"mode"`
	Status            string    `json:"status"`
	StatusReason      string    `json:"status_reason,omitempty"`
	LocalProject      string    `json:"local_project"`
	LocalProjectName  string    `json:"local_project_name"`
	RemoteURL         string    `json:"remote_url,omitempty"`
	RemoteName        string    `json:"remote_name,omitempty"`
	RemoteTracker     string    `json:"remote_tracker,omitempty"`
	RemoteProjectName string    `json:"remote_project_name,omitempty"`
	Local             bool      `json:"local"`
	TriggerNewTasks   bool      `json:"trigger_new_tasks"`
	CreatedAt         time.Time `json:"created_at"`
}

func fromStore(c store.Connection) Connection {
	return Connection{ID: c.ID, Name: c.Name, Role: c.Role, Mode: c.Mode, Status: c.Status, StatusReason: c.StatusReason,
		LocalProject: c.LocalProject, LocalProjectName: c.LocalProjectName, RemoteURL: c.RemoteURL,
		RemoteName: c.RemoteName, RemoteTracker: c.RemoteTracker, RemoteProjectName: c.RemoteProjectName,
		Local: c.Local, TriggerNewTasks: c.TriggerNewTasks, CreatedAt: c.CreatedAt}
}

// ErrUnknownProject is returned for a project the node's tracker doesn't have.
var ErrUnknownProject = errors.New("no such project")

// findProject resolves a project given by id or by (case-insensitive) name.
func (n *Node) findProject(ctx context.Context, ref string) (Project, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Project{}, fmt.Errorf("%w: a project is required (--project)", ErrUnknownProject)
	}
	ps, err := n.cfg.Tracker.Projects(ctx)
	if err != nil {
		return Project{}, fmt.Errorf("listing the %s projects: %w", n.cfg.Tracker.Kind(), err)
	}
	var names []string
	for _, p := range ps {
		if p.ID == ref || strings.EqualFold(p.Name, ref) {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Project{}, fmt.Errorf("%w %q on %s; its projects are: %s", ErrUnknownProject, ref, n.inst.Name, strings.Join(names, ", "))
}

// InviteRequest is what Invite needs.
type InviteRequest struct {
	// To is the destination node's URL; "" when the admin has none ("I
	// don't have a URL"): the code then carries only this node's URL.
	To string
	// Project is this side's project for incoming sync (id or name).
	Project string
}

// Invite creates a Pending connection and its invitation code: the "No, I
// don't have admin access" path. When a destination URL is given it is
// probed first, so a typo is caught now rather than by the other admin.
func (n *Node) Invite(ctx context.Context, r InviteRequest) (Connection, string, error) {
	var dest Instance
	if r.To != "" {
		to, err := NormalizeURL(r.To)
		if err != nil {
			return Connection{}, "", err
		}
		if to == n.inst.URL {
			return Connection{}, "", errors.New("that is this node's own URL: connect two of its projects with a local connection instead")
		}
		if dest, err = n.Probe(ctx, to); err != nil {
			return Connection{}, "", err
		}
	}
	p, err := n.findProject(ctx, r.Project)
	if err != nil {
		return Connection{}, "", err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Connection{}, "", err
	}
	now := n.now().UTC()
	c := store.Connection{ID: uuid.NewString(), Name: connectionName(n.inst.Name, dest.Name), Role: "initiator",
		Mode: ModeBasic, Status: StatusPending, LocalProject: p.ID, LocalProjectName: p.Name,
		RemoteURL: dest.URL, RemoteName: dest.Name, RemoteInstanceID: dest.ID, RemoteTracker: dest.Tracker,
		CreatedAt: now, UpdatedAt: now}
	inv := Invitation{URL: n.inst.URL, Name: n.inst.Name, InstanceID: n.inst.ID, Tracker: n.inst.Tracker,
		ConnectionID: c.ID, ProjectName: p.Name, Mode: ModeBasic, Expires: now.Add(InvitationTTL), Secret: secret}
	code, err := inv.Encode()
	if err != nil {
		return Connection{}, "", err
	}
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.CreateConnection(ctx, tx, c); err != nil {
			return err
		}
		return n.st.CreateInvitation(ctx, tx, store.Invitation{ConnectionID: c.ID, SecretHash: hashSecret(secret), ExpiresAt: inv.Expires})
	})
	if err != nil {
		return Connection{}, "", fmt.Errorf("creating the connection: %w", err)
	}
	n.log.Info("connection created, invitation issued", "connection", c.ID, "project", p.Name, "expires", inv.Expires)
	return fromStore(c), code, nil
}

// connectionName names a connection the way Exalate does: Acme_to_Globex.
func connectionName(from, to string) string {
	clean := func(s string) string { return strings.Join(strings.Fields(s), "_") }
	if to == "" {
		return clean(from) + "_to_pending"
	}
	return clean(from) + "_to_" + clean(to)
}

// Accept redeems an invitation code on this node: it checks the code,
// reaches the initiator, redeems the code there and stores the Active
// connection with the key both sides now share.
func (n *Node) Accept(ctx context.Context, code, project string) (Connection, error) {
	inv, err := ParseInvitation(code, n.now())
	if err != nil {
		return Connection{}, err
	}
	if inv.InstanceID == n.inst.ID {
		return Connection{}, errors.New("this invitation was issued by this very node: accept it on the other node")
	}
	p, err := n.findProject(ctx, project)
	if err != nil {
		return Connection{}, err
	}
	if _, err := n.Probe(ctx, inv.URL); err != nil {
		return Connection{}, fmt.Errorf("the inviting node %s: %w", inv.Name, err)
	}
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return Connection{}, err
	}
	myID := uuid.NewString()
	req := RedeemRequest{ConnectionID: inv.ConnectionID, Secret: inv.Secret, Nonce: nonce, Acceptor: n.Info(),
		AcceptorConnectionID: myID, ProjectName: p.Name}
	var resp RedeemResponse
	if err := n.postJSON(ctx, inv.URL+PathRedeem, nil, req, &resp); err != nil {
		return Connection{}, invitationError(err)
	}
	key := deriveConnectionKey(inv.Secret, inv.ConnectionID, myID, nonce)
	now := n.now().UTC()
	c := store.Connection{ID: myID, RemoteID: inv.ConnectionID, Name: resp.Name, Role: "acceptor", Mode: inv.Mode,
		Status: StatusActive, LocalProject: p.ID, LocalProjectName: p.Name, RemoteURL: resp.Initiator.URL,
		RemoteName: resp.Initiator.Name, RemoteInstanceID: resp.Initiator.ID, RemoteTracker: resp.Initiator.Tracker,
		RemoteProjectName: resp.ProjectName, KeyCipher: n.box.seal(key), CreatedAt: now, UpdatedAt: now}
	if err := n.st.InTx(ctx, func(tx *sql.Tx) error { return n.st.CreateConnection(ctx, tx, c) }); err != nil {
		return Connection{}, fmt.Errorf("storing the accepted connection: %w", err)
	}
	// Prove the shared key works both ways before telling the admin so.
	if err := n.ping(ctx, c); err != nil {
		_ = n.st.SetConnectionStatus(ctx, c.ID, StatusError, "the first signed request failed: "+err.Error())
		return fromStore(c), fmt.Errorf("the connection was accepted but the first signed request to %s failed: %w", c.RemoteName, err)
	}
	n.log.Info("invitation accepted", "connection", c.ID, "initiator", c.RemoteName, "project", p.Name)
	return fromStore(c), nil
}

// invitationError maps the initiator's refusal back to this package's
// sentinel errors so every caller shows the same clear message.
func invitationError(err error) error {
	var pe *PeerError
	if !errors.As(err, &pe) {
		return err
	}
	if known := errorForCode(pe.Code); known != nil {
		return known
	}
	return err
}

// Redeem is the initiator's side of Accept: it checks the secret, redeems
// the invitation once, derives the key and activates the connection.
func (n *Node) Redeem(ctx context.Context, r RedeemRequest) (RedeemResponse, error) {
	c, err := n.st.Connection(ctx, r.ConnectionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.Role != "initiator") {
		return RedeemResponse{}, ErrInvitationRefused
	}
	if err != nil {
		return RedeemResponse{}, err
	}
	inv, err := n.st.Invitation(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return RedeemResponse{}, ErrInvitationRefused
	}
	if err != nil {
		return RedeemResponse{}, err
	}
	if !tokensEqual(hashSecret(r.Secret), inv.SecretHash) {
		n.log.Warn("invitation redemption with a wrong secret", "connection", c.ID, "from", r.Acceptor.URL)
		return RedeemResponse{}, ErrInvitationRefused
	}
	if r.AcceptorConnectionID == "" || len(r.Nonce) < 16 {
		return RedeemResponse{}, fmt.Errorf("%w: the redemption lacks the acceptor's connection id or nonce", ErrBadRequest)
	}
	key := deriveConnectionKey(r.Secret, c.ID, r.AcceptorConnectionID, r.Nonce)
	name := connectionName(n.inst.Name, r.Acceptor.Name)
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.RedeemInvitation(ctx, tx, c.ID, r.Nonce, r.Acceptor.ID, n.now().UTC()); err != nil {
			return err
		}
		return n.st.ActivateConnection(ctx, tx, c.ID, store.Activation{RemoteID: r.AcceptorConnectionID,
			RemoteName: r.Acceptor.Name, RemoteURL: r.Acceptor.URL, RemoteInstanceID: r.Acceptor.ID,
			RemoteTracker: r.Acceptor.Tracker, RemoteProjectName: r.ProjectName, Name: name, KeyCipher: n.box.seal(key)})
	})
	switch {
	case errors.Is(err, store.ErrInvitationUsed):
		return RedeemResponse{}, ErrInvitationUsed
	case errors.Is(err, store.ErrInvitationExpired):
		return RedeemResponse{}, ErrInvitationExpired
	case err != nil:
		return RedeemResponse{}, fmt.Errorf("redeeming the invitation of connection %s: %w", c.ID, err)
	}
	n.log.Info("invitation redeemed", "connection", c.ID, "acceptor", r.Acceptor.Name)
	return RedeemResponse{Initiator: n.Info(), Name: name, ProjectName: c.LocalProjectName}, nil
}

// ConnectRequest is the "Yes, I have admin access" path in one go.
type ConnectRequest struct {
	// To is the destination node's URL; this node's own URL makes a local
	// connection between two of its projects.
	To string
	// DestToken is the destination's admin token (not needed locally).
	DestToken string
	// DestProject is the destination's project for incoming sync.
	DestProject string
	// Project is this side's project for incoming sync.
	Project string
}

// Connect sets a connection up through the destination's admin API: it
// invites, then has the destination accept, in one step.
func (n *Node) Connect(ctx context.Context, r ConnectRequest) (Connection, error) {
	to, err := NormalizeURL(r.To)
	if err != nil {
		return Connection{}, err
	}
	if to == n.inst.URL {
		return n.connectLocal(ctx, r.Project, r.DestProject)
	}
	if r.DestToken == "" {
		return Connection{}, errors.New("the destination's admin token is required (--dest-token)")
	}
	c, code, err := n.Invite(ctx, InviteRequest{To: to, Project: r.Project})
	if err != nil {
		return Connection{}, err
	}
	header := http.Header{"Authorization": {"Bearer " + r.DestToken}}
	if err := n.postJSON(ctx, to+PathAccept, header, AcceptRequest{Code: code, Project: r.DestProject}, nil); err != nil {
		// The invitation stays Pending; nothing half-made is left Active.
		_ = n.st.DeleteConnection(ctx, c.ID)
		var pe *PeerError
		if errors.As(err, &pe) && pe.Status == http.StatusUnauthorized {
			return Connection{}, fmt.Errorf("the destination refused the admin token: check --dest-token")
		}
		return Connection{}, fmt.Errorf("the destination could not accept: %w", invitationError(err))
	}
	sc, err := n.st.Connection(ctx, c.ID)
	if err != nil {
		return Connection{}, err
	}
	return fromStore(sc), nil
}

// Connections lists this node's connections, newest first.
func (n *Node) Connections(ctx context.Context) ([]Connection, error) {
	cs, err := n.st.Connections(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Connection, len(cs))
	for i, c := range cs {
		out[i] = fromStore(c)
	}
	return out, nil
}

// ConnectionByID returns one connection.
func (n *Node) ConnectionByID(ctx context.Context, id string) (Connection, error) {
	c, err := n.st.Connection(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Connection{}, fmt.Errorf("%w: no connection %q on %s", ErrNotFound, id, n.inst.Name)
	}
	return fromStore(c), err
}

// SetActive deactivates or re-activates a connection. A Pending connection
// can't be either until its invitation is accepted.
func (n *Node) SetActive(ctx context.Context, id string, active bool) (Connection, error) {
	c, err := n.ConnectionByID(ctx, id)
	if err != nil {
		return c, err
	}
	if c.Status == StatusPending {
		return c, fmt.Errorf("%w: connection %s is still waiting for its invitation to be accepted", ErrConflict, c.Name)
	}
	status := StatusDeactivated
	if active {
		status = StatusActive
	}
	if err := n.st.SetConnectionStatus(ctx, id, status, ""); err != nil {
		return c, err
	}
	c.Status, c.StatusReason = status, ""
	return c, nil
}

// Delete removes a connection on this side. The twins it made stay in both
// trackers; only the link between them is forgotten.
func (n *Node) Delete(ctx context.Context, id string) error {
	if _, err := n.ConnectionByID(ctx, id); err != nil {
		return err
	}
	return n.st.DeleteConnection(ctx, id)
}
