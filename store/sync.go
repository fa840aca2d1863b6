package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Twin links an entity on this node with its twin across a connection.
type Twin struct {
	ConnectionID string
	LocalID      string
	RemoteID     string
	LocalKey     string
	LocalURL     string
	RemoteKey    string
	RemoteURL    string
	// Fields maps a field name to the fingerprint of this side's value when
	// it was last synced.
	Fields map[string]string
	// LocalDeleted and RemoteDeleted record that the entity here, or its
	// twin there, was deleted.
	LocalDeleted  bool
	RemoteDeleted bool
	// RemoteType is the other side's type when this side has no type of
	// that name and the entity here got its default type instead; "" when
	// the types match. A sync back sends it, so the round trip restores it.
	RemoteType string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const twinColumns = `connection_id, local_id, remote_id, local_key, local_url, remote_key, remote_url,
	fields, local_deleted, remote_deleted, remote_type, created_at, updated_at`

func scanTwin(row interface{ Scan(...any) error }) (Twin, error) {
	var (
		t                    Twin
		fields               string
		createdAt, updatedAt string
	)
	if err := row.Scan(&t.ConnectionID, &t.LocalID, &t.RemoteID, &t.LocalKey, &t.LocalURL, &t.RemoteKey,
		&t.RemoteURL, &fields, &t.LocalDeleted, &t.RemoteDeleted, &t.RemoteType, &createdAt, &updatedAt); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Twin{}, ErrNotFound
		}
		return Twin{}, err
	}
	if err := json.Unmarshal([]byte(fields), &t.Fields); err != nil {
		return Twin{}, fmt.Errorf("twin %s: fields: %w", t.LocalID, err)
	}
	var err error
	if t.CreatedAt, err = parseTime(createdAt); err != nil {
		return Twin{}, err
	}
	if t.UpdatedAt, err = parseTime(updatedAt); err != nil {
		return Twin{}, err
	}
	return t, nil
}

// Twin returns the twin of a local entity on a connection.
func (s *Store) Twin(ctx context.Context, q Querier, connID, localID string) (Twin, error) {
	return s.twinWhere(ctx, q, "local_id", connID, localID)
}

// TwinByRemote returns the twin whose other side is remoteID.
func (s *Store) TwinByRemote(ctx context.Context, q Querier, connID, remoteID string) (Twin, error) {
	return s.twinWhere(ctx, q, "remote_id", connID, remoteID)
}

// twinWhere finds a twin by one of its two ids (column is a constant).
func (s *Store) twinWhere(ctx context.Context, q Querier, column, connID, id string) (Twin, error) {
	t, err := scanTwin(s.q(q).QueryRowContext(ctx, `SELECT `+twinColumns+` FROM twins
		WHERE connection_id = ? AND `+column+` = ?`, connID, id))
	if err != nil {
		return Twin{}, fmt.Errorf("twin with %s %s on connection %s: %w", column, id, connID, err)
	}
	return t, nil
}

