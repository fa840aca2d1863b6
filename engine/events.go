package engine

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"time"

	"github.com/tandem-sync/tandem/store"
)

// hub fans stage events out to listeners. A listener that doesn't keep up
// loses events rather than stalling the pipeline; everything is in the
// store for it to catch up from.
//
// On SQLite the process that moves an event publishes it here at once. On
// PostgreSQL (relayed) every replica publishes what the database relays
// (stagenotes.go): the mover notifies in the transaction that records the
// stage, and each replica, the mover too, publishes what it hears, so a
// console on any replica sees every stage once, in commit order.
type hub struct {
	mu   sync.Mutex
	next int
	subs map[int]chan StageEvent

	// relayed is set before the pipeline starts, and never changes.
	relayed bool
	relay   *relay // nil on SQLite
}

func (h *hub) publish(e StageEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// listening reports whether anyone listens: a console is watching.
func (h *hub) listening() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) > 0
}

// Subscribe returns a channel of stage events and a function that ends the
// subscription and closes the channel.
func (n *pipeline) Subscribe() (<-chan StageEvent, func()) {
	h := &n.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[int]chan StageEvent{}
	}
	id := h.next
	h.next++
	ch := make(chan StageEvent, 256)
	h.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.subs, id)
			close(ch)
		})
	}
}

// publish tells listeners an event reached its stage and returns what it
// told them. On PostgreSQL the caller noted it in its transaction
// (noteStage) and the relay publishes it: here nothing is.
func (n *pipeline) publish(e store.SyncEvent, at time.Time) StageEvent {
	se := stageEventOf(e, at)
	if !n.hub.relayed {
		n.hub.publish(se)
	}
	return se
}

// heldBy says why event e of connection c waits where it is without being
// tried ("" when it does not): a sync on its way out waits at Sending, and
// one received waits at Waiting for remote, while the connection is not
// Active (jobs.go); what it waits for is the invitation's acceptance, or
// the connection's activation.
func heldBy(c store.Connection, e store.SyncEvent) string {
	if !waitsForConnection(e) {
		return ""
	}
	switch c.Status {
	case StatusPending:
		who := c.RemoteName
		if who == "" {
			who = "the other side"
		}
		return "waiting for " + who + " to accept the invitation"
	case StatusDeactivated:
		return "the connection is deactivated: waiting for it to be activated"
	case StatusError:
		return "the connection is in error: waiting for it to be activated"
	}
	return ""
}

// waitsForConnection reports whether e is at the stage where a sync waits
// while its connection is not Active (see heldBy).
func waitsForConnection(e store.SyncEvent) bool {
	return (e.Direction == store.DirectionOut && e.Stage == StageSending) ||
		(e.Direction == store.DirectionIn && e.Stage == StageWaiting)
}

// stageIndex orders stages so an event never moves backwards (a report can
// arrive before the sender has recorded that its send went through).
func stageIndex(stage string) int { return slices.Index(Stages(), stage) }

// advance moves an event to stage (with an error and retry time, or none)
// unless it is already further, and publishes the change.
func (n *pipeline) advance(ctx context.Context, connID, eventID, stage, errText string, next time.Time, mod func(*store.SyncEvent)) error {
	var ev store.SyncEvent
	moved := false
	at := n.now()
	err := n.st.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if ev, err = n.st.SyncEvent(ctx, tx, connID, eventID); err != nil {
			return err
		}
		if stageIndex(stage) < stageIndex(ev.Stage) || (stage == ev.Stage && errText == "" && ev.Error == "") {
			return nil
		}
		entered := ev.Stage != stage
		ev.Stage, ev.Error, ev.NextRetryAt = stage, errText, next
		if mod != nil {
			mod(&ev)
		}
		moved = true
		if err := n.st.UpdateSyncEvent(ctx, tx, ev, at); err != nil {
			return err
		}
		return n.noteStage(ctx, tx, ev, at, entered)
	})
	if err == nil && moved {
		n.publish(ev, at)
	}
	return err
}
