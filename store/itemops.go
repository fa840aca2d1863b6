package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Unexalated records that a user stopped syncing an item: the twin link and
// its comment and attachment links are gone, and change detection leaves
// the item alone until a user exalates it again.
type Unexalated struct {
	ConnectionID string
	EntityID     string
	// RemoteKey is the twin the item had.
	RemoteKey string
	At        time.Time
}

// Unlink removes a twin and the comment and attachment links of its local
// entity, and marks the entity unexalated, in tx. A twin already gone is
// not an error: the mark is what stays.
func (s *Store) Unlink(ctx context.Context, tx *sql.Tx, connID, localID, remoteKey string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM twins WHERE connection_id = ? AND local_id = ?`, connID, localID); err != nil {
		return fmt.Errorf("removing the twin of %s: %w", localID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM item_links WHERE connection_id = ? AND entity_id = ?`, connID, localID); err != nil {
		return fmt.Errorf("removing the links of %s: %w", localID, err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO unexalated (connection_id, entity_id, remote_key, at) VALUES (?, ?, ?, ?)
		ON CONFLICT (connection_id, entity_id) DO UPDATE SET remote_key = excluded.remote_key, at = excluded.at`,
		connID, localID, remoteKey, formatTime(at))
	if err != nil {
		return fmt.Errorf("marking %s unexalated: %w", localID, err)
	}
	return nil
}

// UnexalatedItem returns the mark of an unexalated entity; ErrNotFound
// when it has none.
func (s *Store) UnexalatedItem(ctx context.Context, q Querier, connID, entityID string) (Unexalated, error) {
	u := Unexalated{ConnectionID: connID, EntityID: entityID}
	var at string
	err := s.q(q).QueryRowContext(ctx, `SELECT remote_key, at FROM unexalated WHERE connection_id = ? AND entity_id = ?`,
		connID, entityID).Scan(&u.RemoteKey, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Unexalated{}, ErrNotFound
	}
	if err != nil {
		return Unexalated{}, fmt.Errorf("unexalated mark of %s: %w", entityID, err)
	}
	u.At, err = parseTime(at)
	return u, err
}

// ClearUnexalated forgets an entity's unexalated mark: a user asked to
// sync it again. tx may be nil.
func (s *Store) ClearUnexalated(ctx context.Context, tx *sql.Tx, connID, entityID string) error {
	exec := s.db.ExecContext
	if tx != nil {
		exec = tx.ExecContext
	}
	if _, err := exec(ctx, `DELETE FROM unexalated WHERE connection_id = ? AND entity_id = ?`, connID, entityID); err != nil {
		return fmt.Errorf("clearing the unexalated mark of %s: %w", entityID, err)
	}
	return nil
}

// SetRulesVersion records the rules version an event runs under, in tx.
func (s *Store) SetRulesVersion(ctx context.Context, tx *sql.Tx, connID, eventID, version string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE sync_events SET rules_version = ? WHERE connection_id = ? AND id = ?`,
		version, connID, eventID); err != nil {
		return fmt.Errorf("recording the rules version of sync %s: %w", eventID, err)
	}
	return nil
}

// HistoryEntry is one sync of an item, for its history.
type HistoryEntry struct {
	EventID      string
	RulesVersion string
}

// ItemHistory returns the ids and rules versions of an entity's latest
// syncs on a connection, newest first, at most limit.
func (s *Store) ItemHistory(ctx context.Context, connID, entityID string, limit int) ([]HistoryEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, rules_version FROM sync_events
		WHERE connection_id = ? AND entity_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`, connID, entityID, limit)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", entityID, err)
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var h HistoryEntry
		if err := rows.Scan(&h.EventID, &h.RulesVersion); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
