package store

import (
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestOpenEventsAndResolve: the open syncs are those neither
// Synchronized nor resolved, on one connection or all; resolving one
// takes it out of the queue, the failing count and an item's unfinished
// syncs, keeps its stage, and records the reason.
func TestOpenEventsAndResolve(t *testing.T) { onEngines(t, testOpenEventsAndResolve) }

func testOpenEventsAndResolve(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	for _, id := range []string{"a", "b"} {
		if err := s.CreateConnection(ctx, nil, testConnection(id)); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	addEvent(t, s, "a", "ev1", DirectionOut, base, time.Second, "", "preparing", "sending", "waiting", "finalizing", "synchronized")
	addEvent(t, s, "a", "ev2", DirectionOut, base.Add(time.Minute), time.Second, "peer down", "preparing", "sending", "sending")
	addEvent(t, s, "a", "ev3", DirectionIn, base.Add(2*time.Minute), time.Second, "", "waiting")
	addEvent(t, s, "b", "ev4", DirectionOut, base.Add(3*time.Minute), time.Second, "", "preparing", "sending")

	ids := func(evs []SyncEvent) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	open, err := s.OpenEvents(ctx, "")
	if err != nil || !slices.Equal(ids(open), []string{"ev2", "ev3", "ev4"}) {
		t.Fatalf("open syncs: %v %v, want ev2 ev3 ev4 oldest first", ids(open), err)
	}
	if open[0].Error != "peer down" || open[0].Stage != "sending" || open[0].Payload != nil {
		t.Errorf("an open sync reads %+v", open[0])
	}
	if open, _ := s.OpenEvents(ctx, "a"); !slices.Equal(ids(open), []string{"ev2", "ev3"}) {
		t.Errorf("open syncs on a: %v", ids(open))
	}
	if act, _ := s.Activity(ctx); act["a"].Open != 2 || act["b"].Open != 1 {
		t.Errorf("open counts: %+v", act)
	}

	at := base.Add(time.Hour)
	if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.ResolveEvent(ctx, tx, "a", "ev2", "the peer is gone", at) }); err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx *sql.Tx) error { return s.ResolveEvent(ctx, tx, "a", "ev2", "again", at) })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("resolving twice: %v, want ErrNotFound", err)
	}
	ev, err := s.SyncEvent(ctx, nil, "a", "ev2")
	if err != nil || ev.Resolution != "the peer is gone" || !ev.ResolvedAt.Equal(at) || ev.Stage != "sending" || ev.Error != "peer down" {
		t.Errorf("the resolved sync reads %+v, %v", ev, err)
	}
	if open, _ := s.OpenEvents(ctx, "a"); !slices.Equal(ids(open), []string{"ev3"}) {
		t.Errorf("open syncs on a after resolving ev2: %v", ids(open))
	}
	if act, _ := s.Activity(ctx); act["a"].Open != 1 {
		t.Errorf("open count after resolving: %d", act["a"].Open)
	}
	if c, _ := s.EventCounts(ctx, "a"); c.Failing != 0 {
		t.Errorf("a resolved sync still counts as failing: %+v", c)
	}
	if un, _ := s.UnfinishedEvents(ctx, "a", "e-ev2"); len(un) != 0 {
		t.Errorf("a resolved sync is still unfinished: %v", ids(un))
	}
	if q, _ := s.EventsAt(ctx, nil, "a", DirectionOut, "sending"); len(q) != 0 {
		t.Errorf("a resolved sync would be replayed on activation: %v", ids(q))
	}
}

// TestFindEvents: an event by its whole id or the start of it, on one
// connection or any.
func TestFindEvents(t *testing.T) { onEngines(t, testFindEvents) }

func testFindEvents(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	for _, id := range []string{"a", "b"} {
		if err := s.CreateConnection(ctx, nil, testConnection(id)); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	addEvent(t, s, "a", "abc123", DirectionOut, base, time.Second, "", "preparing", "sending")
	addEvent(t, s, "b", "abc456", DirectionOut, base, time.Second, "", "preparing", "sending")
	addEvent(t, s, "b", "a%c789", DirectionOut, base, time.Second, "", "preparing", "sending")
	for _, tc := range []struct {
		conn, id string
		want     int
	}{{"", "abc", 2}, {"a", "abc", 1}, {"", "abc456", 1}, {"", "abd", 0}, {"", "a%c", 1}, {"", "a_c", 0}} {
		got, err := s.FindEvents(ctx, tc.conn, tc.id, 5)
		if err != nil || len(got) != tc.want {
			t.Errorf("FindEvents(%q, %q) = %d events, %v; want %d", tc.conn, tc.id, len(got), err, tc.want)
		}
	}
}
