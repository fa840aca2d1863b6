package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Kinds of seen times (migration 0011).
const (
	// SeenWrite is a time a write of the sync returned for a local item:
	// the modified_at of a create or update, the created_at of a comment
	// or file it added.
	SeenWrite = "write"
	// SeenRead is an item's modified_at as the node last read it whole.
	SeenRead = "read"
	// SeenDeferred is an item's modified_at as read when an incoming write
	// of unknown outcome kept its unlinked comments or files from being
	// sent: until a read without one clears it, its changes are read.
	SeenDeferred = "deferred"
)

// ClearSeen forgets the times of kind for a connection's local item, in tx.
func (s *Store) ClearSeen(ctx context.Context, tx *sql.Tx, connID, localID, kind string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM seen_times WHERE connection_id = ? AND local_id = ? AND kind = ?`, connID, localID, kind)
	if err != nil {
		return fmt.Errorf("forget the %s times of %s: %w", kind, localID, err)
	}
	return nil
}

// seenKept is how many times of each kind are kept per item: an item's
// echo is recognised while its events are newer than the oldest kept.
const seenKept = 32

// PutSeen records times (the tracker's clock) of kind for the local item
// localID of a connection, in tx, keeping the latest seenKept of the
// kind. Zero times are left out.
func (s *Store) PutSeen(ctx context.Context, tx *sql.Tx, connID, localID, kind string, times ...time.Time) error {
	added := false
	for _, t := range times {
		if t.IsZero() {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO seen_times (connection_id, local_id, kind, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			connID, localID, kind, seenTime(t)); err != nil {
			return fmt.Errorf("record a %s time of %s: %w", kind, localID, err)
		}
		added = true
	}
	if !added {
		return nil
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM seen_times WHERE connection_id = ? AND local_id = ? AND kind = ? AND at < (
		SELECT at FROM seen_times WHERE connection_id = ? AND local_id = ? AND kind = ? ORDER BY at DESC LIMIT 1 OFFSET ?)`,
		connID, localID, kind, connID, localID, kind, seenKept-1)
	if err != nil {
		return fmt.Errorf("prune the %s times of %s: %w", kind, localID, err)
	}
	return nil
}

// Seen returns the recorded times of kind for a connection's local item,
// oldest first.
func (s *Store) Seen(ctx context.Context, connID, localID, kind string) ([]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at FROM seen_times WHERE connection_id = ? AND local_id = ? AND kind = ? ORDER BY at`,
		connID, localID, kind)
	if err != nil {
		return nil, fmt.Errorf("%s times of %s: %w", kind, localID, err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var at string
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return nil, fmt.Errorf("%s times of %s: %w", kind, localID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// seenTime writes t so that text order is time order: UTC, nanoseconds
// always nine digits.
func seenTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00") }
