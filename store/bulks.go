package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The states of a Bulk Exalate (bulks.state).
const (
	BulkListing = "listing" // its items are being listed and their syncs started
	BulkListed  = "listed"  // every item has its sync
	BulkFailed  = "failed"  // the listing failed for good; Error says why
)

// Bulk is one Bulk Exalate of a connection: durable, so that any replica
// may run it and a run cut short resumes past the items it started
// (BulkItems).
type Bulk struct {
	ConnectionID string
	ID           string
	State        string
	// Error is the last try's error while listing; why it failed.
	Error string
	// JobID is the River job that runs it (0 until set: SetBulkJob).
	JobID      int64
	CreatedAt  time.Time
	FinishedAt time.Time // zero while listing
}

// BulkCounts sums up a bulk's syncs: Started items, of which Synchronized
// (or resolved) and Failing (waiting to retry after an error).
type BulkCounts struct {
	Started, Synchronized, Failing int
}

// CreateBulk records a new bulk, listing, in tx.
func (s *Store) CreateBulk(ctx context.Context, tx *sql.Tx, b Bulk) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO bulks (connection_id, id, state, error, created_at) VALUES (?, ?, ?, '', ?)`,
		b.ConnectionID, b.ID, BulkListing, formatTime(b.CreatedAt))
	if err != nil {
		return fmt.Errorf("create bulk %s: %w", b.ID, err)
	}
	return nil
}

const bulkColumns = `connection_id, id, state, error, job_id, created_at, finished_at`

func scanBulk(row interface{ Scan(...any) error }) (Bulk, error) {
	var (
		b        Bulk
		created  string
		finished sql.NullString
	)
	if err := row.Scan(&b.ConnectionID, &b.ID, &b.State, &b.Error, &b.JobID, &created, &finished); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Bulk{}, ErrNotFound
		}
		return Bulk{}, err
	}
	var err error
	if b.CreatedAt, err = parseTime(created); err != nil {
		return Bulk{}, err
	}
	if finished.Valid {
		if b.FinishedAt, err = parseTime(finished.String); err != nil {
			return Bulk{}, err
		}
	}
	return b, nil
}

// GetBulk returns one bulk; ErrNotFound if the connection has none by id.
func (s *Store) GetBulk(ctx context.Context, q Querier, connID, id string) (Bulk, error) {
	b, err := scanBulk(s.q(q).QueryRowContext(ctx, `SELECT `+bulkColumns+` FROM bulks WHERE connection_id = ? AND id = ?`, connID, id))
	if err != nil {
		return Bulk{}, fmt.Errorf("bulk %s: %w", id, err)
	}
	return b, nil
}

// ListingBulk returns the connection's bulk still listing, the oldest if
// several; ErrNotFound when none is.
func (s *Store) ListingBulk(ctx context.Context, q Querier, connID string) (Bulk, error) {
	b, err := scanBulk(s.q(q).QueryRowContext(ctx, `SELECT `+bulkColumns+` FROM bulks
		WHERE connection_id = ? AND state = ? ORDER BY created_at LIMIT 1`, connID, BulkListing))
	if err != nil {
		return Bulk{}, fmt.Errorf("a listing bulk of %s: %w", connID, err)
	}
	return b, nil
}

// LatestBulk returns the connection's newest bulk; ErrNotFound when it
// has none.
func (s *Store) LatestBulk(ctx context.Context, q Querier, connID string) (Bulk, error) {
	b, err := scanBulk(s.q(q).QueryRowContext(ctx, `SELECT `+bulkColumns+` FROM bulks
		WHERE connection_id = ? ORDER BY created_at DESC, id LIMIT 1`, connID))
	if err != nil {
		return Bulk{}, fmt.Errorf("the latest bulk of %s: %w", connID, err)
	}
	return b, nil
}

// ReopenBulk makes a failed bulk listing again, in tx, with the items it
// started kept: its next run resumes past them.
func (s *Store) ReopenBulk(ctx context.Context, tx *sql.Tx, connID, id string) error {
	_, err := tx.ExecContext(ctx, `UPDATE bulks SET state = ?, error = '', finished_at = NULL WHERE connection_id = ? AND id = ?`,
		BulkListing, connID, id)
	if err != nil {
		return fmt.Errorf("reopening bulk %s: %w", id, err)
	}
	return nil
}

// SetBulkJob records, in tx, the River job that runs a bulk.
func (s *Store) SetBulkJob(ctx context.Context, tx *sql.Tx, connID, id string, jobID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE bulks SET job_id = ? WHERE connection_id = ? AND id = ?`, jobID, connID, id)
	if err != nil {
		return fmt.Errorf("recording bulk %s's job: %w", id, err)
	}
	return nil
}

