package engine_test

import (
	"errors"
	"testing"

	"github.com/tandem-sync/tandem/engine"
)

// TestRemoteQueueRetryResolve: the queue, the errors, retry and resolve
// through the admin API and its client answer what the node answers in
// process, refusals included (errors.Is holds across the API).
func TestRemoteQueueRetryResolve(t *testing.T) {
	a, _, connA, _ := connected(t)
	ctx := ctxFor(t)
	one, two := twoTasks(t, a, connA.LocalProject)
	if _, err := a.SetActive(ctx, connA.ID, false); err != nil {
		t.Fatal(err)
	}
	for _, task := range []engine.Entity{one, two} {
		if _, err := a.Exalate(ctx, connA.ID, task.ID); err != nil {
			t.Fatal(err)
		}
	}
	rc := a.remote(t)
	want, err := a.Queue(ctx, connA.Name, 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rc.Queue(ctx, connA.Name, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != 2 || len(got.Entries) != 1 || got.Entries[0].EventID != want.Entries[0].EventID ||
		got.Entries[0].State != want.Entries[0].State || got.Entries[0].Summary != one.Summary || !got.Entries[0].Started.Equal(want.Entries[0].Started) {
		t.Errorf("the queue through the API: %+v; the node says %+v", got, want)
	}
	if errs, err := rc.Errors(ctx, "", 0); err != nil || errs.Total != 0 || errs.Errors == nil {
		t.Errorf("errors through the API: %+v, %v", errs, err)
	}
	if cs, err := rc.Connections(ctx); err != nil || len(cs) != 1 || cs[0].Queued != 2 {
		t.Errorf("connections through the API: %+v, %v; want 2 queued", cs, err)
	}
	id := want.Entries[0].EventID
	if _, err := rc.Retry(ctx, "", id); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("remote retry on a deactivated connection: %v, want a conflict", err)
	}
	if n, err := rc.RetryAll(ctx, connA.ID); err != nil || n != 0 {
		t.Errorf("remote retry all on a deactivated connection: %d, %v", n, err)
	}
	if _, err := rc.Resolve(ctx, "", id, " "); !errors.Is(err, engine.ErrBadRequest) {
		t.Errorf("remote resolve without a reason: %v, want a bad request", err)
	}
	if _, err := rc.Resolve(ctx, "nope", id, "why"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("remote resolve on an unknown connection: %v, want not found", err)
	}
	res, err := rc.Resolve(ctx, connA.Name, id[:10], "not needed any more")
	if err != nil || res.EventID != id || res.Resolution != "not needed any more" || res.ResolvedAt.IsZero() {
		t.Errorf("remote resolve: %+v, %v", res, err)
	}
	if q, _ := rc.Queue(ctx, "", 0); q.Total != 1 || q.Entries[0].LocalKey != two.Key {
		t.Errorf("the queue after resolving the first: %+v", q)
	}
}
