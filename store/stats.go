package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Activity sums up what a connection has synced, for connection lists.
type Activity struct {
	// SyncedItems counts the connection's twins whose two sides both
	// still exist.
	SyncedItems int
	// LastSync is when an event on the connection last reached
	// synchronized; zero if none ever did.
	LastSync time.Time
	// Open counts the connection's events neither synchronized nor
	// resolved: its queue.
	Open int
}

// activityQuery reads Activity per connection in one statement from the
// counters the triggers of migration 0009 keep as syncs happen: one row
// per connection, however long its history. The caller appends a WHERE
// on c.
const activityQuery = `SELECT c.id, coalesce(k.synced_items, 0), k.last_sync, coalesce(k.open, 0)
	FROM connections c LEFT JOIN connection_counters k ON k.connection_id = c.id`

// Activity returns every connection's activity by connection id, in one
// query however many connections there are.
func (s *Store) Activity(ctx context.Context) (map[string]Activity, error) {
	rows, err := s.db.QueryContext(ctx, activityQuery)
	if err != nil {
		return nil, fmt.Errorf("activity of the connections: %w", err)
	}
	defer rows.Close()
	out := map[string]Activity{}
	for rows.Next() {
		id, a, err := scanActivity(rows)
		if err != nil {
			return nil, fmt.Errorf("activity of the connections: %w", err)
		}
		out[id] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("activity of the connections: %w", err)
	}
	return out, nil
}

// ConnectionActivity returns one connection's activity, or ErrNotFound.
func (s *Store) ConnectionActivity(ctx context.Context, connID string) (Activity, error) {
	_, a, err := scanActivity(s.db.QueryRowContext(ctx, activityQuery+` WHERE c.id = ?`, connID))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Activity{}, fmt.Errorf("activity of connection %s: %w", connID, err)
	}
	return a, nil
}

func scanActivity(row interface{ Scan(...any) error }) (string, Activity, error) {
	var (
		id   string
		a    Activity
		last sql.NullString
	)
	if err := row.Scan(&id, &a.SyncedItems, &last, &a.Open); err != nil {
		return "", Activity{}, err
	}
	var err error
	a.LastSync, err = parseTime(last.String)
	return id, a, err
}

// EventCounts counts a connection's sync events.
type EventCounts struct {
	// Out and In count the events by direction.
	Out, In int
	// Synchronized counts the events that reached synchronized.
	Synchronized int
	// Failing counts the events not synchronized (nor resolved) yet
	// whose last attempt failed (they carry an error and wait for a
	// retry).
	Failing int
}

// EventCounts reads a connection's event counts from its counters (kept
// as syncs happen, migration 0009); a connection without any counts zero.
func (s *Store) EventCounts(ctx context.Context, connID string) (EventCounts, error) {
	var c EventCounts
	err := s.db.QueryRowContext(ctx, `SELECT events_out, events_in, synchronized, failing
		FROM connection_counters WHERE connection_id = ?`, connID).Scan(&c.Out, &c.In, &c.Synchronized, &c.Failing)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return EventCounts{}, fmt.Errorf("counting the events of connection %s: %w", connID, err)
	}
	return c, nil
}

// recountQuery counts what connection_counters keeps, from the whole
// history, in the same columns: Recount, and the tests that check the
// counters against it.
const recountQuery = `SELECT c.id,
	(SELECT count(*) FROM twins t WHERE t.connection_id = c.id AND NOT t.local_deleted AND NOT t.remote_deleted),
	(SELECT max(l.at) FROM stage_log l WHERE l.connection_id = c.id AND l.stage = 'synchronized'),
	(SELECT count(*) FROM sync_events e WHERE e.connection_id = c.id AND e.stage != 'synchronized' AND e.resolved_at IS NULL),
	(SELECT count(*) FROM sync_events e WHERE e.connection_id = c.id AND e.direction = 'out'),
	(SELECT count(*) FROM sync_events e WHERE e.connection_id = c.id AND e.direction = 'in'),
	(SELECT count(*) FROM sync_events e WHERE e.connection_id = c.id AND e.stage = 'synchronized'),
	(SELECT count(*) FROM sync_events e WHERE e.connection_id = c.id AND e.stage != 'synchronized'
		AND e.resolved_at IS NULL AND e.error != '')
	FROM connections c`

