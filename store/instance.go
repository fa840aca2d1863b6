package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Instance is this node as it presents itself to users and peers.
type Instance struct {
	ID      string
	Name    string
	URL     string
	Tracker string
	// Settings are tracker settings such as asana_url or the workspace gid.
	// They are stored in clear text, so they must never hold a token.
	Settings  map[string]string
	CreatedAt time.Time
}

// InstanceStore keeps the node's single instance row and its admin token.
type InstanceStore interface {
	Instance(ctx context.Context) (Instance, error)
	CreateInstance(ctx context.Context, in Instance, adminTokenHash []byte) error
	UpdateInstance(ctx context.Context, in Instance) error
	AdminTokenValid(ctx context.Context, hash []byte) (bool, error)
	ReplaceAdminToken(ctx context.Context, hash []byte) error
}

var _ InstanceStore = (*Store)(nil)

// Instance returns this node, or ErrNotFound before its first start.
func (s *Store) Instance(ctx context.Context) (Instance, error) {
	var (
		in                  Instance
		settings, createdAt string
	)
	err := s.db.QueryRowContext(ctx,
		"SELECT id, name, url, tracker, settings, created_at FROM instance WHERE singleton = 1").
		Scan(&in.ID, &in.Name, &in.URL, &in.Tracker, &settings, &createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Instance{}, fmt.Errorf("instance: %w", ErrNotFound)
	}
	if err != nil {
		return Instance{}, fmt.Errorf("read instance: %w", err)
	}
	if err := json.Unmarshal([]byte(settings), &in.Settings); err != nil {
		return Instance{}, fmt.Errorf("read instance settings: %w", err)
	}
	if in.CreatedAt, err = parseTime(createdAt); err != nil {
		return Instance{}, fmt.Errorf("read instance: %w", err)
	}
	return in, nil
}

// CreateInstance records this node and its admin token hash in one
// transaction, so a node never exists without a way to administer it.
// It returns ErrExists if the node was created before. A zero CreatedAt
// means now.
func (s *Store) CreateInstance(ctx context.Context, in Instance, adminTokenHash []byte) error {
	if in.ID == "" {
		return errors.New("create instance: empty id")
	}
	if len(adminTokenHash) == 0 {
		return fmt.Errorf("create instance %s: empty admin token hash", in.ID)
	}
	settings, err := marshalSettings(in.Settings)
	if err != nil {
		return fmt.Errorf("create instance %s: %w", in.ID, err)
	}
	if in.CreatedAt.IsZero() {
		in.CreatedAt = time.Now()
	}
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO instance (singleton, id, name, url, tracker, settings, created_at)
			 VALUES (1, ?, ?, ?, ?, ?, ?)`,
			in.ID, in.Name, in.URL, in.Tracker, settings, formatTime(in.CreatedAt))
		if isDuplicate(err) {
			return ErrExists
		}
		if err != nil {
			return err
		}
		return insertAdminToken(ctx, tx, adminTokenHash)
	})
	if err != nil {
		return fmt.Errorf("create instance %s: %w", in.ID, err)
	}
	return nil
}

// UpdateInstance changes the node's name, URL and settings; its id, tracker
// and creation time are fixed at creation.
func (s *Store) UpdateInstance(ctx context.Context, in Instance) error {
	settings, err := marshalSettings(in.Settings)
	if err != nil {
		return fmt.Errorf("update instance: %w", err)
	}
	if err := execOne(ctx, s.db,
		"UPDATE instance SET name = ?, url = ?, settings = ? WHERE singleton = 1",
		in.Name, in.URL, settings); err != nil {
		return fmt.Errorf("update instance: %w", err)
	}
	return nil
}

// AdminTokenValid reports whether hash is the hash of a current admin token.
// Every stored hash is compared in constant time, so timing reveals nothing
// about how close a guess came.
func (s *Store) AdminTokenValid(ctx context.Context, hash []byte) (bool, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT hash FROM admin_tokens")
	if err != nil {
		return false, fmt.Errorf("check admin token: %w", err)
	}
	defer rows.Close()
	valid := false
	for rows.Next() {
		var stored []byte
		if err := rows.Scan(&stored); err != nil {
			return false, fmt.Errorf("check admin token: %w", err)
		}
		if len(hash) > 0 && subtle.ConstantTimeCompare(stored, hash) == 1 {
			valid = true
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("check admin token: %w", err)
	}
	return valid, nil
}

// ReplaceAdminToken makes hash the only valid admin token hash (rotation): the
// old token stops working in the same transaction that the new one starts.
func (s *Store) ReplaceAdminToken(ctx context.Context, hash []byte) error {
	if len(hash) == 0 {
		return errors.New("replace admin token: empty hash")
	}
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM admin_tokens"); err != nil {
			return err
		}
		return insertAdminToken(ctx, tx, hash)
	})
	if err != nil {
		return fmt.Errorf("replace admin token: %w", err)
	}
	return nil
}

func insertAdminToken(ctx context.Context, tx *sql.Tx, hash []byte) error {
	_, err := tx.ExecContext(ctx,
		"INSERT INTO admin_tokens (hash, created_at) VALUES (?, ?)", hash, formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store admin token hash: %w", err)
	}
	return nil
}

// marshalSettings encodes settings as a JSON object; nil becomes {} so the
// column always holds an object.
func marshalSettings(settings map[string]string) (string, error) {
	if settings == nil {
		settings = map[string]string{}
	}
	b, err := json.Marshal(settings)
	if err != nil {
		return "", fmt.Errorf("encode settings: %w", err)
	}
	return string(b), nil
}
