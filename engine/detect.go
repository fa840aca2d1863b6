package engine

import (
	"context"
	"errors"
	"log/slog"
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
	// is writing to, skipped until it is done, and the lock that keeps a
	// read from seeing a write without its record (see pipeline.writing).
	applying *applyingSet
	writing  *sync.RWMutex
	// prepare is Preparing (pipeline.prepare).
	prepare func(ctx context.Context, c store.Connection, e Entity, always bool, started time.Time) (StageEvent, error)
	// recordDeleted records an item gone from the tracker (pipeline.recordDeleted).
	recordDeleted func(ctx context.Context, c store.Connection, twin store.Twin) error
	// connRules are a connection's rules (connections.connRules): a Script
	// mode connection's outgoing script may decide which new items sync.
	connRules func(ctx context.Context, connID string, m Mode) (Rules, error)

	stop    context.CancelFunc
	running sync.WaitGroup
}

// startDetector starts change detection every poll interval; Close stops it.
func (n *Node) startDetector(every time.Duration) {
	d := &detector{st: n.st, log: n.log, now: n.now, entities: n.entities, applying: &n.applying, writing: &n.writing,
		prepare: n.prepare, recordDeleted: n.recordDeleted, connRules: n.connections.connRules}
	ctx, cancel := context.WithCancel(context.Background())
	d.stop = cancel
	d.running.Go(func() { d.runDetection(ctx, every) })
	n.detector = d
}

// runDetection asks the tracker what changed on every active connection's
// project, every poll interval, until ctx ends.
func (d *detector) runDetection(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cs, err := d.st.Connections(ctx)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("change detection: listing connections", "err", err)
			}
			continue
		}
		for _, c := range cs {
			// A deactivated connection still notices changes: they queue
			// at Sending and go out when it is activated again.
			if c.Status != StatusActive && c.Status != StatusDeactivated {
				continue
			}
			if err := d.detect(ctx, c); err != nil && ctx.Err() == nil && !d.connectionGone(ctx, c.ID) {
				d.log.Warn("change detection failed; will look again", "connection", c.ID, "err", err)
			}
		}
	}
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
// entities that have a twin (or, with the trigger on, are new) are synced.
// A lost cursor (the first round, or one the tracker expired) is followed
// by a reconcile of everything modified since the last look, so nothing
// is missed.
func (d *detector) detect(ctx context.Context, c store.Connection) error {
	et, err := d.entities()
	if err != nil {
		return err
	}
	cursor, checked, err := d.st.DetectCursor(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		checked = c.CreatedAt
	} else if err != nil {
		return err
	}
	now := d.now()
	ch, err := et.Changes(ctx, c.LocalProject, cursor)
	if err != nil {
		return err
	}
	ids := ch.IDs
	if ch.Reset {
		if ids, err = et.ChangedSince(ctx, c.LocalProject, checked.Add(-reconcileMargin)); err != nil {
			return err
		}
	}
	// Entities skipped while a sync wrote to them come round again.
	again := d.applying.due(c.ID)
	for i, id := range append(ids, again...) {
		if err := d.consider(ctx, et, c, id); err != nil {
			d.applying.later(c.ID, again[max(i-len(ids), 0):]...) // still due
			return err
		}
	}
	return d.st.PutDetectCursor(ctx, c.ID, ch.Cursor, now)
}

// consider syncs one changed entity if the connection covers it.
func (d *detector) consider(ctx context.Context, et EntityTracker, c store.Connection, id string) error {
	// Reading the entity and its links under the read lock means an apply
	// in progress is seen either not at all or with its links recorded, so
	// what the sync itself wrote is never taken for a user's change.
	if d.applying.skip(c.ID, id) {
		return nil
	}
	d.writing.RLock()
	defer d.writing.RUnlock()
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
		// user's new task: wait until that create is resolved.
		if pending, err := d.st.PendingWrites(ctx, c.ID, "task", ""); err != nil || pending > 0 {
			return err
		}
	case err != nil:
		return err
	}
	if hasTwin && (twin.LocalDeleted || twin.RemoteDeleted) {
		return nil // a deleted twin is not synced any more
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
	_, err = d.prepare(ctx, c, e, false, started)
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
