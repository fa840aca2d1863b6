package asana_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine/tracker"
)

func TestTrackerRecentItems(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	company := e.project(t, "Company")
	// The first seeded task is the oldest; a rename makes it the newest.
	oldest := e.taskNamed(t, company.GID, "Q3 campaign brief")
	name := "Q3 campaign brief (v2)"
	if _, err := e.client.UpdateTask(c, oldest.GID, asana.TaskUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}

	before := e.client.Stats()
	items, err := tr.RecentItems(c, company.GID, 5)
	if err != nil {
		t.Fatal(err)
	}
	if d := e.client.Stats().Sub(before); d.Total() != 1 || d.ByEndpoint["GET /tasks"] != 1 {
		t.Errorf("RecentItems cost %d requests (%v), want one GET /tasks", d.Total(), d.ByEndpoint)
	}
	if len(items) != 5 {
		t.Fatalf("got %d items, want 5: %+v", len(items), items)
	}
	if items[0].ID != oldest.GID || items[0].Key != oldest.GID || items[0].Summary != name || items[0].URL == "" {
		t.Errorf("the renamed task is not first, whole: %+v", items[0])
	}
	if !slices.IsSortedFunc(items, func(a, b tracker.Item) int { return b.ModifiedAt.Compare(a.ModifiedAt) }) {
		t.Errorf("items are not newest first: %+v", items)
	}
	for _, it := range items {
		if it.ModifiedAt.IsZero() || time.Since(it.ModifiedAt) > 30*24*time.Hour {
			t.Errorf("item %s has modified_at %v", it.ID, it.ModifiedAt)
		}
	}
	all, err := tr.RecentItems(c, company.GID, 1000)
	if err != nil || len(all) != 12 {
		t.Errorf("every Company task: %d items, %v; want the 12 seeded", len(all), err)
	}
	if _, err := tr.RecentItems(c, "1", 5); err == nil {
		t.Error("RecentItems of a project that doesn't exist succeeded")
	}
	e.requireValidated(t)
}

// TestChangesStopsOnAStuckSyncToken: an events answer that says there is
// more but hands back the same sync token is an error, not an endless loop.
func TestChangesStopsOnAStuckSyncToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[],"sync":"same","has_more":true}`)
	}))
	defer srv.Close()
	c, err := asana.New(asana.Config{BaseURL: srv.URL, Token: "t", RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = asana.NewTracker(c, "").Changes(context.Background(), "1", "same")
	if err == nil || !strings.Contains(err.Error(), "no new sync token") {
		t.Fatalf("err = %v", err)
	}
}
