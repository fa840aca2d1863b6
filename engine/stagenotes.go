package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/tandem-sync/tandem/store"
)

// Stage events between replicas. On PostgreSQL several replicas are one
// node, and a console follows whichever one it is connected to, while the
// sync it watches moves on any of them. So there a stage is published from
// the database, not from the process that moved the event: the mover
// notifies (store.Notify, channel stageChannel) in the transaction that
// records the stage, and every replica, the mover included, listens
// (store.Listen, one connection each) and publishes what it hears to its
// own hub. A notification goes out only on commit and in commit order, and
// the store's transactions are serialized (one writer), so each replica
// publishes an event's stages in the order they were recorded, each once,
// never backwards. Progress reports, not stored, go as notifications of
// their own with the counts.
//
// A notification carries ids, the stage, when and whether the event
// entered it; never item text. The listener reads the event's row for the
// rest (the row is the truth): when the row is still as noted it publishes
// the row; when the event has moved on since (the listener is behind), it
// publishes the stage the event passed through if the note is of its entry,
// and drops the stale news of an error or a resolution at a stage that is
// no longer current (the row's next notification shows what holds).
//
// While the listener's connection is down, notifications are lost; after
// it reconnects nothing is replayed. What the console and the command line
// show never depends on every stage event arriving: the console reads an
// event's status from the store on each event and on a timer, and
// `tandem exalate --wait` reads the status when it starts. On SQLite none
// of this runs: one process, published in memory at once.

// stageChannel is the notification channel of stage events and progress
// reports.
const stageChannel = "tandem_stage"

// relayStartWait bounds how long opening a node waits for its listener:
// a stage recorded before it listens is not relayed, to this replica's
// console either.
const relayStartWait = 10 * time.Second

// stageNote is the payload of a stage notification: a stage (entered, or
// updated with an error or a resolution) or a progress report.
type stageNote struct {
	Conn  string `json:"c"`
	Event string `json:"e"`
	Stage string `json:"s,omitempty"`
	// At is when the stage was recorded (Unix nanoseconds): the row's
	// updated_at, as long as nothing changed it since.
	At      int64     `json:"t,omitempty"`
	Entered bool      `json:"n,omitempty"`
	Prog    *Progress `json:"p,omitempty"`
}

// relay is a replica's listener of stage notifications.
type relay struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// noteStage has the database relay, when tx commits, that ev is as
// recorded at at; entered says it came to its stage then, rather than
// failing, being retried or resolved at a stage it was at. Nothing on
// SQLite.
func (n *pipeline) noteStage(ctx context.Context, tx *sql.Tx, ev store.SyncEvent, at time.Time, entered bool) error {
	if !n.hub.relayed {
		return nil
	}
	return n.note(ctx, tx, stageNote{Conn: ev.ConnectionID, Event: ev.ID, Stage: ev.Stage, At: at.UnixNano(), Entered: entered})
}

// noteProgress has the database relay a progress report of event eventID
// of connection connID, in a transaction of its own.
func (n *pipeline) noteProgress(ctx context.Context, connID, eventID string, p Progress) error {
	return n.st.InTx(ctx, func(tx *sql.Tx) error {
		return n.note(ctx, tx, stageNote{Conn: connID, Event: eventID, Prog: &p})
	})
}

func (n *pipeline) note(ctx context.Context, tx *sql.Tx, sn stageNote) error {
	b, err := json.Marshal(sn)
	if err != nil {
		return err
	}
	return n.st.Notify(ctx, tx, stageChannel, string(b))
}

// startRelay starts listening for stage notifications on PostgreSQL, and
// waits (bounded) until it listens, so that no stage this replica records
// goes unheard. Call it before the workers start; stopRelay stops it.
func (n *pipeline) startRelay(ctx context.Context) {
	if !n.st.Shared() {
		return
	}
	n.hub.relayed = true
	lctx, cancel := context.WithCancel(context.Background())
	r := &relay{cancel: cancel, done: make(chan struct{})}
	n.hub.relay = r
	listening := make(chan struct{})
	first := true
	go func() {
		defer close(r.done)
		// ready and heard run on this goroutine.
		err := n.st.Listen(lctx, stageChannel, func() {
			if first {
				first = false
				close(listening)
				return
			}
			n.log.Warn("stage events: listening again after the database connection dropped; stages recorded meanwhile were not relayed (the console reads them from the store)")
		}, func(nt store.Notification) { n.relayNote(lctx, nt) })
		if err != nil && lctx.Err() == nil {
			n.log.Error("stage events: no longer listening", "err", err)
		}
	}()
	t := time.NewTimer(relayStartWait)
	defer t.Stop()
	select {
	case <-listening:
	case <-ctx.Done():
		n.log.Warn("stage events: not listening yet when the node started", "err", ctx.Err())
	case <-t.C:
		n.log.Warn("stage events: not listening yet when the node started; stages recorded until it does are not relayed", "waited", relayStartWait)
	}
}

// stopRelay stops listening and waits for the listener to end.
func (n *pipeline) stopRelay() {
	if r := n.hub.relay; r != nil {
		r.cancel()
		<-r.done
	}
}

// relayNote publishes what one notification says, read from the event's
// row, to this replica's listeners.
func (n *pipeline) relayNote(ctx context.Context, nt store.Notification) {
	if !n.hub.listening() {
		return // nobody follows: nothing to read
	}
	var sn stageNote
	if err := json.Unmarshal([]byte(nt.Payload), &sn); err != nil || sn.Conn == "" || sn.Event == "" {
		n.log.Warn("stage events: an unreadable notification was ignored")
		return
	}
	ev, err := n.st.SyncEvent(ctx, nil, sn.Conn, sn.Event)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
			n.log.Warn("stage events: reading a sync to relay its stage", "connection", sn.Conn, "event", sn.Event, "err", err)
		}
		return
	}
	if sn.Prog != nil {
		p := *sn.Prog
		// As ReceiveProgress: a report of a sync still waiting for the
		// remote, in the node's own words.
		if !validProgress(p) || ev.Stage != StageWaiting {
			return
		}
		se := stageEventOf(ev, n.now())
		se.Progress = &p
		n.hub.publish(se)
		return
	}
	at := time.Unix(0, sn.At).UTC()
	if ev.Stage == sn.Stage && ev.UpdatedAt.Equal(at) {
		se := stageEventOf(ev, at)
		if waitsForConnection(ev) {
			if c, err := n.st.Connection(ctx, ev.ConnectionID); err == nil {
				se.Held = heldBy(c, ev)
			}
		}
		n.hub.publish(se)
		return
	}
	if !sn.Entered || stageIndex(sn.Stage) < 0 {
		return // an error or a resolution since overtaken: the next note shows what holds
	}
	// Moved on since: the stage it passed through, as it was entered.
	ev.Stage, ev.Error, ev.NextRetryAt, ev.Resolution, ev.ResolvedAt = sn.Stage, "", time.Time{}, "", time.Time{}
	n.hub.publish(stageEventOf(ev, at))
}
