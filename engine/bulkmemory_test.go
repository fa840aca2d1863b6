package engine_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"unsafe"
	"weak"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
)

// pagesWatched lists a project one entity per page, each page's summaries
// fresh copies it holds weak pointers to, and checks, once the bulk is
// done with a page (each returned), that nothing holds its entities any
// more: a Bulk Exalate of 100,000 tasks must not keep its listing.
type pagesWatched struct {
	*asana.Tracker
	pages   int
	checked int
	held    []string // summaries of pages still reachable after the bulk was done with them
}

func (p *pagesWatched) ListEntities(ctx context.Context, project string, each func([]engine.Entity) error) error {
	return p.Tracker.ListEntities(ctx, project, func(page []engine.Entity) error {
		for _, e := range page {
			w, summary, err := p.hand(e, each)
			if err != nil {
				return err
			}
			if w == nil {
				continue
			}
			// Twice: an object with nothing to finalize is reclaimed by
			// the first, but a pointer may only have been dropped during it.
			runtime.GC()
			runtime.GC()
			p.checked++
			if w.Value() != nil {
				p.held = append(p.held, summary)
			}
		}
		return nil
	})
}

// hand gives each a page of one entity whose summary is a fresh
// allocation, and returns a weak pointer to it (nil when it is too short
// to be an allocation of its own); nothing of the page outlives the call
// here.
func (p *pagesWatched) hand(e engine.Entity, each func([]engine.Entity) error) (*weak.Pointer[byte], string, error) {
	p.pages++
	if len(e.Summary) < 16 { // the tiny allocator may share its block
		return nil, "", each([]engine.Entity{e})
	}
	summary := strings.Clone(e.Summary)
	w := weak.Make(unsafe.StringData(summary))
	e.Summary = summary
	return &w, strings.Clone(summary), each([]engine.Entity{e})
}

// TestBulkHoldsOnePage: Bulk Exalate takes its project's listing a page at
// a time and keeps none of a page once it has prepared it (memory at
// 100,000 twins: the whole listing, held through the bulk, was most of
// the sending node's peak). Both listings are watched: the first, that
// the syncs are prepared from, and the second, that catches the edits
// made meanwhile (followListed).
func TestBulkHoldsOnePage(t *testing.T) {
	var watched *pagesWatched
	a, _, connA, _ := connectedAcmeWith(t, func(n *testNode) {
		n.config = func(c *engine.Config) { c.Poll = -1 }
		n.wrap = func(tr *asana.Tracker) engine.Tracker {
			watched = &pagesWatched{Tracker: tr}
			return watched
		}
	})
	ctx := ctxFor(t)
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	started, err := a.ExalateAll(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if started.Started != len(ids) || len(started.Events) != len(ids) {
		t.Errorf("bulk exalate started %d syncs (%d listed) for %d tasks", started.Started, len(started.Events), len(ids))
	}
	if watched.pages != 2*len(ids) || watched.checked < len(ids) {
		t.Fatalf("%d pages handed, %d watched, for %d tasks listed twice: the test did not watch the bulk", watched.pages, watched.checked, len(ids))
	}
	if len(watched.held) > 0 {
		t.Errorf("%d of %d pages still held after the bulk prepared them, e.g. %q", len(watched.held), watched.checked, watched.held[0])
	}
}

// TestRemoteBulkExalateCounts: through the admin API, a Bulk Exalate's
// answer counts the syncs it started and lists them (all, below
// adminapi.BulkEventsListed).
func TestRemoteBulkExalateCounts(t *testing.T) {
	a, _, connA, _ := connected(t)
	ctx := ctxFor(t)
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil || len(ids) == 0 {
		t.Fatalf("listing Acme's project: %v, %v", ids, err)
	}
	b, err := a.remote(t).ExalateAll(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Started != len(ids) || len(b.Events) != len(ids) || !b.All() {
		t.Errorf("bulk exalate through the API: %d started, %d listed, for %d tasks", b.Started, len(b.Events), len(ids))
	}
}

// expiringPages lists a project one entity per page, and the first time
// fails after two pages, as a listing does whose page token expired while
// the bulk was preparing the pages before.
type expiringPages struct {
	*asana.Tracker
	calls int
}

func (p *expiringPages) ListEntities(ctx context.Context, project string, each func([]engine.Entity) error) error {
	p.calls++
	handed := 0
	return p.Tracker.ListEntities(ctx, project, func(page []engine.Entity) error {
		for _, e := range page {
			if p.calls == 1 && handed == 2 {
				return errors.New("asana: offset: Your pagination token is invalid or has expired")
			}
			handed++
			if err := each([]engine.Entity{e}); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestBulkListsAgainAfterAnExpiredPage: the listing failing midway is
// taken again, and every task gets one sync, the ones prepared before the
// failure not a second.
func TestBulkListsAgainAfterAnExpiredPage(t *testing.T) {
	var pages *expiringPages
	a, _, connA, _ := connectedAcmeWith(t, func(n *testNode) {
		n.config = func(c *engine.Config) { c.Poll = -1 }
		n.wrap = func(tr *asana.Tracker) engine.Tracker {
			pages = &expiringPages{Tracker: tr}
			return pages
		}
	})
	ctx := ctxFor(t)
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil || len(ids) < 3 {
		t.Fatalf("listing Acme's project: %v, %v", ids, err)
	}
	started, err := a.ExalateAll(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, ev := range started.Events {
		got[ev.EntityID]++
	}
	if started.Started != len(ids) || len(got) != len(ids) {
		t.Errorf("bulk exalate started %d syncs for %d tasks: %v", started.Started, len(ids), got)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("task %s: %d syncs", id, n)
		}
	}
	if pages.calls != 3 { // the failed listing, the one after, followListed's
		t.Errorf("%d listings; want 3", pages.calls)
	}
}
