package store

import (
	"database/sql"
	"testing"
	"time"
)

// TestBeginWrites: the pending writes begun together are new (zero
// earlier times) the first time and carry the first attempt's time on
// the next; BeginWrite agrees with them; EndWrite forgets one, and only
// that one stops counting.
func TestBeginWrites(t *testing.T) { onEngines(t, testBeginWrites) }

func testBeginWrites(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	if err := s.CreateConnection(ctx, nil, testConnection("c")); err != nil {
		t.Fatal(err)
	}
	first := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	begin := func(at time.Time, ids ...string) map[string]time.Time {
		t.Helper()
		var begun map[string]time.Time
		if err := s.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			begun, err = s.BeginWrites(ctx, tx, "c", LinkComment, ids, "l1", at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return begun
	}
	got := begin(first, "r1", "r2")
	if len(got) != 2 || !got["r1"].IsZero() || !got["r2"].IsZero() {
		t.Fatalf("first begin: %v, want r1 and r2 new", got)
	}
	got = begin(first.Add(time.Minute), "r2", "r3")
	if len(got) != 2 || !got["r2"].Equal(first) || !got["r3"].IsZero() {
		t.Fatalf("second begin: %v, want r2 begun at %v and r3 new", got, first)
	}
	if earlier, err := s.BeginWrite(ctx, "c", LinkComment, "r1", "l1", first.Add(time.Hour)); err != nil || !earlier.Equal(first) {
		t.Fatalf("BeginWrite of r1: %v %v, want %v", earlier, err, first)
	}
	if n, err := s.PendingWrites(ctx, "c", LinkComment, "l1"); err != nil || n != 3 {
		t.Fatalf("%d pending writes (%v), want 3", n, err)
	}
	if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.EndWrite(ctx, tx, "c", LinkComment, "r2") }); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PendingWrites(ctx, "c", LinkComment, "l1"); err != nil || n != 2 {
		t.Fatalf("%d pending writes after ending r2 (%v), want 2", n, err)
	}
	if got := begin(first.Add(2*time.Hour), "r2"); !got["r2"].IsZero() {
		t.Fatalf("r2 begun again after its end: %v, want new", got)
	}
}
