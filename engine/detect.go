package engine

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/tandem-sync/tandem/store"
)

// DefaultPoll is how often a node asks its tracker what changed.
const DefaultPoll = 2 * time.Second

// reconcileMargin widens the window of a reconcile after a lost cursor, so
// clock skew between the node and the tracker loses nothing.
const reconcileMargin = time.Minute

// detector is the node's part that notices changes: it asks the tracker,
// every poll interval, what changed on each connection's project and
// starts a sync (Preparing) for each changed item the connection covers.
// It holds only what that needs; the sync it starts and the delete it
// records are the pipeline's (prepare, recordDeleted).
type detector struct {
	st       *store.Store
	log      *slog.Logger
	now      func() time.Time
	entities func() (EntityTracker, error)
	// applying and writing are the pipeline's: the items an incoming sync
	// is writing to, skipped until it is done, and the locks that keep a
	// read from seeing a write without its record (see writeLocks).
	applying *applyingSet
	writing  *writeLocks
	// prepare is Preparing (pipeline.prepare).
	prepare func(ctx context.Context, c store.Connection, e Entity, always bool, started time.Time, bulk *bulkItem) (StageEvent, error)
	// recordDeleted records an item gone from the tracker (pipeline.recordDeleted).
	recordDeleted func(ctx context.Context, c store.Connection, twin store.Twin) error
	// connRules are a connection's rules (connections.connRules): a Script
	// mode connection's outgoing script may decide which new items sync.
	connRules func(ctx context.Context, connID string, m Mode) (Rules, error)
	// watched reports whether a console is watching the node (it has
	// stage event listeners): every project is then looked at every poll
	// interval.
	watched func() bool
	// sched says which projects are due a look.
	sched *schedule
	// kick asks for a look, before the next tick, at the projects a
	// webhook delivery marked (sched.lookNow); want tells the webhooks
	// which projects have connections (webhooks.go). Both nil without
	// webhooks.
	kick chan struct{}
	want func(projects []string)
	// leader is this replica's hold on the lead: only the leader detects
	// (leader.go).
	leader *leadership

	stop    context.CancelFunc
	running sync.WaitGroup
}

// startDetector starts change detection every poll interval, backing off
// to every maxEvery on idle projects (see schedule); Close stops it.
func (n *Node) startDetector(every, maxEvery time.Duration) {
	d := &detector{st: n.st, log: n.log, now: n.now, entities: n.entities, applying: &n.applying, writing: &n.writing,
		prepare: n.prepare, recordDeleted: n.recordDeleted, connRules: n.connections.connRules,
		watched: n.pipeline.hub.listening, sched: newSchedule(every, maxEvery),
		leader: &leadership{st: n.st, log: n.log}}
	n.startHooks(d, every) // before the detector runs: it reads their kick
	if h := n.hooks; h != nil {
		d.leader.gained = h.reload
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.stop = cancel
	d.running.Go(func() { d.runDetection(ctx, every) })
	n.detector = d
	n.pipeline.wake = d.sched.wake
}

// runDetection asks the tracker what changed on the active connections'
// projects until ctx ends: every poll interval it looks at each project
// due (schedule), once for all the connections on it — while this replica
// leads (leader.go), which it checks, or tries to become, on each tick.
func (d *detector) runDetection(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	defer func() {
		if d.leader.leads() {
			d.leader.release()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if d.leader.leading(ctx) {
				d.requeueOrphans(ctx)
				d.round(ctx, false)
			}
		case <-d.kick:
			if d.leader.leads() {
				d.round(ctx, true)
			}
		}
	}
}

// round is one tick of change detection: the projects due are looked at;
// now, a look outside the ticks at the projects a webhook delivery marked.
func (d *detector) round(ctx context.Context, now bool) {
	if !now {
		defer d.sched.ticked()
	}
	cs, err := d.st.Connections(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("change detection: listing connections", "err", err)
		}
		return
	}
	// One look per tracker project, shared by every connection on it.
	var projects []string
	byProject := map[string][]store.Connection{}
	for _, c := range cs {
		// A deactivated connection still notices changes: they queue
		// at Sending and go out when it is activated again.
		if c.Status != StatusActive && c.Status != StatusDeactivated {
			continue
		}
		if byProject[c.LocalProject] == nil {
			projects = append(projects, c.LocalProject)
		}
		byProject[c.LocalProject] = append(byProject[c.LocalProject], c)
	}
	watched := d.watched != nil && d.watched()
	for _, p := range projects {
		if now && !d.sched.takeNow(p) || !now && !d.sched.due(p, watched) {
			continue
		}
		changed, failed := d.detectProject(ctx, p, byProject[p])
		d.sched.looked(p, changed, failed)
	}
	if now {
		return
	}
	d.sched.forget(projects)
	if d.want != nil {
		d.want(projects)
	}
}

