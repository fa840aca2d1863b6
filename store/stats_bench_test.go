package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// seedHistory gives connection connID n twins and n synchronized outgoing
// events of five stages each, written straight in SQL, 1,000 events a
// transaction (the way a long-lived node's history looks, made fast). Not
// all in one: on PostgreSQL every row's trigger updates the connection's
// one counters row, and one transaction updating a row 100,000 times
// walks an ever longer chain of its versions (quadratic: the 100,000-event
// seed did not finish in minutes).
func seedHistory(ctx context.Context, s *Store, connID string, n int) error {
	const chunk = 1000
	for from := 0; from < n; from += chunk {
		if err := seedHistoryRange(ctx, s, connID, from, min(from+chunk, n)); err != nil {
			return err
		}
	}
	return nil
}

func seedHistoryRange(ctx context.Context, s *Store, connID string, from, to int) error {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return s.InTx(ctx, func(tx *sql.Tx) error {
		twin, err := tx.PrepareContext(ctx, `INSERT INTO twins (connection_id, local_id, remote_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer twin.Close()
		ev, err := tx.PrepareContext(ctx, `INSERT INTO sync_events (connection_id, id, direction, entity_id, stage, created_at, updated_at)
			VALUES (?, ?, 'out', ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ev.Close()
		mark, err := tx.PrepareContext(ctx, `INSERT INTO stage_log (connection_id, event_id, stage, at) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer mark.Close()
		for i := from; i < to; i++ {
			at := base.Add(time.Duration(i) * time.Second)
			id, item := fmt.Sprintf("ev%d", i), fmt.Sprintf("item%d", i)
			if _, err := twin.ExecContext(ctx, connID, item, "r"+item, formatTime(at), formatTime(at)); err != nil {
				return err
			}
			stage := "synchronized"
			if i%100 == 0 { // a few left open
				stage = "sending"
			}
			if _, err := ev.ExecContext(ctx, connID, id, item, stage, formatTime(at), formatTime(at.Add(4*time.Millisecond))); err != nil {
				return err
			}
			for j, st := range []string{"preparing", "sending", "waiting", "finalizing", "synchronized"} {
				if _, err := mark.ExecContext(ctx, connID, id, st, formatTime(at.Add(time.Duration(j)*time.Millisecond))); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// BenchmarkConnectionsAndStats times what the connections list and a
// connection's statistics read from the store, with histories of
// different lengths: with counters kept as syncs happen, the time stays
// flat as the history grows.
func BenchmarkConnectionsAndStats(b *testing.B) {
	for _, e := range testEngines {
		b.Run(e.name, func(b *testing.B) { benchmarkConnectionsAndStats(b, e) })
	}
}

func benchmarkConnectionsAndStats(b *testing.B, e testEngine) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("history=%d", n), func(b *testing.B) {
			ctx := b.Context()
			s, err := Open(ctx, e.spec(b))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for _, id := range []string{"busy", "quiet"} {
				if err := s.CreateConnection(ctx, nil, testConnection(id)); err != nil {
					b.Fatal(err)
				}
			}
			if err := seedHistory(ctx, s, "busy", n); err != nil {
				b.Fatal(err)
			}
			if s.dialect.postgres() {
				// What autovacuum does on a node soon after such a
				// burst of writes: without it the planner plans for the
				// empty tables the template had.
				if _, err := s.db.ExecContext(ctx, "ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			b.Run("list", func(b *testing.B) {
				for b.Loop() {
					a, err := s.Activity(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if a["busy"].SyncedItems != n {
						b.Fatalf("synced items %d, want %d", a["busy"].SyncedItems, n)
					}
				}
			})
			b.Run("stats", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.ConnectionActivity(ctx, "busy"); err != nil {
						b.Fatal(err)
					}
					if _, err := s.EventCounts(ctx, "busy"); err != nil {
						b.Fatal(err)
					}
					if _, err := s.StageMarks(ctx, "busy", 1000); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