// PutTwin creates or replaces a twin, in tx.
func (s *Store) PutTwin(ctx context.Context, tx *sql.Tx, t Twin) error {
	fields, err := json.Marshal(t.Fields)
	if err != nil {
		return err
	}
	if t.Fields == nil {
		fields = []byte("{}")
	}
	now := formatTime(time.Now())
	created := now
	if !t.CreatedAt.IsZero() {
		created = formatTime(t.CreatedAt)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO twins (`+twinColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection_id, local_id) DO UPDATE SET remote_id = excluded.remote_id,
			local_key = excluded.local_key, local_url = excluded.local_url, remote_key = excluded.remote_key,
			remote_url = excluded.remote_url, fields = excluded.fields, local_deleted = excluded.local_deleted,
			remote_deleted = excluded.remote_deleted, remote_type = excluded.remote_type,
			updated_at = excluded.updated_at`,
		t.ConnectionID, t.LocalID, t.RemoteID, t.LocalKey, t.LocalURL, t.RemoteKey, t.RemoteURL, string(fields),
		t.LocalDeleted, t.RemoteDeleted, t.RemoteType, created, now)
	if err != nil {
		return fmt.Errorf("put twin %s on connection %s: %w", t.LocalID, t.ConnectionID, err)
	}
	return nil
}

// CountTwins is the number of synced items on a connection.
func (s *Store) CountTwins(ctx context.Context, connID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM twins WHERE connection_id = ?`, connID).Scan(&n)
	return n, err
}

// Link kinds.
const (
	LinkComment    = "comment"
	LinkAttachment = "attachment"
)

// ItemLink links a comment or attachment here with its twin across a
// connection.
type ItemLink struct {
	ConnectionID string
	Kind         string
	LocalID      string
	RemoteID     string
	EntityID     string
	Fingerprint  string
}

// Links returns the links of one kind for a local entity.
func (s *Store) Links(ctx context.Context, q Querier, connID, kind, entityID string) ([]ItemLink, error) {
	rows, err := s.q(q).QueryContext(ctx, `SELECT connection_id, kind, local_id, remote_id, entity_id, fingerprint
		FROM item_links WHERE connection_id = ? AND kind = ? AND entity_id = ?`, connID, kind, entityID)
	if err != nil {
		return nil, fmt.Errorf("%s links of %s: %w", kind, entityID, err)
	}
	defer rows.Close()
	var out []ItemLink
	for rows.Next() {
		var l ItemLink
		if err := rows.Scan(&l.ConnectionID, &l.Kind, &l.LocalID, &l.RemoteID, &l.EntityID, &l.Fingerprint); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// PutLink creates or replaces a link, in tx.
func (s *Store) PutLink(ctx context.Context, tx *sql.Tx, l ItemLink) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO item_links (connection_id, kind, local_id, remote_id, entity_id, fingerprint)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection_id, kind, local_id) DO UPDATE SET remote_id = excluded.remote_id,
			entity_id = excluded.entity_id, fingerprint = excluded.fingerprint`,
		l.ConnectionID, l.Kind, l.LocalID, l.RemoteID, l.EntityID, l.Fingerprint)
	if err != nil {
		return fmt.Errorf("put %s link %s: %w", l.Kind, l.LocalID, err)
	}
	return nil
}

// Directions of a sync event.
const (
	DirectionOut = "out"
	DirectionIn  = "in"
)

// SyncEvent is one sync of one entity across a connection.
type SyncEvent struct {
	ConnectionID string
	ID           string
	Direction    string
	EntityID     string
	Stage        string
	Error        string
	NextRetryAt  time.Time
	Payload      []byte
	Result       []byte
	LocalKey     string
	LocalURL     string
	RemoteKey    string
	RemoteURL    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Resolution is the reason an admin gave for resolving the event
	// (stopping its retries), and ResolvedAt when; "" and zero while it is
	// not resolved. A resolved event is finished, whatever its stage.
	Resolution string
	ResolvedAt time.Time
	// RulesVersion is the version of the rules the event runs under on
	// this node (SetRulesVersion); "" until it is recorded.
	RulesVersion string
}

const eventColumns = `connection_id, id, direction, entity_id, stage, error, next_retry_at, payload, result,
	local_key, local_url, remote_key, remote_url, created_at, updated_at, resolution, resolved_at, rules_version`

// openEvent is the condition on sync_events of an open event: neither
// Synchronized nor resolved (the sync_events_open index).
const openEvent = `stage != 'synchronized' AND resolved_at IS NULL`

