package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/store"
)

// A Bulk Exalate is a job (bulkArgs), not the admin request that asks for
// it: any replica runs it, and a run cut short (its replica killed, the
// node stopped) is run again by River and resumes past the items it
// started, each recorded in the transaction that stores its sync
// (store.AddBulkItem). The request answers once the bulk is queued
// (StartBulk); the caller follows it with Bulk, in short reads that a
// balancer's timeout or a replica's death costs one of, not the bulk.

// bulkArgs runs the Bulk Exalate Bulk of connection Conn.
type bulkArgs struct{ Conn, Bulk string }

func (bulkArgs) Kind() string { return "tandem_bulk" }

// bulkAttempts bounds a bulk's tries: a listing failing this many times
// in a row (retryPolicy's backoff, about three minutes) has failed, until
// asked for again (StartBulk resumes it).
const bulkAttempts = 10

// bulkWorker runs bulks, without a time limit: a project of 50,000 items
// takes hours under a tracker's rate limit.
type bulkWorker struct {
	river.WorkerDefaults[bulkArgs]
	n *pipeline
}

func (w bulkWorker) Work(ctx context.Context, j *river.Job[bulkArgs]) error {
	return w.n.runBulk(ctx, j.Args, j.Attempt >= j.MaxAttempts)
}

func (bulkWorker) Timeout(*river.Job[bulkArgs]) time.Duration { return -1 }

// bulkItem is the place of one item's sync in a bulk, and the item's
// modification time in the listing (for followListed, on a resumed run).
type bulkItem struct {
	id       string
	seq      int
	listedAt time.Time
}

// bulkRunners keep a bulk to one run at a time. River runs a job once
// (its rescuer leaves a job without a timeout alone), but a bulk may have
// had a job before the one running now: one asked for again whose job
// seemed gone (StartBulk), a run the leader requeued for a replica it took
// for dead.
type bulkRunners struct {
	mu      sync.Mutex
	running map[string]bool
	shared  sharedLocks // nil on SQLite
}

// try takes bulk id's run, or says another holds it.
func (r *bulkRunners) try(ctx context.Context, id string) (release func(), ok bool, err error) {
	r.mu.Lock()
	if r.running[id] {
		r.mu.Unlock()
		return nil, false, nil
	}
	if r.running == nil {
		r.running = map[string]bool{}
	}
	r.running[id] = true
	r.mu.Unlock()
	mine := func() {
		r.mu.Lock()
		delete(r.running, id)
		r.mu.Unlock()
	}
	if r.shared == nil {
		return mine, true, nil
	}
	// Another replica's run holds it for as long as it runs: one try,
	// not a wait.
	unlock, ok, err := r.shared.TryLock(ctx, "bulk/"+id)
	if err != nil || !ok {
		mine()
		return nil, false, err
	}
	return func() { unlock(); mine() }, true, nil
}

// StartBulk queues a Bulk Exalate of the connection's project and
// returns it at once. It joins the bulk listing the project already, if
// one is; and resumes the last one, past the items it started, if that
// failed (a tracker down for minutes): asked again, a failed bulk is not
// started over.
func (n *pipeline) StartBulk(ctx context.Context, connID string) (adminapi.Bulk, error) {
	if _, err := n.entities(); err != nil {
		return adminapi.Bulk{}, err
	}
	c, err := n.findConnection(ctx, connID)
	if err != nil {
		return adminapi.Bulk{}, err
	}
	var b store.Bulk
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if b, err = n.st.ListingBulk(ctx, tx, c.ID); err == nil {
			// Joined; with a job of its own again if its job is gone
			// (River gave up on it while the row said listing).
			if live, err := n.bulkJobLive(ctx, tx, b); err != nil || live {
				return err
			}
			return n.queueBulk(ctx, tx, c.ID, b.ID)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		b, err = n.st.LatestBulk(ctx, tx, c.ID)
		switch {
		case err == nil && b.State == store.BulkFailed:
			if err := n.st.ReopenBulk(ctx, tx, c.ID, b.ID); err != nil {
				return err
			}
			b.State, b.Error = store.BulkListing, ""
		case err == nil || errors.Is(err, store.ErrNotFound):
			b = store.Bulk{ConnectionID: c.ID, ID: uuid.NewString(), State: store.BulkListing, CreatedAt: n.now()}
			if err := n.st.CreateBulk(ctx, tx, b); err != nil {
				return err
			}
		default:
			return err
		}
		return n.queueBulk(ctx, tx, c.ID, b.ID)
	})
	if err != nil {
		return adminapi.Bulk{}, fmt.Errorf("queueing the Bulk Exalate of %s: %w", c.LocalProjectName, err)
	}
	n.log.Info("Bulk Exalate queued", "connection", c.ID, "bulk", b.ID)
	return n.bulkOf(ctx, c, b, 0)
}

