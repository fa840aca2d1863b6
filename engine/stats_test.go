package engine_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine"
)

// twoTasks returns the first two tasks a node's tracker lists in project.
func twoTasks(t *testing.T, n *testNode, project string) (engine.Entity, engine.Entity) {
	t.Helper()
	ctx := ctxFor(t)
	ids, err := n.et().List(ctx, project)
	if err != nil || len(ids) < 2 {
		t.Fatalf("listing %s: %v, %v", project, ids, err)
	}
	first, err := n.et().Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	second, err := n.et().Get(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	return first, second
}

func TestStatsAndRecentEventsAfterExalate(t *testing.T) {
	a, b, connA, connB := connected(t)
	ctx := ctxFor(t)
	before, err := a.Stats(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if before.SyncedItems != 0 || before.EventsOut != 0 || !before.LastSync.IsZero() || before.MedianStage != nil {
		t.Errorf("stats before any sync: %+v", before)
	}

	first, second := twoTasks(t, a, connA.LocalProject)
	exalate(t, a, first.ID)
	done := exalate(t, a, second.ID)

	st, err := a.Stats(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.ConnectionID != connA.ID || st.SyncedItems != 2 || st.EventsOut != 2 || st.EventsIn != 0 ||
		st.Synchronized != 2 || st.Failing != 0 {
		t.Errorf("the source's stats after two syncs: %+v", st)
	}
	if !st.LastSync.Equal(done.At) {
		t.Errorf("LastSync = %v, want the second sync's Synchronized at %v", st.LastSync, done.At)
	}
	for _, stage := range []string{engine.StagePreparing, engine.StageSending, engine.StageWaiting, engine.StageFinalizing} {
		if d, ok := st.MedianStage[stage]; !ok || d < 0 {
			t.Errorf("median of %s: %v (present %v)", stage, d, ok)
		}
	}
	if _, ok := st.MedianStage[engine.StageSynchronized]; ok || len(st.MedianStage) != 4 {
		t.Errorf("MedianStage has keys beyond the four stages a sync leaves: %v", st.MedianStage)
	}
	// The list and the single read say the same, from one query each.
	cs, err := a.Connections(ctx)
	if err != nil || len(cs) != 1 || cs[0].SyncedItems != 2 || !cs[0].LastSync.Equal(st.LastSync) {
		t.Errorf("Connections: %+v, %v", cs, err)
	}
	if c, err := a.ConnectionByID(ctx, connA.ID); err != nil || c.SyncedItems != 2 || !c.LastSync.Equal(st.LastSync) {
		t.Errorf("ConnectionByID: %+v, %v", c, err)
	}

	// The receiving side counts what it received once it has reported.
	eventually(t, "Globex's two received syncs reach Synchronized", func() bool {
		st, err := b.Stats(ctx, connB.ID)
		return err == nil && st.Synchronized == 2
	})
	stB, _ := b.Stats(ctx, connB.ID)
	if stB.EventsIn != 2 || stB.EventsOut != 0 || stB.SyncedItems != 2 || stB.LastSync.IsZero() {
		t.Errorf("the destination's stats: %+v", stB)
	}
	if _, ok := stB.MedianStage[engine.StageWaiting]; !ok {
		t.Errorf("the destination has no median for applying (waiting): %v", stB.MedianStage)
	}

	evs, err := a.RecentEvents(ctx, connA.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].EventID != done.EventID || evs[0].EntityID != second.ID || evs[1].EntityID != first.ID {
		t.Fatalf("recent events, newest first: %+v", evs)
	}
	e := evs[0]
	if e.Stage != engine.StageSynchronized || e.Direction != "out" || e.ConnectionID != connA.ID || e.Error != "" ||
		e.LocalURL != second.URL || e.LocalKey == "" || e.RemoteKey != done.RemoteKey || e.RemoteURL != done.RemoteURL ||
		!e.At.Equal(done.At) {
		t.Errorf("the latest event: %+v, want it as Synchronized said: %+v", e, done)
	}
	if one, err := a.RecentEvents(ctx, connA.ID, 1); err != nil || len(one) != 1 || one[0].EventID != done.EventID {
		t.Errorf("RecentEvents(limit 1): %+v, %v", one, err)
	}

	if _, err := a.Stats(ctx, "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Stats of an unknown connection: err = %v, want ErrNotFound", err)
	}
	if _, err := a.RecentEvents(ctx, "nope", 5); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("RecentEvents of an unknown connection: err = %v, want ErrNotFound", err)
	}
}

func TestRecentItems(t *testing.T) {
	a := startNode(t, "Acme", &clock{})
	ctx := ctxFor(t)
	// A pending connection names the Company project without turning
	// change detection on, so the tracker calls below are the test's own.
	if _, _, err := a.Invite(ctx, engine.InviteRequest{Project: "Company"}); err != nil {
		t.Fatal(err)
	}
	ps, err := a.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	company := ps[slices.IndexFunc(ps, func(p engine.Project) bool { return p.Name == "Company" })]
	oldest, _ := twoTasks(t, a, company.ID)
	name := oldest.Summary + " (renamed)"
	if _, err := a.et().Update(ctx, oldest.ID, engine.EntityUpdate{Summary: &name}); err != nil {
		t.Fatal(err)
	}

	for _, ref := range []string{"company", company.ID} {
		before := a.client.Stats()
		items, err := a.RecentItems(ctx, ref, 3)
		if err != nil {
			t.Fatal(err)
		}
		if d := a.client.Stats().Sub(before); d.Total() != 1 || d.ByEndpoint["GET /tasks"] != 1 {
			t.Errorf("RecentItems(%q) cost %d Asana requests (%v), want one GET /tasks", ref, d.Total(), d.ByEndpoint)
		}
		if len(items) != 3 || items[0].ID != oldest.ID || items[0].Summary != name || items[0].Key != oldest.ID || items[0].URL != oldest.URL {
			t.Errorf("RecentItems(%q): %+v, want 3 starting with the renamed %s", ref, items, oldest.ID)
		}
		if !slices.IsSortedFunc(items, func(x, y engine.Item) int { return y.ModifiedAt.Compare(x.ModifiedAt) }) {
			t.Errorf("RecentItems(%q) is not newest first: %+v", ref, items)
		}
	}
	// A project no connection knows is resolved by name first.
	items, err := a.RecentItems(ctx, "Test", 0)
	if err != nil || len(items) != 3 {
		t.Errorf("RecentItems(Test): %d items, %v; want its 3 tasks", len(items), err)
	}
	if _, err := a.RecentItems(ctx, "Nope", 0); !errors.Is(err, engine.ErrUnknownProject) {
		t.Errorf("RecentItems(Nope): err = %v, want ErrUnknownProject", err)
	}

	// A tracker that can't list recent items says so.
	plain, err := engine.Open(ctx, engine.Config{DataDir: t.TempDir(), Name: "Plain", URL: "http://127.0.0.1:1",
		Tracker: plainTracker{a.tracker}, Poll: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.RecentItems(ctx, "Company", 0); err == nil || !strings.Contains(err.Error(), "cannot list recent items") {
		t.Errorf("RecentItems on a tracker without the lister: err = %v", err)
	}
}

// plainTracker exposes only engine.Tracker.
type plainTracker struct{ t engine.Tracker }

func (p plainTracker) Kind() string { return p.t.Kind() }
func (p plainTracker) Check(ctx context.Context) (engine.TrackerAccount, error) {
	return p.t.Check(ctx)
}
func (p plainTracker) Projects(ctx context.Context) ([]engine.Project, error) {
	return p.t.Projects(ctx)
}