func scanEvent(row interface{ Scan(...any) error }) (SyncEvent, error) {
	var (
		e                    SyncEvent
		next, resolvedAt     sql.NullString
		createdAt, updatedAt string
	)
	if err := row.Scan(&e.ConnectionID, &e.ID, &e.Direction, &e.EntityID, &e.Stage, &e.Error, &next, &e.Payload,
		&e.Result, &e.LocalKey, &e.LocalURL, &e.RemoteKey, &e.RemoteURL, &createdAt, &updatedAt,
		&e.Resolution, &resolvedAt, &e.RulesVersion); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return SyncEvent{}, ErrNotFound
		}
		return SyncEvent{}, err
	}
	var err error
	if e.NextRetryAt, err = parseTime(next.String); err != nil {
		return SyncEvent{}, err
	}
	if e.CreatedAt, err = parseTime(createdAt); err != nil {
		return SyncEvent{}, err
	}
	if e.UpdatedAt, err = parseTime(updatedAt); err != nil {
		return SyncEvent{}, err
	}
	if e.ResolvedAt, err = parseTime(resolvedAt.String); err != nil {
		return SyncEvent{}, err
	}
	return e, nil
}

// CreateSyncEvent records a new event and its first stage, in tx. An event
// that exists already (the same event delivered twice) is ErrExists.
func (s *Store) CreateSyncEvent(ctx context.Context, tx *sql.Tx, e SyncEvent, at time.Time) error {
	ts := formatTime(at)
	_, err := tx.ExecContext(ctx, `INSERT INTO sync_events (`+eventColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, '', NULL, ?)`,
		e.ConnectionID, e.ID, e.Direction, e.EntityID, e.Stage, e.Error, e.Payload, e.Result,
		e.LocalKey, e.LocalURL, e.RemoteKey, e.RemoteURL, ts, ts, e.RulesVersion)
	if isDuplicate(err) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("create sync event %s: %w", e.ID, err)
	}
	return s.logStage(ctx, tx, e.ConnectionID, e.ID, e.Stage, "", at)
}

// SyncEvent returns one event.
func (s *Store) SyncEvent(ctx context.Context, q Querier, connID, id string) (SyncEvent, error) {
	e, err := scanEvent(s.q(q).QueryRowContext(ctx, `SELECT `+eventColumns+` FROM sync_events
		WHERE connection_id = ? AND id = ?`, connID, id))
	if err != nil {
		return SyncEvent{}, fmt.Errorf("sync event %s: %w", id, err)
	}
	return e, nil
}

// UpdateSyncEvent writes an event's stage, error, retry time, result, keys
// and links, in tx, and logs the stage if it changed.
func (s *Store) UpdateSyncEvent(ctx context.Context, tx *sql.Tx, e SyncEvent, at time.Time) error {
	prev, err := s.SyncEvent(ctx, tx, e.ConnectionID, e.ID)
	if err != nil {
		return err
	}
	var next any
	if !e.NextRetryAt.IsZero() {
		next = formatTime(e.NextRetryAt)
	}
	if err := execOne(ctx, tx, `UPDATE sync_events SET entity_id = ?, stage = ?, error = ?, next_retry_at = ?,
		result = ?, local_key = ?, local_url = ?, remote_key = ?, remote_url = ?, updated_at = ?
		WHERE connection_id = ? AND id = ?`,
		e.EntityID, e.Stage, e.Error, next, e.Result, e.LocalKey, e.LocalURL, e.RemoteKey, e.RemoteURL,
		formatTime(at), e.ConnectionID, e.ID); err != nil {
		return fmt.Errorf("update sync event %s: %w", e.ID, err)
	}
	if prev.Stage != e.Stage || (e.Error != "" && prev.Error != e.Error) {
		return s.logStage(ctx, tx, e.ConnectionID, e.ID, e.Stage, e.Error, at)
	}
	return nil
}

func (s *Store) logStage(ctx context.Context, tx *sql.Tx, connID, eventID, stage, errText string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO stage_log (connection_id, event_id, stage, error, at) VALUES (?, ?, ?, ?, ?)`,
		connID, eventID, stage, errText, formatTime(at))
	if err != nil {
		return fmt.Errorf("log stage %s of event %s: %w", stage, eventID, err)
	}
	return nil
}

