package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/tandem-sync/tandem/store"
)

// connections is the node's part that makes and keeps its connections:
// the admin operations on them (list, activate, delete, the trigger of
// new tasks: SetTrigger, in detect.go), invitations (invite, preview,
// accept, and the peer's redeem and connect), local connections, and the
// lookup of a mode's rules (modes.go) with the rows the Rules tab shows
// (Rules, in rules.go). It holds only
// what that needs: the peer protocol (embedded, to probe and redeem), the
// store, the secret box connection keys are sealed in, the tracker (its
// projects), the rules of each mode, the instance, the clock and logger,
// and the job queue, to replay what a deactivated connection held. Node
// embeds it, so its methods are the node's. They keep the receiver name
// n they had as the node's: the diff that made the part changed only
// receivers and a few field paths.
type connections struct {
	*peering

	st      *store.Store
	box     *secretBox
	log     *slog.Logger
	now     func() time.Time
	inst    store.Instance
	tracker Tracker
	// rules are Basic's (Config.Rules); modes the others (Config.Modes).
	rules Rules
	modes map[Mode]Rules
	// scripts compiles Script mode connections' scripts (scripts.go).
	scripts *scriptBook
	// info is the node's description (Node.Info), which an invitation's
	// two sides send each other.
	info func() Instance
	// river is the pipeline's job queue, set once it has started (Open).
	river *river.Client[*sql.Tx]
}

// InvitationTTL is how long an invitation code works.
const InvitationTTL = 72 * time.Hour

// Connection statuses (DESIGN.md §4), as the store keeps them.
const (
	StatusPending     = store.StatusPending
	StatusActive      = store.StatusActive
	StatusDeactivated = store.StatusDeactivated
	StatusError       = store.StatusError
)

func fromStore(c store.Connection) Connection {
	return Connection{ID: c.ID, Name: c.Name, Role: c.Role, Mode: Mode(c.Mode), Status: c.Status, StatusReason: c.StatusReason,
		LocalProject: c.LocalProject, LocalProjectName: c.LocalProjectName, RemoteURL: c.RemoteURL,
		RemoteName: c.RemoteName, RemoteTracker: c.RemoteTracker, RemoteProjectName: c.RemoteProjectName,
		Local: c.Local, TriggerNewTasks: c.TriggerNewTasks, CreatedAt: c.CreatedAt}
}

// findProject resolves a project given by id or by (case-insensitive) name.
func (n *connections) findProject(ctx context.Context, ref string) (Project, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Project{}, Errorf(ErrUnknownProject, "a project is required (--project)")
	}
	ps, err := n.tracker.Projects(ctx)
	if err != nil {
		return Project{}, fmt.Errorf("listing the %s projects: %w", n.tracker.Kind(), err)
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

// Invite creates a Pending connection and its invitation code: the "No, I
// don't have admin access" path. When a destination URL is given it is
// probed first, so a typo is caught now rather than by the other admin.
// The connection is in mode r.Mode ("" for Basic), which this node, and
// the destination when given, must support; the code carries it.
func (n *connections) Invite(ctx context.Context, r InviteRequest) (Connection, string, error) {
	var dest Instance
	mode, err := n.modeHere(r.Mode)
	if err != nil {
		return Connection{}, "", err
	}
	if r.To != "" {
		to, err := NormalizeURL(r.To)
		if err != nil {
			return Connection{}, "", err
		}
		if to == n.inst.URL {
			return Connection{}, "", Errorf(ErrBadRequest, "that is this node's own URL: connect two of its projects with a local connection instead")
		}
		if dest, err = n.Probe(ctx, to); err != nil {
			return Connection{}, "", err
		}
		// The mode must be one both sides support.
		if err := n.modeThere(dest, mode); err != nil {
			return Connection{}, "", err
		}
		// The admin's URL is the one used: the node there may not name
		// another (see urlAsInvited).
		if got, err := NormalizeURL(dest.URL); err != nil || got != to {
			return Connection{}, "", Errorf(ErrURLMismatch, "the node at %s reports its URL as %q: refused, so that this node talks only to the URL you gave; if that is the node you mean, give its own URL, or have its admin fix its --url",
				to, dest.URL)
		}
		dest.URL = to
	}
	p, err := n.findProject(ctx, r.Project)
	if err != nil {
		return Connection{}, "", err
	}
	now := n.now().UTC()
	c := store.Connection{ID: uuid.NewString(), Name: connectionName(n.inst.Name, dest.Name), Role: store.RoleInitiator,
		Mode: string(mode), Status: StatusPending, LocalProject: p.ID, LocalProjectName: p.Name,
		RemoteURL: dest.URL, RemoteName: dest.Name, RemoteInstanceID: dest.ID, RemoteTracker: dest.Tracker,
		CreatedAt: now, UpdatedAt: now}
	inv, code, err := n.invitationFor(c)
	if err != nil {
		return Connection{}, "", err
	}
	base := c.Name
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if c.Name, err = n.freeName(ctx, tx, base, c.ID); err != nil {
			return err
		}
		if err := n.st.CreateConnection(ctx, tx, c); err != nil {
			return err
		}
		return n.st.CreateInvitation(ctx, tx, store.Invitation{ConnectionID: c.ID, SecretHash: hashSecret(inv.Secret), ExpiresAt: inv.Expires})
	})
	if err != nil {
		return Connection{}, "", fmt.Errorf("creating the connection: %w", err)
	}
	n.log.Info("connection created, invitation issued", "connection", c.ID, "project", p.Name, "mode", string(mode), "expires", inv.Expires)
	return fromStore(c), code, nil
}

