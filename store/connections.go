package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Connection roles: which side issued the invitation.
const (
	RoleInitiator = "initiator"
	RoleAcceptor  = "acceptor"
)

// Connection statuses (DESIGN.md §4).
const (
	StatusPending     = "pending"
	StatusActive      = "active"
	StatusDeactivated = "deactivated"
	StatusError       = "error"
)

// Connection links a project on this node with a project on a peer (or, when
// Local, with another project on this node).
type Connection struct {
	// ID is this side's id for the connection (a UUID).
	ID string
	// RemoteID is the other side's id for the connection; "" while pending.
	RemoteID string
	Name     string
	Role     string // RoleInitiator or RoleAcceptor
	// Mode is the connection's configuration mode, as the admin API
	// spells it (adminapi.Mode: "basic"); the engine checks it is one
	// the node supports.
	Mode   string
	Status string // one of the Status constants
	// StatusReason says why the status is what it is, mainly for StatusError.
	StatusReason string
	// LocalProject is where entities received from the other side are created.
	LocalProject     string
	LocalProjectName string

	RemoteURL         string
	RemoteName        string
	RemoteInstanceID  string
	RemoteTracker     string
	RemoteProjectName string
	// Local is true when both ends are on this node.
	Local bool
	// KeyCipher is the connection key encrypted by the engine; nil while
	// pending.
	KeyCipher []byte
	// TriggerNewTasks makes new tasks in the local project sync without being
	// picked one by one.
	TriggerNewTasks bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Activation is what the other side tells about itself when an invitation is
// redeemed; ActivateConnection records it.
type Activation struct {
	// Name, if not empty, renames the connection now that both ends are
	// known; empty keeps the name it was created with.
	Name              string
	RemoteID          string
	RemoteName        string
	RemoteURL         string
	RemoteInstanceID  string
	RemoteTracker     string
	RemoteProjectName string
	KeyCipher         []byte
}

// ConnectionStore keeps connections. Methods taking a *sql.Tx run in it, or in
// a transaction of their own when it is nil.
type ConnectionStore interface {
	CreateConnection(ctx context.Context, tx *sql.Tx, c Connection) error
	Connection(ctx context.Context, id string) (Connection, error)
	Connections(ctx context.Context) ([]Connection, error)
	ActivateConnection(ctx context.Context, tx *sql.Tx, id string, a Activation) error
	SetConnectionStatus(ctx context.Context, id, status, reason string) error
	SetTrigger(ctx context.Context, id string, on bool) error
	DeleteConnection(ctx context.Context, id string) error
}

var _ ConnectionStore = (*Store)(nil)

const connectionColumns = `id, remote_id, name, role, mode, status, status_reason,
	local_project, local_project_name, remote_url, remote_name, remote_instance_id,
	remote_tracker, remote_project_name, local, key_cipher, trigger_new_tasks,
	created_at, updated_at`

// CreateConnection stores a new connection in tx (nil: on its own), so the
// engine can create it together with its invitation. An empty Status means
// pending; zero times mean now. It returns ErrExists for a taken id.
func (s *Store) CreateConnection(ctx context.Context, tx *sql.Tx, c Connection) error {
	if c.Status == "" {
		c.Status = StatusPending
	}
	if err := validateConnection(c); err != nil {
		return fmt.Errorf("create connection %s: %w", c.ID, err)
	}
	now := time.Now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	err := s.inTx(ctx, tx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO connections (`+connectionColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.RemoteID, c.Name, c.Role, c.Mode, c.Status, c.StatusReason,
			c.LocalProject, c.LocalProjectName, c.RemoteURL, c.RemoteName, c.RemoteInstanceID,
			c.RemoteTracker, c.RemoteProjectName, c.Local, c.KeyCipher, c.TriggerNewTasks,
			formatTime(c.CreatedAt), formatTime(c.UpdatedAt))
		if isDuplicate(err) {
			return ErrExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create connection %s: %w", c.ID, err)
	}
	return nil
}

func validateConnection(c Connection) error {
	if c.ID == "" {
		return errors.New("empty id")
	}
	if c.Role != RoleInitiator && c.Role != RoleAcceptor {
		return fmt.Errorf("invalid role %q", c.Role)
	}
	if c.Mode == "" {
		return errors.New("empty mode")
	}
	return validateStatus(c.Status)
}

func validateStatus(status string) error {
	switch status {
	case StatusPending, StatusActive, StatusDeactivated, StatusError:
		return nil
	}
	return fmt.Errorf("invalid status %q", status)
}

// Connection returns the connection with this side's id, or ErrNotFound.
func (s *Store) Connection(ctx context.Context, id string) (Connection, error) {
	row := s.db.QueryRowContext(ctx, "SELECT "+connectionColumns+" FROM connections WHERE id = ?", id)
	c, err := scanConnection(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Connection{}, fmt.Errorf("connection %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Connection{}, fmt.Errorf("read connection %s: %w", id, err)
	}
	return c, nil
}

// ConnectionNameTaken says whether a connection other than exceptID is
// named name, read in tx (nil: outside any), so a caller that picks a free
// name and stores it in one transaction never gives two connections one
// name.
func (s *Store) ConnectionNameTaken(ctx context.Context, tx *sql.Tx, name, exceptID string) (bool, error) {
	const q = "SELECT EXISTS (SELECT 1 FROM connections WHERE name = ? AND id != ?)"
	var taken bool
	var err error
	if tx != nil {
		err = tx.QueryRowContext(ctx, q, name, exceptID).Scan(&taken)
	} else {
		err = s.db.QueryRowContext(ctx, q, name, exceptID).Scan(&taken)
	}
	if err != nil {
		return false, fmt.Errorf("checking the connection name %q: %w", name, err)
	}
	return taken, nil
}

// Connections returns every connection, newest first.
func (s *Store) Connections(ctx context.Context) ([]Connection, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT "+connectionColumns+" FROM connections ORDER BY created_at DESC, rowid DESC")
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	defer rows.Close()
	var cs []Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, fmt.Errorf("list connections: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return cs, nil
}

// ActivateConnection records what the other side told about itself and the
// encrypted key, and makes the connection active, in tx (nil: on its own).
// Only a Pending connection can be activated: an Active one is never
// re-pointed at another peer or key (ErrNotFound otherwise).
func (s *Store) ActivateConnection(ctx context.Context, tx *sql.Tx, id string, a Activation) error {
	if len(a.KeyCipher) == 0 {
		return fmt.Errorf("activate connection %s: empty key", id)
	}
	err := s.inTx(ctx, tx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `UPDATE connections SET
			name = COALESCE(NULLIF(?, ''), name), remote_id = ?, remote_name = ?, remote_url = ?, remote_instance_id = ?,
			remote_tracker = ?, remote_project_name = ?, key_cipher = ?,
			status = ?, status_reason = '', updated_at = ?
			WHERE id = ? AND status = 'pending'`,
			a.Name, a.RemoteID, a.RemoteName, a.RemoteURL, a.RemoteInstanceID,
			a.RemoteTracker, a.RemoteProjectName, a.KeyCipher,
			StatusActive, formatTime(time.Now()), id)
	})
	if err != nil {
		return fmt.Errorf("activate connection %s: %w", id, err)
	}
	return nil
}

// SetConnectionStatus sets the status (one of the Status constants) and the
// reason shown with it.
func (s *Store) SetConnectionStatus(ctx context.Context, id, status, reason string) error {
	return s.inTx(ctx, nil, func(tx *sql.Tx) error { return s.SetConnectionStatusTx(ctx, tx, id, status, reason) })
}

// SetConnectionStatusTx is SetConnectionStatus in tx, for changes that must
// happen together with the status (replaying what a deactivation queued).
func (s *Store) SetConnectionStatusTx(ctx context.Context, tx *sql.Tx, id, status, reason string) error {
	if err := validateStatus(status); err != nil {
		return fmt.Errorf("set status of connection %s: %w", id, err)
	}
	if err := execOne(ctx, tx,
		"UPDATE connections SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?",
		status, reason, formatTime(time.Now()), id); err != nil {
		return fmt.Errorf("set status of connection %s: %w", id, err)
	}
	return nil
}

// ConnectionStatus reads a connection's status through q (a transaction, or
// nil for the pool), so a decision that depends on it can be taken in the
// same transaction as the change it guards.
func (s *Store) ConnectionStatus(ctx context.Context, q Querier, id string) (string, error) {
	var status string
	err := s.q(q).QueryRowContext(ctx, "SELECT status FROM connections WHERE id = ?", id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("status of connection %s: %w", id, ErrNotFound)
	}
	return status, err
}

// SetTrigger turns syncing of new tasks in the local project on or off.
func (s *Store) SetTrigger(ctx context.Context, id string, on bool) error {
	if err := execOne(ctx, s.db,
		"UPDATE connections SET trigger_new_tasks = ?, updated_at = ? WHERE id = ?",
		on, formatTime(time.Now()), id); err != nil {
		return fmt.Errorf("set trigger of connection %s: %w", id, err)
	}
	return nil
}

// DeleteConnection removes the connection; its invitation and nonces go with
// it (ON DELETE CASCADE).
func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	if err := execOne(ctx, s.db, "DELETE FROM connections WHERE id = ?", id); err != nil {
		return fmt.Errorf("delete connection %s: %w", id, err)
	}
	return nil
}

// scanConnection reads one row selected with connectionColumns.
func scanConnection(row interface{ Scan(...any) error }) (Connection, error) {
	var (
		c                    Connection
		createdAt, updatedAt string
	)
	if err := row.Scan(&c.ID, &c.RemoteID, &c.Name, &c.Role, &c.Mode, &c.Status, &c.StatusReason,
		&c.LocalProject, &c.LocalProjectName, &c.RemoteURL, &c.RemoteName, &c.RemoteInstanceID,
		&c.RemoteTracker, &c.RemoteProjectName, &c.Local, &c.KeyCipher, &c.TriggerNewTasks,
		&createdAt, &updatedAt); err != nil {
		return Connection{}, err
	}
	var err error
	if c.CreatedAt, err = parseTime(createdAt); err != nil {
		return Connection{}, fmt.Errorf("connection %s: %w", c.ID, err)
	}
	if c.UpdatedAt, err = parseTime(updatedAt); err != nil {
		return Connection{}, fmt.Errorf("connection %s: %w", c.ID, err)
	}
	return c, nil
}