// StageEntry is one stage an event went through.
type StageEntry struct {
	Stage string
	Error string
	At    time.Time
}

// StageLog returns the stages an event went through, in order.
func (s *Store) StageLog(ctx context.Context, connID, eventID string) ([]StageEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT stage, error, at FROM stage_log
		WHERE connection_id = ? AND event_id = ? ORDER BY seq`, connID, eventID)
	if err != nil {
		return nil, fmt.Errorf("stages of event %s: %w", eventID, err)
	}
	defer rows.Close()
	var out []StageEntry
	for rows.Next() {
		var (
			e  StageEntry
			at string
		)
		if err := rows.Scan(&e.Stage, &e.Error, &at); err != nil {
			return nil, err
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// LatestEvent returns the newest event about a local entity on a
// connection.
func (s *Store) LatestEvent(ctx context.Context, connID, entityID string) (SyncEvent, error) {
	e, err := scanEvent(s.db.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM sync_events
		WHERE connection_id = ? AND entity_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1`, connID, entityID))
	if err != nil {
		return SyncEvent{}, fmt.Errorf("latest event of %s: %w", entityID, err)
	}
	return e, nil
}

// Querier is what reads run on: the pool (nil) or a transaction. Inside a
// transaction, reads must use it, since the pool has one connection.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// q picks the transaction when there is one.
func (s *Store) q(q Querier) Querier {
	if q == nil || q == Querier((*sql.Tx)(nil)) {
		return s.db
	}
	return q
}

// EventsAt returns a connection's unresolved events in one direction at
// one stage, oldest first (the outgoing events a deactivated connection
// queued).
func (s *Store) EventsAt(ctx context.Context, q Querier, connID, direction, stage string) ([]SyncEvent, error) {
	evs, err := s.events(ctx, q, `connection_id = ? AND direction = ? AND stage = ? AND resolved_at IS NULL`, connID, direction, stage)
	if err != nil {
		return nil, fmt.Errorf("events at %s on connection %s: %w", stage, connID, err)
	}
	return evs, nil
}