// invitationFor makes a new invitation for connection c, with a new
// secret, and its code; storing the secret's hash is the caller's.
func (n *connections) invitationFor(c store.Connection) (Invitation, string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Invitation{}, "", err
	}
	inv := Invitation{URL: n.inst.URL, Name: n.inst.Name, InstanceID: n.inst.ID, Tracker: n.inst.Tracker,
		ConnectionID: c.ID, ProjectName: c.LocalProjectName, Mode: Mode(c.Mode), Expires: n.now().UTC().Add(InvitationTTL), Secret: secret}
	code, err := inv.Encode()
	if err != nil {
		return Invitation{}, "", err
	}
	return inv, code, nil
}

// RenewInvitation gives a Pending connection's invitation a new code (id
// may be the connection's name): the node keeps only the hash of a code's
// secret, so it can't show the old code again, and the new code replaces
// it; the old one stops working. It works for 72 hours from now.
func (n *connections) RenewInvitation(ctx context.Context, id string) (Connection, string, error) {
	c, err := n.findConnection(ctx, id)
	if err != nil {
		return Connection{}, "", err
	}
	if c.Status != StatusPending || c.Role != store.RoleInitiator {
		return Connection{}, "", Errorf(ErrConflict, "connection %s is not waiting for an invitation of this node to be accepted (it is %s): there is no code to show", c.Name, c.Status)
	}
	inv, code, err := n.invitationFor(c)
	if err != nil {
		return Connection{}, "", err
	}
	err = n.st.RenewInvitation(ctx, nil, c.ID, hashSecret(inv.Secret), inv.Expires)
	switch {
	case errors.Is(err, store.ErrInvitationUsed):
		return Connection{}, "", Errorf(ErrConflict, "the invitation of connection %s was accepted meanwhile: there is no code to show", c.Name)
	case err != nil:
		return Connection{}, "", fmt.Errorf("renewing the invitation of connection %s: %w", c.Name, err)
	}
	n.log.Info("invitation renewed, the old code revoked", "connection", c.ID, "expires", inv.Expires)
	return fromStore(c), code, nil
}

// connectionName names a connection the way Exalate does: Acme_to_Globex.
// freeName makes it unique on the node.
func connectionName(from, to string) string {
	if to == "" {
		return nameWords(from) + "_to_pending"
	}
	return nameWords(from) + "_to_" + nameWords(to)
}

// nameWords joins a name's words with underscores.
func nameWords(s string) string { return strings.Join(strings.Fields(s), "_") }

// freeName is name, or else name_2, name_3…: the first that no connection
// of this node but except has, read in tx, where the caller stores it, so
// two connections never share a name. The console, the command line and
// --connection find a connection by its name, and the console names the
// file of its invitation code after it.
func (n *connections) freeName(ctx context.Context, tx *sql.Tx, name, except string) (string, error) {
	for i := 1; ; i++ {
		try := name
		if i > 1 {
			try = fmt.Sprintf("%s_%d", name, i)
		}
		taken, err := n.st.ConnectionNameTaken(ctx, tx, try, except)
		if err != nil || !taken {
			return try, err
		}
	}
}

