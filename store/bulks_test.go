package store

import (
	"database/sql"
	"errors"
	"testing"
	"time"
)

func TestBulks(t *testing.T) { onEngines(t, testBulks) }

// testBulks: a bulk records the items it started with their syncs, once
// each; its counts follow the syncs' stages; a failed bulk reopens with
// its items; deleting the connection deletes its bulks.
func testBulks(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	if err := s.CreateConnection(ctx, nil, testConnection("c")); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if _, err := s.ListingBulk(ctx, nil, "c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a listing bulk before any: %v, want ErrNotFound", err)
	}
	b := Bulk{ConnectionID: "c", ID: "b1", CreatedAt: at}
	if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.CreateBulk(ctx, tx, b) }); err != nil {
		t.Fatal(err)
	}
	// Three items, each with its sync, in one transaction as the engine
	// stores them; the second is done, the third failing.
	for i, id := range []string{"e1", "e2", "e3"} {
		ev := SyncEvent{ConnectionID: "c", ID: "ev-" + id, Direction: DirectionOut, EntityID: id, Stage: "sending"}
		err := s.InTx(ctx, func(tx *sql.Tx) error {
			if err := s.CreateSyncEvent(ctx, tx, ev, at); err != nil {
				return err
			}
			return s.AddBulkItem(ctx, tx, "c", "b1", id, ev.ID, i, at.Add(time.Duration(i)*time.Second))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.AddBulkItem(ctx, tx, "c", "b1", "e1", "ev-again", 3, time.Time{}) }); !errors.Is(err, ErrExists) {
		t.Fatalf("a second sync of e1 in the bulk: %v, want ErrExists", err)
	}
	for id, ev := range map[string]SyncEvent{
		"e2": {ConnectionID: "c", ID: "ev-e2", Direction: DirectionOut, EntityID: "e2", Stage: "synchronized"},
		"e3": {ConnectionID: "c", ID: "ev-e3", Direction: DirectionOut, EntityID: "e3", Stage: "sending", Error: "peer down"},
	} {
		if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.UpdateSyncEvent(ctx, tx, ev, at) }); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	if got, err := s.CountBulk(ctx, "c", "b1"); err != nil || got != (BulkCounts{Started: 3, Synchronized: 1, Failing: 1}) {
		t.Errorf("counts: %+v, %v", got, err)
	}
	if got, err := s.BulkEntities(ctx, "c", "b1"); err != nil || len(got) != 3 || !got["e1"].Equal(at) || !got["e3"].Equal(at.Add(2*time.Second)) {
		t.Errorf("entities: %v, %v", got, err)
	}
	if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.SetBulkJob(ctx, tx, "c", "b1", 42) }); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetBulk(ctx, nil, "c", "b1"); err != nil || got.JobID != 42 {
		t.Errorf("the bulk's job: %+v, %v", got, err)
	}
	if evs, err := s.BulkEvents(ctx, "c", "b1", 2); err != nil || len(evs) != 2 || evs[0].ID != "ev-e1" || evs[1].ID != "ev-e2" {
		t.Errorf("the first 2 events: %+v, %v", evs, err)
	}
	if got, err := s.ListingBulk(ctx, nil, "c"); err != nil || got.ID != "b1" || got.State != BulkListing {
		t.Fatalf("the listing bulk: %+v, %v", got, err)
	}
	if err := s.SetBulkError(ctx, "c", "b1", "tracker down; trying again"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishBulk(ctx, "c", "b1", BulkFailed, "tracker down", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.LatestBulk(ctx, nil, "c")
	if err != nil || got.State != BulkFailed || got.Error != "tracker down" || !got.FinishedAt.Equal(at.Add(time.Minute)) {
		t.Fatalf("the failed bulk: %+v, %v", got, err)
	}
	if _, err := s.ListingBulk(ctx, nil, "c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a listing bulk after it failed: %v, want ErrNotFound", err)
	}
	if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.ReopenBulk(ctx, tx, "c", "b1") }); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetBulk(ctx, nil, "c", "b1"); err != nil || got.State != BulkListing || got.Error != "" || !got.FinishedAt.IsZero() {
		t.Fatalf("reopened: %+v, %v", got, err)
	}
	if got, err := s.BulkEntities(ctx, "c", "b1"); err != nil || len(got) != 3 {
		t.Errorf("the reopened bulk's items: %v, %v", got, err)
	}
	if err := s.DeleteConnection(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBulk(ctx, nil, "c", "b1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the bulk after its connection was deleted: %v", err)
	}
	var items int
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM bulk_items`).Scan(&items); err != nil || items != 0 {
		t.Errorf("%d bulk items left after the connection was deleted (%v)", items, err)
	}
}
