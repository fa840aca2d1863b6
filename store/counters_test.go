package store

import (
	"context"
	"database/sql"
	"maps"
	"testing"
	"time"
)

// checkCounters fails the test unless the kept counters equal a full
// recount of the history.
func checkCounters(t *testing.T, s *Store, when string) {
	t.Helper()
	ctx := t.Context()
	kept, full, err := s.CountersAndRecount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(kept, full, func(a, b Counters) bool {
		return a.SyncedItems == b.SyncedItems && a.LastSync.Equal(b.LastSync) && a.Open == b.Open && a.EventCounts == b.EventCounts
	}) {
		t.Errorf("%s: kept counters %+v, a full recount %+v", when, kept, full)
	}
}

// mixedHistory writes, through the store's own operations, a bit of
// everything that moves a counter on connections a and b.
func mixedHistory(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	for _, id := range []string{"a", "b", "gone"} {
		if err := s.CreateConnection(ctx, nil, testConnection(id)); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	addEvent(t, s, "a", "ev1", DirectionOut, base, time.Second, "", "preparing", "sending", "waiting", "finalizing", "synchronized")
	addEvent(t, s, "a", "ev2", DirectionIn, base.Add(time.Minute), time.Second, "", "waiting", "finalizing", "synchronized")
	addEvent(t, s, "a", "ev3", DirectionOut, base.Add(2*time.Minute), time.Second, "peer down", "preparing", "sending", "sending")
	addEvent(t, s, "a", "ev4", DirectionOut, base.Add(3*time.Minute), time.Second, "", "preparing", "sending")
	addEvent(t, s, "b", "ev5", DirectionIn, base, time.Second, "bad replica", "waiting", "waiting")
	addEvent(t, s, "gone", "ev6", DirectionOut, base, time.Second, "", "preparing", "synchronized")
	checkCounters(t, s, "after the events")

	err := s.InTx(ctx, func(tx *sql.Tx) error {
		for i, tw := range []Twin{{LocalID: "x"}, {LocalID: "y"}, {LocalID: "z", RemoteDeleted: true}} {
			tw.ConnectionID, tw.RemoteID = "a", "r"+string(rune('0'+i))
			if err := s.PutTwin(ctx, tx, tw); err != nil {
				return err
			}
		}
		for _, id := range []string{"b", "gone"} {
			if err := s.PutTwin(ctx, tx, Twin{ConnectionID: id, LocalID: "w", RemoteID: "rw"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkCounters(t, s, "after the twins")

	err = s.InTx(ctx, func(tx *sql.Tx) error {
		// y's twin is deleted over there; z's comes back; x is unlinked.
		if err := s.PutTwin(ctx, tx, Twin{ConnectionID: "a", LocalID: "y", RemoteID: "r1", RemoteDeleted: true}); err != nil {
			return err
		}
		if err := s.PutTwin(ctx, tx, Twin{ConnectionID: "a", LocalID: "z", RemoteID: "r2"}); err != nil {
			return err
		}
		if err := s.Unlink(ctx, tx, "a", "x", "R-0", base); err != nil {
			return err
		}
		// The failing sync is resolved; b's failing one retried into success.
		if err := s.ResolveEvent(ctx, tx, "a", "ev3", "skipped", base.Add(time.Hour)); err != nil {
			return err
		}
		return s.UpdateSyncEvent(ctx, tx, SyncEvent{ConnectionID: "b", ID: "ev5", Direction: DirectionIn, Stage: "synchronized"},
			base.Add(2*time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConnection(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	checkCounters(t, s, "after deletes, a resolve, an unlink")
}

func TestCountersMatchRecount(t *testing.T) { onEngines(t, testCountersMatchRecount) }

func testCountersMatchRecount(t *testing.T, e testEngine) {
	s := e.open(t)
	mixedHistory(t, s)
	c, err := s.Counters(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Pinned as well as compared: a recount that went wrong the same way
	// would not catch it.
	want := map[string]Counters{
		"a": {Activity{SyncedItems: 1, LastSync: time.Date(2026, 3, 1, 12, 1, 2, 0, time.UTC), Open: 1},
			EventCounts{Out: 3, In: 1, Synchronized: 2}},
		"b": {Activity{SyncedItems: 1, LastSync: time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)},
			EventCounts{In: 1, Synchronized: 1}},
	}
	if len(c) != len(want) || c["a"] != want["a"] || c["b"] != want["b"] {
		t.Errorf("counters %+v, want %+v", c, want)
	}
}

// TestCountersBackfilled: a node whose history predates the counters
// (migration 0009) gets them counted when it opens.
func TestCountersBackfilled(t *testing.T) { onEngines(t, testCountersBackfilled) }

func testCountersBackfilled(t *testing.T, e testEngine) {
	ctx := t.Context()
	path := e.spec(t)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mixedHistory(t, s)
	// Back to before 0009, the history kept.
	if err := dropCounters(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM connection_counters`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d rows of counters (%v), want 2", n, err)
	}
	checkCounters(t, s, "after the backfill")
}

// dropCounters undoes migration 0009.
func dropCounters(ctx context.Context, s *Store) error {
	db := s.db
	if s.dialect.postgres() {
		// The triggers go with their functions.
		_, err := db.ExecContext(ctx, `DROP FUNCTION connection_counters_new, connection_counters_twin,
				connection_counters_event, connection_counters_synchronized CASCADE;
			DROP TABLE connection_counters; DROP INDEX sync_events_updated;
			DELETE FROM schema_migrations WHERE version = 9`)
		return err
	}
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'connection_counters%'`)
	if err != nil {
		return err
	}
	var triggers []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		triggers = append(triggers, name)
	}
	rows.Close()
	for _, name := range triggers {
		if _, err := db.ExecContext(ctx, `DROP TRIGGER `+name); err != nil {
			return err
		}
	}
	for _, q := range []string{`DROP TABLE connection_counters`, `DROP INDEX sync_events_updated`,
		`DELETE FROM schema_migrations WHERE version = 9`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
