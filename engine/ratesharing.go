package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/store"
)

// The tracker's budget, shared among replicas. Each replica of a node on
// PostgreSQL has a tracker client of its own, with the token and the
// budget (rate, concurrency) configured for the plan, which the tracker
// counts per token: N replicas spending each the whole would ask for N
// times the plan. So each counts, every ReplicaCheck, the replicas alive
// (store.LiveReplicas: the sessions holding HoldReplica's lock), and when
// the count changes tells its tracker to spend that part of the budget
// (tracker.RateSharer), the connector applying its floors. On SQLite the
// one process keeps the whole budget and nothing runs.

// DefaultReplicaCheck is how often a replica on PostgreSQL counts the
// node's live replicas: a replica started, stopped or dead changes every
// replica's share within about this long.
const DefaultReplicaCheck = 2 * time.Second

// rateShare counts the live replicas and tells the tracker its share.
type rateShare struct {
	st     *store.Store
	sharer tracker.RateSharer // nil: the tracker keeps its budget whole
	log    *slog.Logger
	every  time.Duration

	parts  atomic.Int64 // the count last applied; 1 until one differs
	failed bool         // the last count failed (warned once); run's goroutine only
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// startRateShare counts the replicas once, so the share holds before
// this replica's first job, then again every every (DefaultReplicaCheck
// if 0) until stop. Only on PostgreSQL; nil on SQLite.
func startRateShare(st *store.Store, tr Tracker, log *slog.Logger, every time.Duration) *rateShare {
	if !st.Shared() {
		return nil
	}
	if every <= 0 {
		every = DefaultReplicaCheck
	}
	r := &rateShare{st: st, log: log, every: every}
	r.sharer, _ = tr.(tracker.RateSharer)
	r.parts.Store(1)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.check(ctx)
	r.done.Go(func() { r.run(ctx) })
	return r
}

func (r *rateShare) run(ctx context.Context) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.check(ctx)
		}
	}
}

// check counts the live replicas and, if the count changed, tells the
// tracker its share and logs it.
func (r *rateShare) check(ctx context.Context) {
	n, err := r.st.LiveReplicas(ctx)
	if err != nil {
		if ctx.Err() == nil && !r.failed {
			r.log.Warn("counting the live replicas to share the tracker's budget; the share stays as it was", "err", err)
		}
		r.failed = true
		return
	}
	r.failed = false
	// This replica counts itself even if its own session was lost.
	n = max(1, n)
	if int64(n) == r.parts.Load() {
		return
	}
	r.parts.Store(int64(n))
	if r.sharer == nil {
		r.log.Info("live replicas changed; this tracker's budget is not shared", "replicas", n)
		return
	}
	perMinute := r.sharer.ShareRate(n)
	var msg string
	switch {
	case n == 1 && perMinute == 0:
		msg = "tracker budget no longer shared, one replica live (no request rate configured)"
	case n == 1:
		msg = fmt.Sprintf("tracker budget no longer shared, one replica live: %.0f requests/min", perMinute)
	case perMinute == 0:
		msg = fmt.Sprintf("tracker budget shared among %d replicas (no request rate configured)", n)
	default:
		msg = fmt.Sprintf("tracker budget shared among %d replicas: %.0f requests/min each", n, perMinute)
	}
	r.log.Info(msg, "replicas", n)
}

// stop ends the counting and waits for it.
func (r *rateShare) stop() {
	if r == nil {
		return
	}
	r.cancel()
	r.done.Wait()
}

// Replicas is how many replicas of this node share its tracker's budget,
// as this replica last counted them: 1 on SQLite, where the one process
// keeps the whole budget. /metrics shows it as tandem_replicas.
func (n *Node) Replicas() int {
	if n.share == nil {
		return 1
	}
	return int(n.share.parts.Load())
}