// detectProject is one round of change detection on a project, for every
// connection on it; it reports whether any change was seen and whether a
// connection's round failed. The connections share one read of the
// tracker's changes when their cursors agree, as they do after their
// first round together (see detect).
func (d *detector) detectProject(ctx context.Context, project string, conns []store.Connection) (changed, failed bool) {
	var lead *changesRead
	for _, c := range conns {
		saw, err := d.detect(ctx, c, &lead)
		changed = changed || saw
		if err != nil {
			failed = true
			if ctx.Err() == nil && !d.connectionGone(ctx, c.ID) {
				d.log.Warn("change detection failed; will look again", "connection", c.ID, "err", err)
			}
		}
	}
	return changed, failed
}

// changesRead is one read of a project's changes: the cursor it started
// from, what it found, and when it was made.
type changesRead struct {
	from string
	ch   Changes
	at   time.Time
}

// connectionGone reports whether a connection was deleted, as it may be
// while a round of change detection looks at it: that round's writes for
// it (its cursor, a sync it prepared) fail on the missing connection, and
// there is nothing wrong to warn about, nor anything left to do.
func (d *detector) connectionGone(ctx context.Context, id string) bool {
	_, err := d.st.Connection(ctx, id)
	return errors.Is(err, store.ErrNotFound)
}

// detect is one round of change detection on a connection: the changed
// entities that have a twin (or, with the trigger on, are new) are synced;
// it reports whether it saw any. A lost cursor (the first round, or one
// the tracker expired) is followed by a reconcile of everything modified
// since the last look, so nothing is missed.
//
// *lead is the project's first read this round, shared by the other
// connections on the project: one whose cursor is the lead's takes the
// lead's read instead of making its own. One whose cursor differs (it is
// new, or its last round failed) reads from its own cursor, and then goes
// on from the lead's next cursor like the others: the lead's read was made
// before its own, so it only sees some changes again (which syncs nothing
// twice) and misses none, and the next round they share one read.
func (d *detector) detect(ctx context.Context, c store.Connection, lead **changesRead) (bool, error) {
	et, err := d.entities()
	if err != nil {
		return false, err
	}
	cursor, checked, err := d.st.DetectCursor(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		checked = c.CreatedAt
	} else if err != nil {
		return false, err
	}
	var read changesRead
	if *lead != nil && (*lead).from == cursor {
		read = **lead
	} else {
		read = changesRead{from: cursor, at: d.now()}
		if read.ch, err = et.Changes(ctx, c.LocalProject, cursor); err != nil {
			return false, err
		}
		if *lead == nil {
			*lead = &read
		}
	}
	ch := read.ch
	ids := ch.IDs
	evs := map[string]evidence{}
	for id, times := range ch.Own {
		evs[id] = evidence{own: times}
	}
	// After a reset, what detection knows of each entity is its
	// modification time, if the tracker lists those.
	var modified map[string]time.Time
	if ch.Reset {
		evs = nil
		if ids, modified, err = d.reconcileIDs(ctx, et, c.LocalProject, checked.Add(-reconcileMargin)); err != nil {
			return false, err
		}
	}
	// Entities skipped while a sync wrote to them come round again.
	again, againEvs, err := d.applying.due(ctx, c.ID)
	if err != nil {
		d.applying.later(c.ID, againEvs, again...)
		return false, err
	}
	saw := len(ids)+len(again) > 0
	for i, id := range append(ids, again...) {
		ev := evs[id]
		if at, ok := modified[id]; ok {
			ev = evidence{modified: at}
		}
		if i >= len(ids) {
			ev = againEvs[id]
		}
		if err := d.consider(ctx, et, c, id, ev); err != nil {
			d.applying.later(c.ID, againEvs, again[max(i-len(ids), 0):]...) // still due
			return saw, err
		}
	}
	return saw, d.st.PutDetectCursor(ctx, c.ID, (*lead).ch.Cursor, (*lead).at)
}

// reconcileIDs lists the entities of a project modified since t (the
// reconcile after a lost cursor), with each one's modification time when
// the tracker lists those cheaply (ModifiedLister; else nil).
func (d *detector) reconcileIDs(ctx context.Context, et EntityTracker, project string, t time.Time) ([]string, map[string]time.Time, error) {
	ml, ok := et.(ModifiedLister)
	if !ok {
		ids, err := et.ChangedSince(ctx, project, t)
		return ids, nil, err
	}
	mod, err := ml.ModifiedSince(ctx, project, t)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, 0, len(mod))
	for id := range mod {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, mod, nil
}

