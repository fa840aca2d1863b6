package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Scripts are a connection's outgoing and incoming scripts at one version:
// 0 is the draft, 1… the published versions, the highest in force.
type Scripts struct {
	ConnectionID string
	Version      int
	Outgoing     string
	Incoming     string
	At           time.Time
	Note         string
}

// SaveDraft stores a connection's draft (version 0), replacing the last
// one. tx may be nil.
func (s *Store) SaveDraft(ctx context.Context, tx *sql.Tx, connID, outgoing, incoming string, at time.Time) error {
	exec := s.db.ExecContext
	if tx != nil {
		exec = tx.ExecContext
	}
	_, err := exec(ctx, `INSERT INTO scripts (connection_id, version, outgoing, incoming, at) VALUES (?, 0, ?, ?, ?)
		ON CONFLICT (connection_id, version) DO UPDATE SET outgoing = excluded.outgoing, incoming = excluded.incoming, at = excluded.at`,
		connID, outgoing, incoming, formatTime(at))
	if err != nil {
		return fmt.Errorf("saving the draft of connection %s: %w", connID, err)
	}
	return nil
}

// PublishDraft makes the draft the next published version, in tx, and
// returns its number; ErrNotFound when the connection has no draft.
func (s *Store) PublishDraft(ctx context.Context, tx *sql.Tx, connID, note string, at time.Time) (int, error) {
	draft, err := s.Scripts(ctx, tx, connID, 0)
	if err != nil {
		return 0, err
	}
	return s.PublishScripts(ctx, tx, connID, draft.Outgoing, draft.Incoming, note, at)
}

// PublishScripts stores scripts as the next published version, in tx,
// leaving the draft alone, and returns the version's number.
func (s *Store) PublishScripts(ctx context.Context, tx *sql.Tx, connID, outgoing, incoming, note string, at time.Time) (int, error) {
	var last int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM scripts WHERE connection_id = ?`, connID).Scan(&last); err != nil {
		return 0, fmt.Errorf("versions of connection %s: %w", connID, err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO scripts (connection_id, version, outgoing, incoming, at, note) VALUES (?, ?, ?, ?, ?, ?)`,
		connID, last+1, outgoing, incoming, formatTime(at), note)
	if err != nil {
		return 0, fmt.Errorf("publishing the draft of connection %s: %w", connID, err)
	}
	return last + 1, nil
}

// Scripts returns a connection's scripts at one version (0: the draft);
// ErrNotFound when there is none. q may be nil.
func (s *Store) Scripts(ctx context.Context, q Querier, connID string, version int) (Scripts, error) {
	sc := Scripts{ConnectionID: connID, Version: version}
	var at string
	err := s.q(q).QueryRowContext(ctx, `SELECT outgoing, incoming, at, note FROM scripts WHERE connection_id = ? AND version = ?`,
		connID, version).Scan(&sc.Outgoing, &sc.Incoming, &at, &sc.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return Scripts{}, ErrNotFound
	}
	if err != nil {
		return Scripts{}, fmt.Errorf("scripts of connection %s, version %d: %w", connID, version, err)
	}
	sc.At, err = parseTime(at)
	return sc, err
}

// PublishedScripts returns the version in force (the highest published);
// ErrNotFound when none was published. q may be nil.
func (s *Store) PublishedScripts(ctx context.Context, q Querier, connID string) (Scripts, error) {
	var v int
	err := s.q(q).QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM scripts WHERE connection_id = ?`, connID).Scan(&v)
	if err != nil {
		return Scripts{}, fmt.Errorf("versions of connection %s: %w", connID, err)
	}
	if v == 0 {
		return Scripts{}, ErrNotFound
	}
	return s.Scripts(ctx, q, connID, v)
}

// ScriptVersions lists a connection's published versions, newest first,
// without their text.
func (s *Store) ScriptVersions(ctx context.Context, connID string) ([]Scripts, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, at, note FROM scripts WHERE connection_id = ? AND version > 0 ORDER BY version DESC`, connID)
	if err != nil {
		return nil, fmt.Errorf("versions of connection %s: %w", connID, err)
	}
	defer rows.Close()
	var out []Scripts
	for rows.Next() {
		sc := Scripts{ConnectionID: connID}
		var at string
		if err := rows.Scan(&sc.Version, &at, &sc.Note); err != nil {
			return nil, err
		}
		if sc.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// SetMode changes a connection's configuration mode on this side, in tx.
func (s *Store) SetMode(ctx context.Context, tx *sql.Tx, connID, mode string) error {
	if mode == "" {
		return errors.New("empty mode")
	}
	res, err := tx.ExecContext(ctx, `UPDATE connections SET mode = ? WHERE id = ?`, mode, connID)
	if err != nil {
		return fmt.Errorf("setting the mode of connection %s: %w", connID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// LatestIncoming returns the newest replica received for a local entity on
// a connection (an incoming event's payload); ErrNotFound when none was.
func (s *Store) LatestIncoming(ctx context.Context, connID, entityID string) (SyncEvent, error) {
	evs, err := s.events(ctx, nil, `connection_id = ? AND entity_id = ? AND direction = 'in'`, connID, entityID)
	if err != nil {
		return SyncEvent{}, fmt.Errorf("replicas received for %s: %w", entityID, err)
	}
	if len(evs) == 0 {
		return SyncEvent{}, ErrNotFound
	}
	return evs[len(evs)-1], nil
}

// IncomingBefore returns the newest replica received for a local entity on
// a connection other than event eventID (the one being applied);
// ErrNotFound when there is none.
func (s *Store) IncomingBefore(ctx context.Context, connID, entityID, eventID string) (SyncEvent, error) {
	evs, err := s.events(ctx, nil, `connection_id = ? AND entity_id = ? AND direction = 'in' AND id != ?`, connID, entityID, eventID)
	if err != nil {
		return SyncEvent{}, fmt.Errorf("replicas received for %s: %w", entityID, err)
	}
	if len(evs) == 0 {
		return SyncEvent{}, ErrNotFound
	}
	return evs[len(evs)-1], nil
}
