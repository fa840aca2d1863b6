package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tandem-sync/tandem/store"
)

// PathProgress is where the node applying a replica reports how far it has
// got, back to the node that sent it.
const PathProgress = "/api/v1/peer/progress"

// DefaultProgressEvery is how often, at most, the node applying a replica
// reports its progress (see Config.ProgressEvery).
const DefaultProgressEvery = time.Second

// progressSendTimeout bounds one progress report to the source: a report
// is best effort and must never hold the apply up for long.
const progressSendTimeout = 2 * time.Second

// ProgressDelivery is the body of a signed POST /api/v1/peer/progress.
type ProgressDelivery struct {
	EventID  string   `json:"event_id"`
	Progress Progress `json:"progress"`
}

// ReceiveProgress publishes a progress report from the node applying one
// of this node's syncs to this node's listeners, as a StageEvent with
// Progress set. Nothing is stored: a report is news, not state, and one
// lost or late changes nothing. A report for a sync no longer waiting for
// the remote is dropped.
func (n *pipeline) ReceiveProgress(ctx context.Context, c Connection, d ProgressDelivery) error {
	p := d.Progress
	// What is shown on the operator's terminal: only the words this node
	// would use itself pass.
	if !validProgress(p) {
		return Errorf(ErrBadRequest, "a progress report of %d of %d %q: want 0 ≤ done ≤ total of %s or %s",
			p.Done, p.Total, p.What, ProgressComments, ProgressAttachments)
	}
	ev, err := n.st.SyncEvent(ctx, nil, c.ID, d.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(ErrNotFound, "no outgoing sync %s on this connection", d.EventID)
	}
	if err != nil {
		return fmt.Errorf("reading sync %s for its progress: %w", d.EventID, err)
	}
	if ev.Direction != store.DirectionOut {
		return Errorf(ErrBadRequest, "sync %s is not one this node sent", d.EventID)
	}
	if ev.Stage != StageWaiting {
		return nil
	}
	if n.hub.relayed {
		// Every replica's console, this one's too, hears it from the
		// database (stagenotes.go).
		if err := n.noteProgress(ctx, c.ID, ev.ID, p); err != nil {
			return fmt.Errorf("relaying the progress of sync %s: %w", ev.ID, err)
		}
		return nil
	}
	se := stageEventOf(ev, n.now())
	se.Progress = &p
	n.hub.publish(se)
	return nil
}

// validProgress reports whether p counts what this node would itself
// report: only these words reach an operator's terminal.
func validProgress(p Progress) bool {
	return (p.What == ProgressComments || p.What == ProgressAttachments) && p.Done >= 0 && p.Total >= 0 && p.Done <= p.Total
}

// applyProgress reports an apply's progress, here (the node's own events)
// and to the source, at most once per interval and only once the apply has
// run that long: a quick apply reports nothing. Reports go in the
// background, one at a time; one due while another is on its way is
// skipped, not queued, so a slow peer never makes them pile up, and a
// failed one is not retried. Nothing here can fail or hold up the apply
// but finish, which waits (bounded) for the last report so the source sees
// it before the result.
type applyProgress struct {
	n     *pipeline
	c     store.Connection
	ev    store.SyncEvent // the incoming event
	every time.Duration

	mu      sync.Mutex
	last    time.Time // of the last report, or the apply's start
	latest  Progress  // the newest step
	told    Progress  // the newest step reported to the source
	started bool      // some step was reported
	sending chan struct{}
}

// newApplyProgress starts following the apply of incoming event ev; nil
// when reports are off (Config.ProgressEvery < 0).
func (n *pipeline) newApplyProgress(c store.Connection, ev store.SyncEvent) *applyProgress {
	every := n.progressEvery
	if every < 0 {
		return nil
	}
	if every == 0 {
		every = DefaultProgressEvery
	}
	return &applyProgress{n: n, c: c, ev: ev, every: every, last: time.Now()}
}

// step records that done of total items of kind what are applied.
func (p *applyProgress) step(what string, done, total int) {
	if p == nil || total == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latest = Progress{What: what, Done: done, Total: total}
	if time.Since(p.last) < p.every || p.sending != nil {
		return
	}
	p.last, p.started = time.Now(), true
	p.report(p.latest)
}

// report publishes pr here and sends it to the source in the background.
// The caller holds p.mu, and no send is on its way.
func (p *applyProgress) report(pr Progress) {
	relayed := p.n.hub.relayed
	if !relayed {
		se := stageEventOf(p.ev, p.n.now())
		se.Progress = &pr
		p.n.hub.publish(se)
	}
	p.told = pr
	done := make(chan struct{})
	p.sending = done
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), progressSendTimeout)
		defer cancel()
		if relayed {
			// On PostgreSQL every replica's console hears it from the
			// database (stagenotes.go), before the source does.
			if err := p.n.noteProgress(ctx, p.ev.ConnectionID, p.ev.ID, pr); err != nil {
				p.n.log.Debug("progress not relayed to the replicas", "connection", p.c.ID, "event", p.ev.ID, "err", err)
			}
		}
		d := ProgressDelivery{EventID: p.ev.ID, Progress: pr}
		if err := p.n.signedPost(ctx, p.c, PathProgress, "progress-"+p.ev.ID, d, nil); err != nil {
			p.n.log.Debug("progress report not delivered", "connection", p.c.ID, "event", p.ev.ID, "err", err)
		}
		p.mu.Lock()
		p.sending = nil
		p.mu.Unlock()
	}()
}

// finish reports the last step, when any was reported and the source has
// not got it, and waits for the reports on their way: the source then shows
// the apply complete before the result makes it Synchronized.
func (p *applyProgress) finish() {
	if p == nil {
		return
	}
	p.wait()
	p.mu.Lock()
	if p.started && p.latest != p.told {
		p.report(p.latest)
	}
	p.mu.Unlock()
	p.wait()
}

// wait waits for the report on its way, if any.
func (p *applyProgress) wait() {
	if p == nil {
		return
	}
	p.mu.Lock()
	ch := p.sending
	p.mu.Unlock()
	if ch != nil {
		<-ch
	}
}
