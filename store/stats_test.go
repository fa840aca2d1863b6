package store

import (
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"
)

// addEvent stores an event that went through stages, one per step after
// start, the last with errText (if any).
func addEvent(t *testing.T, s *Store, connID, id, direction string, start time.Time, step time.Duration, errText string, stages ...string) {
	t.Helper()
	ctx := t.Context()
	at := start
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		e := SyncEvent{ConnectionID: connID, ID: id, Direction: direction, EntityID: "e-" + id, Stage: stages[0]}
		if err := s.CreateSyncEvent(ctx, tx, e, at); err != nil {
			return err
		}
		for i, st := range stages[1:] {
			at = at.Add(step)
			e.Stage = st
			if i == len(stages)-2 {
				e.Error = errText
			}
			if err := s.UpdateSyncEvent(ctx, tx, e, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("event %s: %v", id, err)
	}
}

func TestActivityCountsAndRecentEvents(t *testing.T) { onEngines(t, testActivityCountsAndRecentEvents) }

func testActivityCountsAndRecentEvents(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	for _, id := range []string{"a", "b"} {
		if err := s.CreateConnection(ctx, nil, testConnection(id)); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	addEvent(t, s, "a", "ev1", DirectionOut, base, time.Second, "", "preparing", "sending", "waiting", "finalizing", "synchronized")
	addEvent(t, s, "a", "ev2", DirectionIn, base.Add(time.Minute), time.Second, "", "waiting", "finalizing", "synchronized")
	addEvent(t, s, "a", "ev3", DirectionOut, base.Add(2*time.Minute), time.Second, "peer down", "preparing", "sending", "sending")
	addEvent(t, s, "a", "ev4", DirectionOut, base.Add(3*time.Minute), time.Second, "", "preparing", "sending")
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		for i, tw := range []Twin{{LocalID: "x"}, {LocalID: "y"}, {LocalID: "z", RemoteDeleted: true}} {
			tw.ConnectionID, tw.RemoteID = "a", "r"+string(rune('0'+i))
			if err := s.PutTwin(ctx, tx, tw); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	all, err := s.Activity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantLast := base.Add(time.Minute + 2*time.Second) // ev2 reached synchronized last
	if got := all["a"]; got.SyncedItems != 2 || !got.LastSync.Equal(wantLast) {
		t.Errorf("activity of a: %+v, want 2 items (the deleted twin not counted) and last sync %v", got, wantLast)
	}
	if got, ok := all["b"]; !ok || got.SyncedItems != 0 || !got.LastSync.IsZero() {
		t.Errorf("activity of b (nothing synced): %+v, listed %v", got, ok)
	}
	if one, err := s.ConnectionActivity(ctx, "a"); err != nil || one != all["a"] {
		t.Errorf("ConnectionActivity(a) = %+v, %v; the list says %+v", one, err, all["a"])
	}
	if _, err := s.ConnectionActivity(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ConnectionActivity(nope): err = %v, want ErrNotFound", err)
	}

	counts, err := s.EventCounts(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if want := (EventCounts{Out: 3, In: 1, Synchronized: 2, Failing: 1}); counts != want {
		t.Errorf("EventCounts(a) = %+v, want %+v", counts, want)
	}
	if counts, err := s.EventCounts(ctx, "b"); err != nil || counts != (EventCounts{}) {
		t.Errorf("EventCounts(b) = %+v, %v", counts, err)
	}

	recent, err := s.RecentEvents(ctx, "a", 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range recent {
		ids = append(ids, e.ID)
	}
	if want := []string{"ev4", "ev3", "ev2"}; !slices.Equal(ids, want) {
		t.Errorf("RecentEvents(a, 3) = %v, want %v", ids, want)
	}
	if recent[1].Error != "peer down" || recent[1].Stage != "sending" {
		t.Errorf("the failing event reads back as %+v", recent[1])
	}

	marks, err := s.StageMarks(ctx, "a", 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range marks {
		got = append(got, m.EventID+":"+m.Stage)
	}
	// The two latest events only, each in order; ev3's failure logged its
	// stage a second time.
	if want := []string{"ev3:preparing", "ev3:sending", "ev3:sending", "ev4:preparing", "ev4:sending"}; !slices.Equal(got, want) {
		t.Errorf("StageMarks(a, 2) = %v, want %v", got, want)
	}
}
