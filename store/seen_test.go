package store

import (
	"database/sql"
	"slices"
	"testing"
	"time"
)

// TestSeenTimes: PutSeen keeps each time once and the latest seenKept of
// a kind, leaving zero times out; ClearSeen forgets a kind.
func TestSeenTimes(t *testing.T) { onEngines(t, testSeenTimes) }

func testSeenTimes(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	if err := s.CreateConnection(ctx, nil, testConnection("c")); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	put := func(kind string, times ...time.Time) {
		t.Helper()
		if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.PutSeen(ctx, tx, "c", "l1", kind, times...) }); err != nil {
			t.Fatal(err)
		}
	}
	seen := func(kind string) []time.Time {
		t.Helper()
		got, err := s.Seen(ctx, "c", "l1", kind)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	put(SeenWrite, base.Add(2*time.Second), base, time.Time{}, base)
	put(SeenRead, base.Add(time.Nanosecond))
	if got := seen(SeenWrite); !slices.EqualFunc(got, []time.Time{base, base.Add(2 * time.Second)}, time.Time.Equal) {
		t.Fatalf("write times %v", got)
	}
	var many []time.Time
	for i := range seenKept + 3 {
		many = append(many, base.Add(time.Duration(i+10)*time.Second))
	}
	put(SeenWrite, many...)
	if got := seen(SeenWrite); len(got) != seenKept || !got[0].Equal(many[3]) || !got[len(got)-1].Equal(many[len(many)-1]) {
		t.Fatalf("after %d more: %d times, %v … %v", len(many), len(got), got[0], got[len(got)-1])
	}
	if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.ClearSeen(ctx, tx, "c", "l1", SeenWrite) }); err != nil {
		t.Fatal(err)
	}
	if got := seen(SeenWrite); len(got) != 0 {
		t.Fatalf("after clear: %v", got)
	}
	if got := seen(SeenRead); len(got) != 1 || !got[0].Equal(base.Add(time.Nanosecond)) {
		t.Fatalf("read times %v", got)
	}
}