// consider syncs one changed entity if the connection covers it. ev is
// what detection knows of its changes: enough, at times, to tell that
// there is nothing to sync without reading it (see seenTimes).
func (d *detector) consider(ctx context.Context, et EntityTracker, c store.Connection, id string, ev evidence) error {
	// Reading the entity and its links under the read lock means an apply
	// in progress is seen either not at all or with its links recorded, so
	// what the sync itself wrote is never taken for a user's change.
	if skip, err := d.applying.skip(ctx, c.ID, id, ev); err != nil {
		return err
	} else if skip {
		// A change that is not one of the apply's own writes waits for
		// the apply in memory; should the node stop first, the apply's
		// next writes bring it up again, and must not be taken for mere
		// echoes (see seenTimes).
		release, err := d.writing.read(ctx, id)
		if err != nil {
			return err
		}
		echo, err := d.nothingNew(ctx, c.ID, id, evidence{own: ev.own})
		release()
		if err != nil || echo {
			return err
		}
		return d.st.InTx(ctx, func(tx *sql.Tx) error {
			return d.st.PutSeen(ctx, tx, c.ID, id, store.SeenDeferred, d.now())
		})
	}
	unlock, err := d.writing.read(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	started := d.now()
	// A first sync still on its way makes the entity as good as twinned: a
	// change made meanwhile is not in its replica and must follow it. Read
	// before the twin, which that sync records as it finishes, so one of
	// the two is seen.
	sending, err := d.st.UnfinishedEvents(ctx, c.ID, id)
	if err != nil {
		return err
	}
	twin, err := d.st.Twin(ctx, nil, c.ID, id)
	if errors.Is(err, store.ErrNotFound) && len(sending) == 0 {
		// No twin yet may be a create in flight here that made the item
		// and has not stored its twin: look again once those are over.
		if err := d.writing.settleCreates(ctx, nil); err != nil {
			return err
		}
		twin, err = d.st.Twin(ctx, nil, c.ID, id)
	}
	hasTwin := err == nil
	var byScript *scriptRules // the script whose trigger decides on a new item
	switch {
	case errors.Is(err, store.ErrNotFound) && len(sending) > 0:
	case errors.Is(err, store.ErrNotFound):
		if trig, terr := d.scriptTrigger(ctx, c); terr != nil {
			return terr
		} else if trig != nil {
			byScript = trig
		} else if !c.TriggerNewTasks {
			return nil
		}
		if unexalated(ctx, d.st, c.ID, id) {
			return nil
		}
		// A task an interrupted incoming create may have made is not a
		// user's new task: wait until that create is resolved. Counted
		// with no create in flight, whose pending write would count too.
		var pending int
		if serr := d.writing.settleCreates(ctx, func() { pending, err = d.st.PendingWrites(ctx, c.ID, "task", "") }); serr != nil {
			return serr
		}
		if err != nil || pending > 0 {
			return err
		}
	case err != nil:
		return err
	}
	if hasTwin && (twin.LocalDeleted || twin.RemoteDeleted) {
		return nil // a deleted twin is not synced any more
	}
	if hasTwin {
		// An incoming update stopped between its tracker write and its
		// record (a replica killed) left the item with that sync's values
		// and the twin without them: not a user's change to send back.
		// Looked at again once its retry has recorded it (updateTwin).
		pending, err := d.st.PendingWrites(ctx, c.ID, pendingUpdate, id)
		if err != nil {
			return err
		}
		if pending > 0 {
			d.applying.later(c.ID, map[string]evidence{id: ev}, id)
			return nil
		}
	}
	if (hasTwin || len(sending) > 0) && byScript == nil {
		if known, err := d.nothingNew(ctx, c.ID, id, ev); err != nil || known {
			return err
		}
	}
	e, err := et.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		if hasTwin {
			return d.recordDeleted(ctx, c, twin)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if e.Project != c.LocalProject {
		return nil
	}
	if byScript != nil {
		sync, err := byScript.trigger(ctx, e)
		if err != nil && isScriptError(err) {
			d.log.Warn("a trigger script failed; the item waits for its next change", "connection", c.Name, "err", err.Error())
			return nil
		}
		if err != nil || !sync {
			return err
		}
	}
	_, err = d.prepare(ctx, c, e, false, started, nil)
	if err != nil && isScriptError(err) {
		// A script's own failure holds up this item, not the connection:
		// its next change (or an exalate) runs the version then in force.
		d.log.Warn("an outgoing script failed; the item waits for its next change or an exalate", "connection", c.Name, "err", err.Error())
		return nil
	}
	return err
}

// scriptTrigger is the connection's outgoing script when it defines
// trigger(item), which then decides which new items sync (in place of
// the on/off trigger); nil otherwise.
func (d *detector) scriptTrigger(ctx context.Context, c store.Connection) (*scriptRules, error) {
	if Mode(c.Mode) != ModeScript || d.connRules == nil {
		return nil, nil
	}
	r, err := d.connRules(ctx, c.ID, Mode(c.Mode))
	if err != nil {
		return nil, err
	}
	if sr, ok := r.(*scriptRules); ok && sr.out.HasTrigger() {
		return sr, nil
	}
	return nil, nil
}

// SetTrigger turns "sync new tasks automatically" on or off for a
// connection (by id or name).
func (n *connections) SetTrigger(ctx context.Context, id string, on bool) (Connection, error) {
	c, err := n.ConnectionByID(ctx, id)
	if err != nil {
		return c, err
	}
	if err := n.st.SetTrigger(ctx, c.ID, on); err != nil {
		return c, err
	}
	c.TriggerNewTasks = on
	return c, nil
}