// queueBulk inserts, in tx, the job that runs bulk id, and records it.
func (n *pipeline) queueBulk(ctx context.Context, tx *sql.Tx, connID, id string) error {
	res, err := n.river.InsertTx(ctx, tx, bulkArgs{Conn: connID, Bulk: id}, &river.InsertOpts{MaxAttempts: bulkAttempts})
	if err != nil {
		return err
	}
	return n.st.SetBulkJob(ctx, tx, connID, id, res.Job.ID)
}

// bulkJobLive says whether a listing bulk's job may still run it: not
// finished, discarded or cancelled.
func (n *pipeline) bulkJobLive(ctx context.Context, tx *sql.Tx, b store.Bulk) (bool, error) {
	if b.JobID == 0 {
		return false, nil
	}
	j, err := n.river.JobGetTx(ctx, tx, b.JobID)
	if errors.Is(err, river.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	switch j.State {
	case rivertype.JobStateCompleted, rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
		return false, nil
	}
	return true, nil
}

// Bulk says how far a Bulk Exalate got; events > 0 asks for the syncs of
// its first events items (at most adminapi.BulkEventsListed) too.
func (n *pipeline) Bulk(ctx context.Context, connID, id string, events int) (adminapi.Bulk, error) {
	c, err := n.findConnection(ctx, connID)
	if err != nil {
		return adminapi.Bulk{}, err
	}
	b, err := n.st.GetBulk(ctx, nil, c.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return adminapi.Bulk{}, Errorf(ErrNotFound, "no Bulk Exalate %s on connection %s", id, c.Name)
	}
	if err != nil {
		return adminapi.Bulk{}, err
	}
	return n.bulkOf(ctx, c, b, events)
}

func (n *pipeline) bulkOf(ctx context.Context, c store.Connection, b store.Bulk, events int) (adminapi.Bulk, error) {
	counts, err := n.st.CountBulk(ctx, c.ID, b.ID)
	if err != nil {
		return adminapi.Bulk{}, err
	}
	out := adminapi.Bulk{ID: b.ID, ConnectionID: c.ID, Listing: b.State == store.BulkListing, Failed: b.State == store.BulkFailed,
		Error: b.Error, Started: counts.Started, Synchronized: counts.Synchronized, Failing: counts.Failing}
	if events <= 0 && (c.Status == StatusActive || counts.Started == counts.Synchronized) {
		return out, nil
	}
	// The events say whether the connection holds them, and why.
	evs, err := n.st.BulkEvents(ctx, c.ID, b.ID, min(max(events, 1), adminapi.BulkEventsListed))
	if err != nil {
		return adminapi.Bulk{}, err
	}
	for _, ev := range evs {
		se := stageEventOf(ev, ev.UpdatedAt)
		se.Held = heldBy(c, ev)
		if out.Held == "" {
			out.Held = se.Held
		}
		if events > 0 {
			out.Events = append(out.Events, se)
		}
	}
	return out, nil
}

// ExalateAll syncs every entity of a connection's project now (Bulk
// Exalate): StartBulk, then adminapi.WaitBulk until each item has its
// sync. It returns how many syncs the bulk started, one per entity, and
// the first adminapi.BulkEventsListed of them in order (the follow-ups of
// entities edited meanwhile, see followListed, are not among them);
// progress follows through Subscribe. Entities already in sync still get
// an event, so the operator sees each one confirmed. If ctx ends first,
// the bulk goes on.
func (n *pipeline) ExalateAll(ctx context.Context, connID string) (BulkStarted, error) {
	b, err := n.StartBulk(ctx, connID)
	if err != nil {
		return BulkStarted{}, err
	}
	return adminapi.WaitBulk(ctx, n, b, nil)
}

// runBulk is one run of a bulk's job: it starts the sync of each item of
// the project that the bulk has not started yet. An error is retried by
// River (a tracker unreachable, a listing cut); last says this try is the
// last, and an error then fails the bulk for good, as a project the
// tracker refuses to list does at once. Every way out of a try that
// fails goes through here, so a bulk never stays listing with no job
// left to run it.
func (n *pipeline) runBulk(ctx context.Context, a bulkArgs, last bool) error {
	snooze, err := n.listBulk(ctx, a)
	switch {
	case snooze:
		n.log.Info("Bulk Exalate already running elsewhere; looking again later", "connection", a.Conn, "bulk", a.Bulk)
		return river.JobSnooze(time.Minute)
	case err == nil:
		return nil
	case ctx.Err() != nil:
		// The node is stopping: the try is given back, and the next run
		// (here or on another replica) resumes.
		return errors.Join(ctx.Err(), err)
	case last || errors.Is(err, ErrNotFound) || errors.Is(err, ErrBadRequest):
		n.log.Error("Bulk Exalate failed", "connection", a.Conn, "bulk", a.Bulk, "err", err)
		if ferr := n.st.FinishBulk(context.WithoutCancel(ctx), a.Conn, a.Bulk, store.BulkFailed, err.Error(), n.now()); ferr != nil {
			return errors.Join(err, ferr) // River's retry (or a bulk asked for again) ends it
		}
		return nil
	}
	n.log.Warn("Bulk Exalate stopped; will resume", "connection", a.Conn, "bulk", a.Bulk, "err", err)
	if serr := n.st.SetBulkError(ctx, a.Conn, a.Bulk, err.Error()+"; trying again"); serr != nil {
		n.log.Error("recording a Bulk Exalate's failure", "bulk", a.Bulk, "err", serr)
	}
	return err
}

// listBulk is runBulk's work; snooze says another run holds the bulk.
func (n *pipeline) listBulk(ctx context.Context, a bulkArgs) (snooze bool, err error) {
	c, err := n.findConnection(ctx, a.Conn)
	if errors.Is(err, ErrNotFound) || errors.Is(err, store.ErrNotFound) {
		return false, nil // deleted meanwhile, and the bulk with it
	}
	if err != nil {
		return false, err
	}
	b, err := n.st.GetBulk(ctx, nil, c.ID, a.Bulk)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil || b.State != store.BulkListing {
		return false, err
	}
	release, mine, err := n.bulks.try(ctx, b.ID)
	if err != nil || !mine {
		return err == nil, err
	}
	defer release()
	done, err := n.st.BulkEntities(ctx, c.ID, b.ID)
	if err != nil {
		return false, err
	}
	if len(done) > 0 {
		n.log.Info("Bulk Exalate resumed", "connection", c.ID, "bulk", b.ID, "started before", len(done))
	} else {
		n.log.Info("Bulk Exalate running", "connection", c.ID, "bulk", b.ID)
	}
	if err := n.exalateAll(ctx, c, b.ID, done); err != nil {
		return false, err
	}
	return false, n.st.FinishBulk(context.WithoutCancel(ctx), c.ID, b.ID, store.BulkListed, "", n.now())
}

// exalateAll starts the sync of every entity of c's project that is not
// in done (started by an earlier run of the bulk, with the modification
// time it was listed with) as items of bulk. An entity gone since it was
// listed is skipped.
//
// Its memory does not grow with the project but by an id and a time per
// entity (for followListed): the listing is taken a page at a time, each
// page prepared and dropped before the next (TestBulkHoldsOnePage).
func (n *pipeline) exalateAll(ctx context.Context, c store.Connection, bulk string, done map[string]time.Time) error {
	et, err := n.entities()
	if err != nil {
		return err
	}
	seq := len(done)
	one := func(e Entity) error {
		if _, started := done[e.ID]; started || unexalated(ctx, n.st, c.ID, e.ID) {
			// Started by an earlier run; or unexalated: only an exalate
			// of the item itself syncs it again.
			return nil
		}
		_, err := n.exalateOne(ctx, et, c, e, &bulkItem{id: bulk, seq: seq, listedAt: e.ModifiedAt})
		if errors.Is(err, ErrNotFound) {
			n.log.Info("Bulk Exalate: an item deleted since it was listed; skipped", "connection", c.ID, "bulk", bulk, "entity", e.ID)
			return nil
		}
		if err != nil {
			return err
		}
		seq++
		return nil
	}
	br, isBulk := et.(BulkReader)
	if !isBulk {
		ids, err := et.List(ctx, c.LocalProject)
		if err != nil {
			return fmt.Errorf("listing %s: %w", c.LocalProjectName, err)
		}
		for _, id := range ids {
			if err := one(Entity{ID: id}); err != nil {
				return err
			}
		}
		return nil
	}
	// The listing carries the fields: each entity costs its comments and
	// attachments, not a read of its own. Each page is prepared as it
	// comes; what is kept of it is each entity's modification time, for
	// followListed.
	//
	// Preparing a page takes a while (two reads per entity, under the
	// rate limit), so the listing spans the bulk, and a tracker's page
	// token may expire in between (Asana's do). A listing that fails after
	// it got somewhere is taken again from the start, skipping what was
	// prepared already.
	//
	// An earlier run's items are followed up too, by the time they were
	// listed with then.
	listed := map[string]time.Time{}
	for id, at := range done {
		if !at.IsZero() {
			listed[id] = at
		}
	}
	for {
		var failed error // one's, not the listing's
		progressed := false
		err = br.ListEntities(ctx, c.LocalProject, func(page []Entity) error {
			for _, e := range page {
				if _, seen := listed[e.ID]; seen {
					continue
				}
				listed[e.ID], progressed = e.ModifiedAt, true
				if failed = one(e); failed != nil {
					return failed
				}
			}
			return nil
		})
		switch {
		case err != nil && err == failed:
			return err
		case err != nil && progressed && ctx.Err() == nil:
			n.log.Warn("the listing failed midway; listing again", "connection", c.ID, "prepared", len(listed), "err", err)
			continue
		case err != nil:
			return fmt.Errorf("listing %s: %w", c.LocalProjectName, err)
		case len(listed) > 0:
			return n.followListed(ctx, et, br, c, listed)
		}
		return nil
	}
}