// events lists the events matching where, oldest first.
func (s *Store) events(ctx context.Context, q Querier, where string, args ...any) ([]SyncEvent, error) {
	rows, err := s.q(q).QueryContext(ctx, `SELECT `+eventColumns+` FROM sync_events WHERE `+where+` ORDER BY created_at, rowid`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SyncEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// DetectCursor returns where change detection on a connection goes on from
// and when it last looked; ErrNotFound before the first look.
func (s *Store) DetectCursor(ctx context.Context, connID string) (cursor string, checkedAt time.Time, err error) {
	var at string
	err = s.db.QueryRowContext(ctx, `SELECT cursor, checked_at FROM detect_cursors WHERE connection_id = ?`, connID).Scan(&cursor, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, ErrNotFound
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("detect cursor of connection %s: %w", connID, err)
	}
	checkedAt, err = parseTime(at)
	return cursor, checkedAt, err
}

// PutDetectCursor records where change detection goes on from.
func (s *Store) PutDetectCursor(ctx context.Context, connID, cursor string, checkedAt time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO detect_cursors (connection_id, cursor, checked_at) VALUES (?, ?, ?)
		ON CONFLICT (connection_id) DO UPDATE SET cursor = excluded.cursor, checked_at = excluded.checked_at`,
		connID, cursor, formatTime(checkedAt))
	if err != nil {
		return fmt.Errorf("put detect cursor of connection %s: %w", connID, err)
	}
	return nil
}

// OpenIncoming counts a local entity's incoming events on a connection
// that are not finished, but the event except.
func (s *Store) OpenIncoming(ctx context.Context, q Querier, connID, entityID, except string) (int, error) {
	var n int
	err := s.q(q).QueryRowContext(ctx, `SELECT count(*) FROM sync_events
		WHERE connection_id = ? AND entity_id = ? AND direction = 'in' AND id != ? AND `+openEvent,
		connID, entityID, except).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("open incoming events of %s: %w", entityID, err)
	}
	return n, nil
}

// UnfinishedEvents returns a local entity's outgoing events on a
// connection that are not Synchronized yet, oldest first; a resolved event
// is finished.
func (s *Store) UnfinishedEvents(ctx context.Context, connID, entityID string) ([]SyncEvent, error) {
	evs, err := s.events(ctx, nil, `connection_id = ? AND entity_id = ? AND direction = 'out' AND `+openEvent,
		connID, entityID)
	if err != nil {
		return nil, fmt.Errorf("unfinished events of %s: %w", entityID, err)
	}
	return evs, nil
}

// BeginWrite records that a tracker write for the other side's item is
// about to happen, and returns when an earlier attempt began, if one did
// (then that attempt may have written already).
func (s *Store) BeginWrite(ctx context.Context, connID, kind, remoteID, entityID string, now time.Time) (earlier time.Time, err error) {
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		begun, err := s.BeginWrites(ctx, tx, connID, kind, []string{remoteID}, entityID, now)
		earlier = begun[remoteID]
		return err
	})
	return earlier, err
}

// BeginWrites records, in tx, that tracker writes for several of the other
// side's items (of one kind, on one local entity) are about to happen, and
// returns for each the time an earlier attempt began it (zero when none
// did). Beginning a write early is safe: a pending write only means one may
// have been made, so a retry looks before it writes. It lets one commit
// cover the pending writes of a whole replica instead of one each.
func (s *Store) BeginWrites(ctx context.Context, tx *sql.Tx, connID, kind string, remoteIDs []string, entityID string, now time.Time) (map[string]time.Time, error) {
	begun := make(map[string]time.Time, len(remoteIDs))
	for _, remoteID := range remoteIDs {
		// Insert first: the usual case, no earlier attempt, is one
		// statement (one round trip on PostgreSQL) instead of a look
		// and an insert; only a conflict reads the earlier attempt's
		// time. tx holds the writer lock, so the row found is the one
		// that conflicted.
		res, err := tx.ExecContext(ctx, `INSERT INTO pending_writes (connection_id, kind, remote_id, entity_id, started_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (connection_id, kind, remote_id) DO NOTHING`,
			connID, kind, remoteID, entityID, formatTime(now))
		if err != nil {
			return nil, fmt.Errorf("begin %s write for %s: %w", kind, remoteID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, fmt.Errorf("begin %s write for %s: %w", kind, remoteID, err)
		}
		if n == 1 {
			begun[remoteID] = time.Time{}
			continue
		}
		var at string
		if err := tx.QueryRowContext(ctx, `SELECT started_at FROM pending_writes WHERE connection_id = ? AND kind = ? AND remote_id = ?`,
			connID, kind, remoteID).Scan(&at); err != nil {
			return nil, fmt.Errorf("begin %s write for %s: %w", kind, remoteID, err)
		}
		earlier, err := parseTime(at)
		if err != nil {
			return nil, fmt.Errorf("begin %s write for %s: %w", kind, remoteID, err)
		}
		begun[remoteID] = earlier
	}
	return begun, nil
}

// EndWrite forgets a pending write, in the transaction that records its
// result.
func (s *Store) EndWrite(ctx context.Context, tx *sql.Tx, connID, kind, remoteID string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM pending_writes WHERE connection_id = ? AND kind = ? AND remote_id = ?`,
		connID, kind, remoteID)
	return err
}

// PendingWrites counts the writes of one kind begun and not yet recorded
// on a connection, for one local entity ("" counts task creates).
func (s *Store) PendingWrites(ctx context.Context, connID, kind, entityID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pending_writes WHERE connection_id = ? AND kind = ? AND entity_id = ?`,
		connID, kind, entityID).Scan(&n)
	return n, err
}