// Connections lists this node's connections, newest first, each with what
// it has synced.
func (n *connections) Connections(ctx context.Context) ([]Connection, error) {
	cs, err := n.st.Connections(ctx)
	if err != nil {
		return nil, err
	}
	activity, err := n.st.Activity(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Connection, len(cs))
	for i, c := range cs {
		out[i] = fromStore(c)
		a := activity[c.ID]
		out[i].SyncedItems, out[i].LastSync, out[i].Queued = a.SyncedItems, a.LastSync, a.Open
	}
	return out, nil
}

// ConnectionByID returns one connection with what it has synced. id may
// also be the connection's name when no other connection has it (see
// findConnection).
func (n *connections) ConnectionByID(ctx context.Context, id string) (Connection, error) {
	c, err := n.findConnection(ctx, id)
	if err != nil {
		return Connection{}, err
	}
	a, err := n.st.ConnectionActivity(ctx, c.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) { // deleted meanwhile: nothing synced
		return Connection{}, err
	}
	out := fromStore(c)
	out.SyncedItems, out.LastSync, out.Queued = a.SyncedItems, a.LastSync, a.Open
	return out, nil
}

// SetActive deactivates or re-activates a connection (by id or name). A
// Pending connection can't be either until its invitation is accepted.
func (n *connections) SetActive(ctx context.Context, id string, active bool) (Connection, error) {
	c, err := n.ConnectionByID(ctx, id)
	if err != nil {
		return c, err
	}
	id = c.ID
	if c.Status == StatusPending {
		return c, Errorf(ErrConflict, "connection %s is still waiting for its invitation to be accepted", c.Name)
	}
	status := StatusDeactivated
	if active {
		status = StatusActive
	}
	// The status and the replay of what was queued change together: a sync
	// prepared meanwhile either sees the old status and is queued (then
	// replayed here) or sees the new one and is sent, never neither.
	replayed := 0
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.SetConnectionStatusTx(ctx, tx, id, status, ""); err != nil {
			return err
		}
		if !active {
			return nil
		}
		replayed, err = n.replayQueued(ctx, tx, id, time.Time{})
		return err
	})
	if err != nil {
		return c, fmt.Errorf("setting %s %s: %w", c.Name, status, err)
	}
	if replayed > 0 {
		n.log.Info("replaying queued syncs", "connection", id, "count", replayed)
	}
	c.Status, c.StatusReason = status, ""
	return c, nil
}

// replayQueued enqueues, in tx, what a connection that was not Active
// held: its syncs queued at Sending, and those received but not applied.
// It runs in the transaction that makes the connection Active (SetActive,
// and Redeem for an accepted invitation), so a sync prepared meanwhile
// either sees the old status and is queued (then replayed here) or sees
// the new one and is sent, never neither. The sends start at at (zero:
// now). It returns how many it enqueued.
func (n *connections) replayQueued(ctx context.Context, tx *sql.Tx, id string, at time.Time) (int, error) {
	queued, err := n.st.EventsAt(ctx, tx, id, store.DirectionOut, StageSending)
	if err != nil {
		return 0, err
	}
	received, err := n.st.EventsAt(ctx, tx, id, store.DirectionIn, StageWaiting)
	if err != nil {
		return 0, err
	}
	// One insert for all of them: a queue of thousands is replayed in
	// one statement, not thousands.
	jobs := make([]river.InsertManyParams, 0, len(queued)+len(received))
	for _, ev := range queued {
		jobs = append(jobs, river.InsertManyParams{Args: sendArgs{Conn: id, Event: ev.ID}, InsertOpts: &river.InsertOpts{ScheduledAt: at}})
	}
	for _, ev := range received {
		jobs = append(jobs, river.InsertManyParams{Args: applyArgs{Conn: id, Event: ev.ID}})
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	if _, err := n.river.InsertManyFastTx(ctx, tx, jobs); err != nil {
		return 0, err
	}
	return len(jobs), nil
}

// Delete removes a connection on this side. The twins it made stay in both
// trackers; only the link between them is forgotten. id may be the
// connection's name.
func (n *connections) Delete(ctx context.Context, id string) error {
	c, err := n.ConnectionByID(ctx, id)
	if err != nil {
		return err
	}
	return n.st.DeleteConnection(ctx, c.ID)
}