// Counters is what connection_counters keeps for one connection.
type Counters struct {
	Activity
	EventCounts
}

// Counters returns every connection's kept counters, by connection id.
func (s *Store) Counters(ctx context.Context) (map[string]Counters, error) {
	return readCounters(ctx, s.db, countersQuery)
}

const countersQuery = `SELECT c.id, coalesce(k.synced_items, 0), k.last_sync, coalesce(k.open, 0),
	coalesce(k.events_out, 0), coalesce(k.events_in, 0), coalesce(k.synchronized, 0), coalesce(k.failing, 0)
	FROM connections c LEFT JOIN connection_counters k ON k.connection_id = c.id`

// Recount counts, from the whole history, what Counters returns: what the
// counters must equal. It costs O(history); only checks use it.
func (s *Store) Recount(ctx context.Context) (map[string]Counters, error) {
	return readCounters(ctx, s.db, recountQuery)
}

// CountersAndRecount reads the kept counters and a full recount in one
// transaction, so the two see the same history even while syncs go on:
// where they differ, a counter is wrong.
func (s *Store) CountersAndRecount(ctx context.Context) (kept, full map[string]Counters, err error) {
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		if kept, err = readCounters(ctx, tx, countersQuery); err != nil {
			return err
		}
		full, err = readCounters(ctx, tx, recountQuery)
		return err
	})
	return kept, full, err
}

func readCounters(ctx context.Context, q Querier, query string) (map[string]Counters, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("counters of the connections: %w", err)
	}
	defer rows.Close()
	out := map[string]Counters{}
	for rows.Next() {
		var (
			id   string
			c    Counters
			last sql.NullString
		)
		if err := rows.Scan(&id, &c.SyncedItems, &last, &c.Open, &c.Out, &c.In, &c.Synchronized, &c.Failing); err != nil {
			return nil, fmt.Errorf("counters of the connections: %w", err)
		}
		if c.LastSync, err = parseTime(last.String); err != nil {
			return nil, fmt.Errorf("counters of connection %s: %w", id, err)
		}
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counters of the connections: %w", err)
	}
	return out, nil
}

// StageMark is one stage_log entry: an event entered (or failed in) Stage
// at At.
type StageMark struct {
	EventID string
	Stage   string
	At      time.Time
}

// StageMarks returns the stage log of a connection's latest events (at
// most events of them, by last update), grouped by event, each event's
// entries in the order they happened.
func (s *Store) StageMarks(ctx context.Context, connID string, events int) ([]StageMark, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT l.event_id, l.stage, l.at FROM stage_log l
		WHERE l.connection_id = ? AND l.event_id IN (SELECT id FROM sync_events WHERE connection_id = ?
			ORDER BY updated_at DESC, rowid DESC LIMIT ?)
		ORDER BY l.event_id, l.seq`, connID, connID, events)
	if err != nil {
		return nil, fmt.Errorf("stage log of connection %s: %w", connID, err)
	}
	defer rows.Close()
	var out []StageMark
	for rows.Next() {
		var (
			m  StageMark
			at string
		)
		if err := rows.Scan(&m.EventID, &m.Stage, &at); err != nil {
			return nil, fmt.Errorf("stage log of connection %s: %w", connID, err)
		}
		if m.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("stage log of connection %s: %w", connID, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stage log of connection %s: %w", connID, err)
	}
	return out, nil
}

// RecentEvents returns a connection's latest events, at most limit of
// them, newest first by last update (then by creation).
func (s *Store) RecentEvents(ctx context.Context, connID string, limit int) ([]SyncEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+eventColumns+` FROM sync_events WHERE connection_id = ?
		ORDER BY updated_at DESC, created_at DESC, rowid DESC LIMIT ?`, connID, limit)
	if err != nil {
		return nil, fmt.Errorf("recent events of connection %s: %w", connID, err)
	}
	defer rows.Close()
	var out []SyncEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("recent events of connection %s: %w", connID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent events of connection %s: %w", connID, err)
	}
	return out, nil
}