// SetBulkError records the last try's error of a bulk still listing.
func (s *Store) SetBulkError(ctx context.Context, connID, id, msg string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE bulks SET error = ? WHERE connection_id = ? AND id = ? AND state = ?`,
		msg, connID, id, BulkListing)
	return err
}

// FinishBulk ends a bulk's listing: state BulkListed, or BulkFailed with
// msg saying why.
func (s *Store) FinishBulk(ctx context.Context, connID, id, state, msg string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE bulks SET state = ?, error = ?, finished_at = ? WHERE connection_id = ? AND id = ?`,
		state, msg, formatTime(at), connID, id)
	if err != nil {
		return fmt.Errorf("finishing bulk %s: %w", id, err)
	}
	return nil
}

// AddBulkItem records, in tx (the one storing the sync), that a bulk
// started eventID, the sync of entityID, as its seq-th item; listedAt is
// the entity's modification time in the listing (zero: none).
func (s *Store) AddBulkItem(ctx context.Context, tx *sql.Tx, connID, bulkID, entityID, eventID string, seq int, listedAt time.Time) error {
	at := ""
	if !listedAt.IsZero() {
		at = formatTime(listedAt)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO bulk_items (connection_id, bulk_id, entity_id, seq, event_id, listed_at) VALUES (?, ?, ?, ?, ?, ?)`,
		connID, bulkID, entityID, seq, eventID, at)
	if isDuplicate(err) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("recording %s in bulk %s: %w", entityID, bulkID, err)
	}
	return nil
}

// BulkEntities are the entities a bulk has started a sync of, each with
// its modification time in the listing (zero: none recorded).
func (s *Store) BulkEntities(ctx context.Context, connID, bulkID string) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT entity_id, listed_at FROM bulk_items WHERE connection_id = ? AND bulk_id = ?`, connID, bulkID)
	if err != nil {
		return nil, fmt.Errorf("bulk %s's items: %w", bulkID, err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id, at string
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		var t time.Time
		if at != "" {
			if t, err = parseTime(at); err != nil {
				return nil, err
			}
		}
		out[id] = t
	}
	return out, rows.Err()
}

// CountBulk sums up the syncs a bulk started.
func (s *Store) CountBulk(ctx context.Context, connID, bulkID string) (BulkCounts, error) {
	var c BulkCounts
	err := s.db.QueryRowContext(ctx, `SELECT count(*),
			count(CASE WHEN e.stage = 'synchronized' OR e.resolved_at IS NOT NULL THEN 1 END),
			count(CASE WHEN e.stage != 'synchronized' AND e.resolved_at IS NULL AND e.error != '' THEN 1 END)
		FROM bulk_items b JOIN sync_events e ON e.connection_id = b.connection_id AND e.id = b.event_id
		WHERE b.connection_id = ? AND b.bulk_id = ?`, connID, bulkID).Scan(&c.Started, &c.Synchronized, &c.Failing)
	if err != nil {
		return BulkCounts{}, fmt.Errorf("counting bulk %s: %w", bulkID, err)
	}
	return c, nil
}

// BulkEvents returns the syncs of a bulk's first limit items, in the
// order it started them.
func (s *Store) BulkEvents(ctx context.Context, connID, bulkID string, limit int) ([]SyncEvent, error) {
	return s.events(ctx, nil, `connection_id = ? AND id IN (SELECT event_id FROM bulk_items
		WHERE connection_id = ? AND bulk_id = ? ORDER BY seq LIMIT ?)`, connID, connID, bulkID, limit)
}
