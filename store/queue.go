package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The open syncs (neither Synchronized nor resolved), for the queue and
// the errors the console and the command line list, and resolving one.

// OpenEvents returns the open events on a connection ("" for every
// connection), oldest first, without their payload and result: a queue
// can be long, and its listing needs only where each event stands.
func (s *Store) OpenEvents(ctx context.Context, connID string) ([]SyncEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT connection_id, id, direction, entity_id, stage, error, next_retry_at,
		NULL, NULL, local_key, local_url, remote_key, remote_url, created_at, updated_at, resolution, resolved_at, rules_version
		FROM sync_events WHERE (? = '' OR connection_id = ?) AND `+openEvent+` ORDER BY created_at, rowid`, connID, connID)
	if err != nil {
		return nil, fmt.Errorf("open syncs: %w", err)
	}
	defer rows.Close()
	var out []SyncEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("open syncs: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("open syncs: %w", err)
	}
	return out, nil
}

// FindEvents returns the events whose id is id or starts with it, on a
// connection ("" for any), at most limit of them: an admin types an
// event's id, or enough of its start to name one.
func (s *Store) FindEvents(ctx context.Context, connID, id string, limit int) ([]SyncEvent, error) {
	evs, err := s.events(ctx, nil, `(? = '' OR connection_id = ?) AND substr(id, 1, ?) = ?`, connID, connID, len(id), id)
	if err != nil {
		return nil, fmt.Errorf("syncs named %q: %w", id, err)
	}
	if len(evs) > limit {
		evs = evs[:limit]
	}
	return evs, nil
}

// ResolveEvent records that an admin resolved an event, with the reason,
// in tx. An event resolved already, or gone, is ErrNotFound.
func (s *Store) ResolveEvent(ctx context.Context, tx *sql.Tx, connID, id, reason string, at time.Time) error {
	ts := formatTime(at)
	if err := execOne(ctx, tx, `UPDATE sync_events SET resolution = ?, resolved_at = ?, updated_at = ?
		WHERE connection_id = ? AND id = ? AND resolved_at IS NULL`, reason, ts, ts, connID, id); err != nil {
		return fmt.Errorf("resolving sync %s: %w", id, err)
	}
	return nil
}
