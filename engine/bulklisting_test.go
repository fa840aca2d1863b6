package engine_test

import (
	"context"
	"sync"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
)

// renamingAfterListing renames a task right after the first listing of
// its project: the listing Bulk Exalate prepares from is then stale.
type renamingAfterListing struct {
	*asana.Tracker
	once   sync.Once
	rename func()
}

func (r *renamingAfterListing) ListEntities(ctx context.Context, project string, each func([]engine.Entity) error) error {
	// The whole listing first, then the rename: every page is stale.
	var pages [][]engine.Entity
	err := r.Tracker.ListEntities(ctx, project, func(p []engine.Entity) error {
		pages = append(pages, p)
		return nil
	})
	r.once.Do(r.rename)
	if err != nil {
		return err
	}
	for _, p := range pages {
		if err := each(p); err != nil {
			return err
		}
	}
	return nil
}

// TestBulkFollowsAnEditMadeAfterItsListing: a task renamed after Bulk
// Exalate listed its project and before its sync was prepared goes out
// with the listed name; the bulk lists again at its end and sends the
// rename after it. Change detection is off, so only the bulk can see it
// (with detection on, an edit it sees before the task's sync exists is
// not its business, which is how the fault tests lost such a rename).
func TestBulkFollowsAnEditMadeAfterItsListing(t *testing.T) {
	const renamed = "Renamed after the bulk listed it"
	var rename func()
	a, b, connA, _ := connectedAcmeWith(t, func(n *testNode) {
		n.config = func(c *engine.Config) { c.Poll = -1 }
		n.wrap = func(tr *asana.Tracker) engine.Tracker {
			return &renamingAfterListing{Tracker: tr, rename: func() { rename() }}
		}
	})
	ctx := ctxFor(t)
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil || len(ids) == 0 {
		t.Fatalf("listing Acme's project: %v, %v", ids, err)
	}
	last := ids[len(ids)-1]
	rename = func() {
		name := renamed
		if _, err := a.et().Update(ctx, last, engine.EntityUpdate{Summary: &name}); err != nil {
			t.Error(err)
		}
	}
	started, err := a.ExalateAll(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if started.Started != len(ids) {
		t.Errorf("bulk exalate started %d syncs for %d tasks", started.Started, len(ids))
	}
	twin := ""
	eventually(t, "the renamed task twinned", func() bool {
		twin = twinsOf(t, a, connA.ID, []string{last})[last]
		return twin != ""
	})
	eventually(t, "the rename on Globex", func() bool {
		e, err := b.et().Get(ctx, twin)
		return err == nil && e.Summary == renamed
	})
}
