package engine_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/store/pgtest"
)

// A Bulk Exalate is a job (engine/bulk.go): the admin request answers
// once it is queued, and a run cut short resumes past the items it
// started, on the node started again or on another replica.

// listingPause is shared by the trackers of a node's starts (or
// replicas): the first listing hands after items one at a time and then
// holds, until its ctx ends (the node stopping) or release is closed;
// the listings after it go straight through.
type listingPause struct {
	after   int
	release chan struct{}
	paused  chan string // the name of the tracker's node, once it holds
	once    sync.Once
	mu      sync.Mutex
	calls   int
}

func newListingPause(after int) *listingPause {
	return &listingPause{after: after, release: make(chan struct{}), paused: make(chan string, 1)}
}

// wrap puts p in front of a node's tracker; name says which node held
// the listing.
func (p *listingPause) wrap(name string) func(*asana.Tracker) engine.Tracker {
	return func(tr *asana.Tracker) engine.Tracker { return &pausingPages{Tracker: tr, p: p, name: name} }
}

// on is a node option putting p in front of the node's tracker.
func (p *listingPause) on(name string) func(*testNode) {
	return func(n *testNode) { n.wrap = p.wrap(name) }
}

// bulkPair connects Acme to Globex for a bulk test: Acme without change
// detection (only the bulk syncs), wrap (if not nil) in front of its
// tracker; ids are the tasks of Acme's project, at least least of them.
func bulkPair(t *testing.T, wrap func(*asana.Tracker) engine.Tracker, least int) (a, b *testNode, connA engine.Connection, ids []string) {
	t.Helper()
	a, b, connA, _ = connectedAcmeWith(t, func(n *testNode) {
		n.config = func(c *engine.Config) { c.Poll = -1 }
		n.wrap = wrap
	})
	ids, err := a.et().List(ctxFor(t), connA.LocalProject)
	if err != nil || len(ids) < least {
		t.Fatalf("listing Acme's project: %v, %v; want %d tasks or more", ids, err, least)
	}
	return a, b, connA, ids
}

type pausingPages struct {
	*asana.Tracker
	p    *listingPause
	name string
}

