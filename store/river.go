package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// River's defaults (100 ms cooldown, 1 s poll) would add up to a second to
// every sync step; on one local file, polling is cheap.
const (
	riverFetchCooldown     = 20 * time.Millisecond
	riverFetchPollInterval = 50 * time.Millisecond
)

// NewRiverClient builds a River client on this database with the store's
// River driver (riversqlite, or riverdatabasesql on PostgreSQL). cfg
// supplies workers, queues and anything else; it is copied, not changed.
// Where cfg leaves them zero, FetchCooldown and FetchPollInterval are set
// low (River's defaults poll slowly) and the logger discards (River's
// default writes to stdout, and the store never prints). The client polls
// only (PollOnly): on SQLite, River's notifier is a table that every
// inserting transaction writes a row to and a listener polls every 50 ms,
// to wake a producer that polls the jobs at FetchPollInterval anyway, in
// the same process; it cost 3% of the engine's CPU and started nothing
// sooner. On PostgreSQL too, for now: the driver could LISTEN (the store
// keeps a pgx pool for it), which starts a job the moment its transaction
// commits. The engine, run so on PostgreSQL in a test, once published a
// sync's stage events out of order (after commit, from the goroutines of
// successive jobs); it now publishes them as the database relays them, in
// commit order (engine/stagenotes.go), so clearing PollOnly on PostgreSQL
// is all it would take. Measured (LISTEN with River's 1 s fallback poll):
// an idle `tandem serve` on PostgreSQL made 5 transactions a second
// instead of 22, but the engine's PostgreSQL tests ran 56 s instead of 49
// s, most single tests 0.3-1.3 s slower; not taken. A nil cfg gives an insert-only
// client. Callers Start and Stop it, and stop it before Close.
//
// Jobs inserted with InsertTx inside InTx commit or roll back with the rest of
// the transaction; a worker sees its job only after commit.
func (s *Store) NewRiverClient(cfg *river.Config) (*river.Client[*sql.Tx], error) {
	var c river.Config
	if cfg != nil {
		c = *cfg
	}
	if c.FetchCooldown == 0 {
		c.FetchCooldown = riverFetchCooldown
	}
	if c.FetchPollInterval == 0 {
		c.FetchPollInterval = max(riverFetchPollInterval, c.FetchCooldown)
	}
	c.PollOnly = true
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	client, err := river.NewClient(s.riverDriver(), &c)
	if err != nil {
		return nil, fmt.Errorf("river client on %s: %w", s.path, err)
	}
	return client, nil
}

// RequeueInterrupted makes the jobs a process left marked running (it was
// killed, crashed or gave up waiting for them on stop) available again,
// and returns how many there were. River would rescue them only after
// RescueStuckJobsAfter, an hour with the node's job timeout, and the syncs
// would stall that long without an error to show. One process works a
// SQLite file, so at its start a running job is certainly orphaned. Call
// it before the River client starts, and only where the database is not
// Shared: on PostgreSQL a running job may be another replica's, at work.
func (s *Store) RequeueInterrupted(ctx context.Context) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`)
	if err != nil {
		return 0, fmt.Errorf("requeue interrupted jobs in %s: %w", s.path, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
