package store

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/store/pgtest"
)

// ScaleEnv, set to 1, runs TestStatsAt100kOnPostgres (about a minute and
// a half of seeding on a loaded machine):
//
//	.ci/postgres env TANDEM_TEST_SCALE=1 go test -run TestStatsAt100kOnPostgres -v ./store
const ScaleEnv = "TANDEM_TEST_SCALE"

// TestStatsAt100kOnPostgres: with 100,000 synced events of history
// (500,000 stage_log rows) on PostgreSQL, the statistics' stage window is
// read through the stage_log_event index, one lookup per event of the
// window, not by a scan of the connection's whole stage log (what the
// planner picks for a few thousand rows, and what would make the
// statistics O(history)); it logs the plan and the medians of the reads
// the connections list and the statistics make.
func TestStatsAt100kOnPostgres(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.SkipMessage)
	}
	if os.Getenv(ScaleEnv) != "1" {
		t.Skip(ScaleEnv + "=1 runs it (a minute or two of seeding)")
	}
	const n = 100_000
	s := testEngines[1].open(t)
	ctx := t.Context()
	for _, id := range []string{"busy", "quiet"} {
		if err := s.CreateConnection(ctx, nil, testConnection(id)); err != nil {
			t.Fatal(err)
		}
	}
	// Seeded in the server (seedHistory's rows, made by generate_series)
	// with triggers and foreign keys off, then the counters computed the
	// way migration 0009 backfills them.
	start := time.Now()
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const ts = `to_char(timestamp '2026-01-01' + i * interval '1 second'%s, 'YYYY-MM-DD"T"HH24:MI:SS.US000"Z"')`
	at := func(extra string) string { return strings.Replace(ts, "%s", extra, 1) }
	for _, q := range []string{
		"SET session_replication_role = replica",
		`INSERT INTO twins (connection_id, local_id, remote_id, created_at, updated_at)
			SELECT 'busy', 'item'||i, 'ritem'||i, ` + at("") + `, ` + at("") + ` FROM generate_series(0, ?::int - 1) i`,
		`INSERT INTO sync_events (connection_id, id, direction, entity_id, stage, created_at, updated_at)
			SELECT 'busy', 'ev'||i, 'out', 'item'||i, CASE WHEN i % 100 = 0 THEN 'sending' ELSE 'synchronized' END,
				` + at("") + `, ` + at(" + interval '4 milliseconds'") + ` FROM generate_series(0, ?::int - 1) i`,
		`INSERT INTO stage_log (connection_id, event_id, stage, at)
			SELECT 'busy', 'ev'||i, st, ` + at(" + j * interval '1 millisecond'") + `
			FROM generate_series(0, ?::int - 1) i,
				unnest(array['preparing','sending','waiting','finalizing','synchronized']) WITH ORDINALITY AS u(st, j)
			ORDER BY i, j`,
		"SET session_replication_role = origin",
		"DELETE FROM connection_counters",
		"INSERT INTO connection_counters (connection_id, synced_items, last_sync, open, events_out, events_in, synchronized, failing) " + recountQuery,
		"ANALYZE",
	} {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, n)
		}
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("seeding: %v\n%s", err, q)
		}
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d events in %v", n, time.Since(start).Round(time.Millisecond))

	rows, err := s.DB().QueryContext(ctx, `EXPLAIN ANALYZE SELECT l.event_id, l.stage, l.at FROM stage_log l
		WHERE l.connection_id = ? AND l.event_id IN (SELECT id FROM sync_events WHERE connection_id = ?
			ORDER BY updated_at DESC, rowid DESC LIMIT ?)
		ORDER BY l.event_id, l.seq`, "busy", "busy", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(plan, "\n")
	t.Logf("StageMarks' plan:\n%s", got)
	if !strings.Contains(got, "stage_log_event on stage_log") || strings.Contains(got, "Seq Scan on stage_log") {
		t.Errorf("the stage window is not read through stage_log_event")
	}

	for _, r := range []struct {
		name string
		read func() error
	}{
		{"connections list (Activity)", func() error { _, err := s.Activity(ctx); return err }},
		{"statistics: ConnectionActivity", func() error { _, err := s.ConnectionActivity(ctx, "busy"); return err }},
		{"statistics: EventCounts", func() error { _, err := s.EventCounts(ctx, "busy"); return err }},
		{"statistics: StageMarks (1,000 events)", func() error { _, err := s.StageMarks(ctx, "busy", 1000); return err }},
	} {
		var ds []time.Duration
		for range 21 {
			t0 := time.Now()
			if err := r.read(); err != nil {
				t.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		t.Logf("%s: median %v of 21 (min %v, max %v)", r.name, ds[10].Round(time.Microsecond), ds[0].Round(time.Microsecond), ds[20].Round(time.Microsecond))
	}
}