func (t *pausingPages) ListEntities(ctx context.Context, project string, each func([]engine.Entity) error) error {
	t.p.mu.Lock()
	t.p.calls++
	first := t.p.calls == 1
	t.p.mu.Unlock()
	handed := 0
	return t.Tracker.ListEntities(ctx, project, func(page []engine.Entity) error {
		for _, e := range page {
			if first && handed == t.p.after {
				t.p.once.Do(func() { t.p.paused <- t.name })
				select {
				case <-t.p.release:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			handed++
			if err := each([]engine.Entity{e}); err != nil {
				return err
			}
		}
		return nil
	})
}

// oneSyncEach checks that a finished bulk started one sync of each of ids
// and that no item has a second outgoing sync.
func oneSyncEach(t *testing.T, n *testNode, connID, bulkID string, ids []string) {
	t.Helper()
	ctx := ctxFor(t)
	b, err := n.Bulk(ctx, connID, bulkID, adminapi.BulkEventsListed)
	if err != nil {
		t.Fatal(err)
	}
	if b.Listing || b.Failed || b.Started != len(ids) || len(b.Events) != len(ids) {
		t.Errorf("the bulk: listing %v, failed %v (%s), %d started, %d events, for %d tasks", b.Listing, b.Failed, b.Error, b.Started, len(b.Events), len(ids))
	}
	for _, id := range ids {
		if got := dbCount(t, n, `SELECT COUNT(*) FROM sync_events WHERE connection_id = ? AND entity_id = ? AND direction = 'out'`, connID, id); got != 1 {
			t.Errorf("task %s: %d outgoing syncs, want 1", id, got)
		}
	}
}

// TestBulkExalateAnswersOnceQueued: through the admin API, starting a
// Bulk Exalate answers while its listing is still going (a balancer's
// timeout no longer bounds a bulk); the bulk is then followed in reads.
func TestBulkExalateAnswersOnceQueued(t *testing.T) {
	p := newListingPause(1)
	a, _, connA, ids := bulkPair(t, p.wrap("Acme"), 2)
	ctx := ctxFor(t)
	c := a.remote(t)
	b, err := c.StartBulk(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	<-p.paused
	if now, err := c.Bulk(ctx, connA.ID, b.ID, 0); err != nil || !now.Listing {
		t.Fatalf("the bulk while its listing holds: %+v, %v", now, err)
	}
	// Asked again meanwhile, the node joins the bulk listing the project.
	again, err := c.StartBulk(ctx, connA.Name)
	if err != nil || again.ID != b.ID {
		t.Errorf("a second Bulk Exalate while one lists: %s, %v; want the first, %s", again.ID, err, b.ID)
	}
	close(p.release)
	started, err := adminapi.WaitBulk(ctx, c, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if started.Started != len(ids) || !started.All() {
		t.Errorf("the bulk started %d syncs (%d listed) for %d tasks", started.Started, len(started.Events), len(ids))
	}
	oneSyncEach(t, a, connA.ID, b.ID, ids)
	if _, err := c.Bulk(ctx, connA.ID, "no-such-bulk", 0); err == nil || !strings.Contains(err.Error(), "no Bulk Exalate no-such-bulk") {
		t.Errorf("an unknown bulk: %v", err)
	}
}

// TestBulkResumesAfterARestart: a node stopped in the middle of a Bulk
// Exalate resumes it when it starts again, past the items it started:
// each item gets one sync, those started before the stop not a second.
func TestBulkResumesAfterARestart(t *testing.T) {
	p := newListingPause(2)
	a, _, connA, ids := bulkPair(t, p.wrap("Acme"), 3)
	ctx := ctxFor(t)
	b, err := a.StartBulk(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	<-p.paused
	if now, err := a.Bulk(ctx, connA.ID, b.ID, 0); err != nil || now.Started != 2 {
		t.Fatalf("the bulk when its listing held: %+v, %v; want 2 started", now, err)
	}
	a.stop()
	a.start(t, "Acme")
	if _, err := adminapi.WaitBulk(ctx, a.Node, b, nil); err != nil {
		t.Fatal(err)
	}
	oneSyncEach(t, a, connA.ID, b.ID, ids)
	if !strings.Contains(a.log.String(), "Bulk Exalate resumed") {
		t.Errorf("the restarted node did not say it resumed the bulk; its log:\n%s", a.log.String())
	}
}

// TestBulkResumesOnAnotherReplica: the replica running a Bulk Exalate
// stopping in the middle of it, another replica resumes it, past the
// items it started.
func TestBulkResumesOnAnotherReplica(t *testing.T) {
	url := pgtest.URL(t)
	p := newListingPause(2)
	poll := func(n *testNode) {
		prev := n.config
		n.config = func(c *engine.Config) {
			if prev != nil {
				prev(c)
			}
			c.Poll = -1
		}
	}
	a := startNode(t, "Acme", &clock{}, p.on("first"), poll, onDatabase(url))
	a2 := replicaOf(t, a, "Acme", url, p.on("second"), poll)
	g := startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: g.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil || len(ids) < 3 {
		t.Fatalf("listing Acme's project: %v, %v", ids, err)
	}
	b, err := a.StartBulk(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	running, other := a, a2
	if <-p.paused == "second" {
		running, other = a2, a
	}
	running.stop()
	if _, err := adminapi.WaitBulk(ctx, other.Node, b, nil); err != nil {
		t.Fatal(err)
	}
	oneSyncEach(t, other, connA.ID, b.ID, ids)
}

// failingPages lists one entity per page and, the first time, fails
// after two; listed again at once, it fails before the first (the tracker
// refusing the listing for good).
type failingPages struct {
	*asana.Tracker
	calls int
}

func (p *failingPages) ListEntities(ctx context.Context, project string, each func([]engine.Entity) error) error {
	p.calls++
	handed := 0
	return p.Tracker.ListEntities(ctx, project, func(page []engine.Entity) error {
		for _, e := range page {
			if (p.calls == 1 && handed == 2) || p.calls == 2 {
				return engine.Errorf(engine.ErrBadRequest, "asana: the project can't be listed by this token")
			}
			handed++
			if err := each([]engine.Entity{e}); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestFailedBulkResumesWhenAskedAgain: a bulk whose listing failed says
// why; asked for again, it resumes past the items it started instead of
// starting them over.
func TestFailedBulkResumesWhenAskedAgain(t *testing.T) {
	a, _, connA, ids := bulkPair(t, func(tr *asana.Tracker) engine.Tracker { return &failingPages{Tracker: tr} }, 3)
	ctx := ctxFor(t)
	_, err := a.ExalateAll(ctx, connA.ID)
	if err == nil || !strings.Contains(err.Error(), "can't be listed by this token") {
		t.Fatalf("the failing bulk: %v, want the tracker's refusal", err)
	}
	b, err := a.StartBulk(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Started != 2 {
		t.Errorf("the bulk asked again: %d started, want the 2 the failed one started", b.Started)
	}
	if _, err := adminapi.WaitBulk(ctx, a.Node, b, nil); err != nil {
		t.Fatal(err)
	}
	oneSyncEach(t, a, connA.ID, b.ID, ids)
	// Done, it is not resumed again: asked again, a new bulk syncs every
	// item once more.
	again, err := a.StartBulk(ctx, connA.ID)
	if err != nil || again.ID == b.ID {
		t.Fatalf("a bulk after a finished one: %s, %v", again.ID, err)
	}
	if started, err := adminapi.WaitBulk(ctx, a.Node, again, nil); err != nil || started.Started != len(ids) {
		t.Errorf("the second bulk: %d started, %v; want %d", started.Started, err, len(ids))
	}
}

// goneItem is a tracker on which one listed item is deleted before the
// bulk reads it.
type goneItem struct {
	*asana.Tracker
	id string
}

func (g goneItem) ReadItems(ctx context.Context, e *engine.Entity) error {
	if e.ID == g.id {
		return engine.Errorf(engine.ErrNotFound, "asana: task %s: not found", e.ID)
	}
	return g.Tracker.ReadItems(ctx, e)
}

func (g goneItem) Get(ctx context.Context, id string) (engine.Entity, error) {
	if id == g.id {
		return engine.Entity{}, engine.Errorf(engine.ErrNotFound, "asana: task %s: not found", id)
	}
	return g.Tracker.Get(ctx, id)
}

// TestBulkSkipsAnItemDeletedSinceListed: one item deleted between the
// listing and its read does not fail the bulk: it is skipped, and every
// other item gets its sync.
func TestBulkSkipsAnItemDeletedSinceListed(t *testing.T) {
	var gone string
	a, _, connA, ids := bulkPair(t, func(tr *asana.Tracker) engine.Tracker { return goneItem{tr, gone} }, 3)
	ctx := ctxFor(t)
	gone = ids[1]
	a.stop()
	a.start(t, "Acme") // its tracker made again, with gone set
	started, err := a.ExalateAll(ctx, connA.ID)
	if err != nil {
		t.Fatalf("a bulk with one item gone: %v", err)
	}
	if started.Started != len(ids)-1 {
		t.Errorf("the bulk started %d syncs for %d tasks, one gone; want %d", started.Started, len(ids), len(ids)-1)
	}
	if n := dbCount(t, a, `SELECT COUNT(*) FROM sync_events WHERE entity_id = ?`, gone); n != 0 {
		t.Errorf("the gone task has %d syncs", n)
	}
}

// TestBulkWithItsJobGoneIsQueuedAgain: a bulk still listing whose job
// River no longer runs (it gave up on it while the bulk's row said
// listing) gets a job again when asked for, instead of being joined and
// waited on for ever.
func TestBulkWithItsJobGoneIsQueuedAgain(t *testing.T) {
	a, _, connA, ids := bulkPair(t, nil, 1)
	ctx := ctxFor(t)
	b, err := a.StartBulk(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adminapi.WaitBulk(ctx, a.Node, b, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the bulk's job to be recorded completed", func() bool {
		return dbCount(t, a, `SELECT COUNT(*) FROM river_job WHERE kind = 'tandem_bulk' AND state = 'completed'`) == 1
	})
	// Its job completed; its row back at listing, as a job discarded
	// after a last try that could not record its failure leaves it.
	if _, err := a.Store().DB().ExecContext(ctx, `UPDATE bulks SET state = 'listing', finished_at = NULL WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	again, err := a.StartBulk(ctx, connA.ID)
	if err != nil || again.ID != b.ID {
		t.Fatalf("the bulk asked for again: %s, %v; want %s", again.ID, err, b.ID)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := adminapi.WaitBulk(wctx, a.Node, again, nil); err != nil {
		t.Fatalf("the bulk with its job gone: %v", err)
	}
	oneSyncEach(t, a, connA.ID, b.ID, ids)
}

// TestResumedBulkFollowsAnEditMadeAfterItsListing: an item the first run
// listed and started, edited before the run was cut short, is followed up
// by the resumed run (followListed, by the time the first run listed it
// with), though change detection is off.
func TestResumedBulkFollowsAnEditMadeAfterItsListing(t *testing.T) {
	p := newListingPause(2)
	a, b, connA, _ := bulkPair(t, p.wrap("Acme"), 3)
	ctx := ctxFor(t)
	bulk, err := a.StartBulk(ctx, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	<-p.paused
	first, err := a.Bulk(ctx, connA.ID, bulk.ID, 1)
	if err != nil || len(first.Events) != 1 {
		t.Fatalf("the bulk's first item: %+v, %v", first, err)
	}
	edited := first.Events[0].EntityID
	a.stop()
	name := "Renamed while the bulk was cut short"
	if _, err := a.client.UpdateTask(ctx, edited, asana.TaskUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	a.start(t, "Acme")
	if _, err := adminapi.WaitBulk(ctx, a.Node, bulk, nil); err != nil {
		t.Fatal(err)
	}
	reached := func() bool {
		twin, err := a.Store().Twin(ctx, nil, connA.ID, edited)
		if err != nil {
			return false
		}
		e, err := b.et().Get(ctx, twin.RemoteID)
		return err == nil && e.Summary == name
	}
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !reached() {
		if time.Now().After(deadline) {
			// What each side recorded of the item, to tell a follow-up
			// never made from one made and not applied.
			for _, q := range []struct {
				n     *testNode
				query string
			}{
				{a, `SELECT 'item ' || entity_id || ' seq ' || seq || ' listed_at ' || listed_at FROM bulk_items WHERE entity_id = ?`},
				{a, `SELECT 'out ' || id || ' ' || stage || ' ' || error || ' ' || created_at || ' ' || CAST(payload AS TEXT) FROM sync_events WHERE entity_id = ? ORDER BY created_at`},
			} {
				rows, err := q.n.Store().DB().QueryContext(context.Background(), q.query, edited)
				if err != nil {
					t.Logf("%s: %v", q.query, err)
					continue
				}
				for rows.Next() {
					var line string
					if rows.Scan(&line) == nil {
						t.Log(line)
					}
				}
				rows.Close()
			}
			t.Fatalf("timed out waiting for the rename of %s to reach Globex", edited)
		}
		<-tick.C
	}
}
