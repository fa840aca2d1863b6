package engine

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/tandem-sync/tandem/store"
)

// One leader among a node's replicas. Several `tandem serve` processes on
// one PostgreSQL database are one node: any of them runs the pipeline's
// jobs, but change detection and webhook upkeep run on one at a time, or
// every replica would ask the tracker the same question and establish the
// same webhooks. The one that runs them holds the store's "detect" lead
// (store.TryLead: a session-level advisory lock on a connection kept for
// as long as it leads); the others try to take it on every tick of the
// poll interval, and one of them has it within a tick or two of the
// leader's session ending — its process stopped or was killed, or its
// connection to the database was cut. On SQLite the one process leads.

// leadRole is the lead change detection and webhook upkeep run under.
const leadRole = "detect"

// leadership is a replica's hold, or not, on the lead, checked on each
// tick by the detector's goroutine (leading), and read from any (leads).
type leadership struct {
	st  *store.Store
	log *slog.Logger

	lead *store.Lead // the detector's goroutine only
	held atomic.Bool
	// gained is called from leading when this replica takes the lead:
	// what it knew of the leader's work (the webhooks) may be stale.
	gained func(ctx context.Context)
}

// leading reports whether this replica leads, taking the lead if it is
// free and giving it up if its session no longer answers. Only the
// detector's goroutine calls it.
func (l *leadership) leading(ctx context.Context) bool {
	if l.lead != nil {
		err := l.lead.Check(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		l.log.Warn("lost the lead of change detection (its database session ended); another replica may take it", "err", err)
		l.release()
	}
	lead, err := l.st.TryLead(ctx, leadRole)
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("change detection: trying to take the lead", "err", err)
		}
		return false
	}
	if lead == nil {
		return false
	}
	l.lead = lead
	l.held.Store(true)
	if l.st.Shared() {
		l.log.Info("this replica now runs change detection and webhook upkeep")
	}
	if l.gained != nil {
		l.gained(ctx)
	}
	return true
}

// leads reports whether this replica leads now.
func (l *leadership) leads() bool { return l.held.Load() }

// release gives the lead up.
func (l *leadership) release() {
	l.held.Store(false)
	l.lead.Release()
	l.lead = nil
}

// requeueOrphans has the jobs a dead replica left running run again now
// (store.RequeueOrphaned), on PostgreSQL, where no replica requeues
// running jobs at its start; the leader does it on each tick.
func (d *detector) requeueOrphans(ctx context.Context) {
	if !d.st.Shared() {
		return
	}
	n, err := d.st.RequeueOrphaned(ctx)
	if err != nil && ctx.Err() == nil {
		d.log.Warn("requeueing the steps a stopped replica left running", "err", err)
	}
	if n > 0 {
		d.log.Info("resuming sync steps a stopped replica left unfinished", "jobs", n)
	}
}

// Leads reports whether this replica runs the node's change detection and
// webhook upkeep now: on SQLite the one process, once started; on
// PostgreSQL the replica holding the lead; none without change detection
// (Config.Poll < 0). /metrics shows it as tandem_leader.
func (n *Node) Leads() bool { return n.detector != nil && n.detector.leader.leads() }
