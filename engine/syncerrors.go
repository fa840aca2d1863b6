package engine

// Failing syncs: listed with why and when they are tried next, retried
// now on an admin's word, or resolved (no more retries, for a reason the
// item's history shows).

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/store"
)

// minEventRef is the fewest characters of an event's id that name it.
const minEventRef = 6

// Errors lists the failing syncs on connID (id or name; "" for every
// connection), oldest first: each with its stage, its last error in full,
// its failed tries and when it is tried next (or what it waits for).
func (n *pipeline) Errors(ctx context.Context, connID string, limit int) (adminapi.SyncErrors, error) {
	o, err := n.readOpen(ctx, connID)
	if err != nil {
		return adminapi.SyncErrors{}, err
	}
	out := adminapi.SyncErrors{Errors: []adminapi.SyncError{}}
	for _, ev := range o.events {
		if ev.Error == "" {
			continue
		}
		out.Total++
		if len(out.Errors) >= listLimit(limit) {
			continue
		}
		c := o.conns[ev.ConnectionID]
		jobs := o.jobs[eventKey{ev.ConnectionID, ev.ID}]
		e := adminapi.SyncError{ConnectionID: c.ID, ConnectionName: c.Name, EventID: ev.ID, Direction: ev.Direction,
			EntityID: ev.EntityID, LocalKey: ev.LocalKey, LocalURL: ev.LocalURL, RemoteKey: ev.RemoteKey, RemoteURL: ev.RemoteURL,
			Summary: n.summaryOf(ctx, ev), Stage: ev.Stage, Error: ev.Error, Attempts: attempts(jobs),
			Started: ev.CreatedAt, FailedAt: ev.UpdatedAt, RulesVersion: ev.RulesVersion}
		e.Waits = waitsFor(c, ev, jobs)
		if e.Running = running(jobs); e.Waits == "" && !e.Running {
			e.NextRetry = nextTry(ev, jobs)
		}
		out.Errors = append(out.Errors, e)
	}
	return out, nil
}

// attempts counts the failed tries River recorded on an event's jobs; at
// least one, since the event carries an error.
func attempts(jobs []*rivertype.JobRow) int {
	n := 0
	for _, j := range jobs {
		n += len(j.Errors)
	}
	return max(n, 1)
}

// waitsFor says what a failing event waits for when this node has no try
// of its own coming (adminapi.WaitsActivation…); "" when a job here
// retries it.
func waitsFor(c store.Connection, ev store.SyncEvent, jobs []*rivertype.JobRow) string {
	switch {
	case c.Status == StatusPending:
		return adminapi.WaitsAcceptance
	case c.Status != StatusActive:
		return adminapi.WaitsActivation
	case len(jobs) > 0:
		return ""
	case ev.Direction == store.DirectionOut && stageIndex(ev.Stage) > stageIndex(StageSending):
		return adminapi.WaitsOtherNode
	}
	return adminapi.WaitsRetry
}

// otherNode names the other side of a connection.
func otherNode(c store.Connection) string {
	if c.RemoteName == "" || c.Local {
		return "the other side"
	}
	return c.RemoteName
}

// findEvent finds one sync by its id, or enough of its start to name one,
// on connRef (id or name; "" for whichever connection has it).
func (n *pipeline) findEvent(ctx context.Context, connRef, ref string) (store.SyncEvent, store.Connection, error) {
	ref = strings.TrimSpace(ref)
	connID := ""
	if connRef != "" {
		c, err := n.findConnection(ctx, connRef)
		if err != nil {
			return store.SyncEvent{}, store.Connection{}, err
		}
		connID = c.ID
	}
	if len(ref) < minEventRef {
		return store.SyncEvent{}, store.Connection{}, Errorf(ErrBadRequest,
			"%q is too short to name a sync: give at least %d characters of its id, as tandem errors or tandem queue lists it", ref, minEventRef)
	}
	evs, err := n.st.FindEvents(ctx, connID, ref, 10)
	if err != nil {
		return store.SyncEvent{}, store.Connection{}, err
	}
	var exact []store.SyncEvent
	for _, ev := range evs {
		if ev.ID == ref {
			exact = append(exact, ev)
		}
	}
	if len(exact) > 0 {
		evs = exact
	}
	switch {
	case len(evs) == 0:
		return store.SyncEvent{}, store.Connection{}, Errorf(ErrNotFound, "no sync %s on %s", ref, n.inst.Name)
	case len(evs) > 1:
		return store.SyncEvent{}, store.Connection{}, Errorf(ErrBadRequest,
			"%s names %d syncs on %s: give more of its id, or its connection", ref, len(evs), n.inst.Name)
	}
	c, err := n.st.Connection(ctx, evs[0].ConnectionID)
	return evs[0], c, err
}

// openForAction refuses an event an admin cannot retry or resolve any
// more: Synchronized, or resolved already.
func openForAction(ev store.SyncEvent) error {
	switch {
	case ev.Stage == StageSynchronized:
		return Errorf(ErrConflict, "sync %s is Synchronized already: nothing to retry or resolve", ev.ID)
	case !ev.ResolvedAt.IsZero():
		return Errorf(ErrConflict, "sync %s was resolved at %s (%s): it is not retried any more",
			ev.ID, ev.ResolvedAt.UTC().Format(time.DateTime+" UTC"), ev.Resolution)
	}
	return nil
}

// Retry has River try one sync again now (eventID is its id or the start
// of it; connID the connection's id or name, or "" for whichever has it).
// A sync whose job ran out or was lost gets a new one; one that waits for
// its connection's activation, or for the other node, is refused with what
// to do instead.
func (n *pipeline) Retry(ctx context.Context, connID, eventID string) (StageEvent, error) {
	ev, c, err := n.findEvent(ctx, connID, eventID)
	if err != nil {
		return StageEvent{}, err
	}
	if err := openForAction(ev); err != nil {
		return StageEvent{}, err
	}
	jobs, err := n.liveJobs(ctx)
	if err != nil {
		return StageEvent{}, err
	}
	if err := n.retry(ctx, c, ev, jobs[eventKey{c.ID, ev.ID}]); err != nil {
		return StageEvent{}, err
	}
	n.log.Info("retrying a sync now, as an admin asked", "connection", c.ID, "event", ev.ID, "stage", ev.Stage)
	return stageEventOf(ev, ev.UpdatedAt), nil
}

// retry makes the jobs of ev run now, or gives it a new one when it has
// none.
func (n *pipeline) retry(ctx context.Context, c store.Connection, ev store.SyncEvent, jobs []*rivertype.JobRow) error {
	switch c.Status {
	case StatusActive:
	case StatusPending:
		return Errorf(ErrConflict, "connection %s waits for its invitation to be accepted; its syncs go once it is", c.Name)
	default:
		return Errorf(ErrConflict, "connection %s is %s: activate it (tandem connections activate %s) and its queued syncs go",
			c.Name, c.Status, c.Name)
	}
	for _, j := range jobs {
		if j.State == rivertype.JobStateRunning {
			continue // being tried now
		}
		if _, err := n.river.JobRetry(ctx, j.ID); err != nil && !errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("retrying sync %s: %w", ev.ID, err)
		}
	}
	if len(jobs) > 0 {
		return nil
	}
	var args river.JobArgs
	switch {
	case ev.Direction == store.DirectionOut && stageIndex(ev.Stage) <= stageIndex(StageSending):
		args = sendArgs{Conn: c.ID, Event: ev.ID}
	case ev.Direction == store.DirectionIn && ev.Stage == StageWaiting:
		args = applyArgs{Conn: c.ID, Event: ev.ID}
	case ev.Direction == store.DirectionIn:
		args = reportArgs{Conn: c.ID, Event: ev.ID}
	default:
		return Errorf(ErrConflict, "sync %s is with %s (%s): %s tries it; retry it there",
			ev.ID, otherNode(c), StageName(ev.Stage), otherNode(c))
	}
	if _, err := n.river.Insert(ctx, args, nil); err != nil {
		return fmt.Errorf("retrying sync %s: %w", ev.ID, err)
	}
	return nil
}

// RetryAll has River try every failing sync on connID (id or name; ""
// for every connection) again now, and says how many it set going. Those
// that wait for their connection's activation or for the other node are
// left as they are.
func (n *pipeline) RetryAll(ctx context.Context, connID string) (int, error) {
	o, err := n.readOpen(ctx, connID)
	if err != nil {
		return 0, err
	}
	retried := 0
	for _, ev := range o.events {
		if ev.Error == "" {
			continue
		}
		err := n.retry(ctx, o.conns[ev.ConnectionID], ev, o.jobs[eventKey{ev.ConnectionID, ev.ID}])
		switch {
		case errors.Is(err, ErrConflict):
			continue
		case err != nil:
			return retried, err
		}
		retried++
	}
	if retried > 0 {
		n.log.Info("retrying failing syncs now, as an admin asked", "connection", connID, "syncs", retried)
	}
	return retried, nil
}

// Resolve stops retrying one sync, for reason, which the item's history
// shows with the time: its jobs here are cancelled, and it no longer holds
// up its item's later syncs. A sync received from the other node that was
// not applied is reported back as resolved, so the sending side stops
// waiting for it too. The sync stays at the stage it stopped at; a result
// that arrives for it anyway is still recorded.
func (n *pipeline) Resolve(ctx context.Context, connID, eventID, reason string) (StageEvent, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return StageEvent{}, Errorf(ErrBadRequest, "give a reason for resolving the sync: it is recorded in the item's history")
	case len(reason) > adminapi.MaxResolveReason:
		return StageEvent{}, Errorf(ErrBadRequest, "the reason is %d bytes; keep it under %d", len(reason), adminapi.MaxResolveReason)
	}
	ev, c, err := n.findEvent(ctx, connID, eventID)
	if err != nil {
		return StageEvent{}, err
	}
	if err := openForAction(ev); err != nil {
		return StageEvent{}, err
	}
	jobs, err := n.liveJobs(ctx)
	if err != nil {
		return StageEvent{}, err
	}
	at := n.now()
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if ev, err = n.st.SyncEvent(ctx, tx, c.ID, ev.ID); err != nil {
			return err
		}
		if err := openForAction(ev); err != nil {
			return err // moved on meanwhile
		}
		if err := n.st.ResolveEvent(ctx, tx, c.ID, ev.ID, reason, at); err != nil {
			return err
		}
		if err := n.noteStage(ctx, tx, ev, at, false); err != nil {
			return err
		}
		ev.Resolution, ev.ResolvedAt, ev.UpdatedAt = reason, at, at
		for _, j := range jobs[eventKey{c.ID, ev.ID}] {
			if _, err := n.river.JobCancelTx(ctx, tx, j.ID); err != nil && !errors.Is(err, river.ErrNotFound) {
				return fmt.Errorf("cancelling the jobs of sync %s: %w", ev.ID, err)
			}
		}
		if err := n.endResolvedUpdate(ctx, tx, c.ID, ev); err != nil {
			return err
		}
		if ev.Direction == store.DirectionIn && ev.Stage == StageWaiting {
			// Not applied: the sender waits for it. The report tells it.
			_, err := n.river.InsertTx(ctx, tx, reportArgs{Conn: c.ID, Event: ev.ID}, nil)
			return err
		}
		return nil
	})
	if err != nil {
		return StageEvent{}, err
	}
	n.log.Info("sync resolved by an admin: no more retries", "connection", c.ID, "event", ev.ID, "stage", ev.Stage, "reason", reason)
	return n.publish(ev, at), nil
}

// endResolvedUpdate ends, in tx, the pending update an incoming sync
// resolved before its retry recorded its write leaves (see updateTwin):
// no retry will record it now, and while it is pending change detection
// leaves the item alone, so every later change made to it here would
// stay unsent. If the resolved sync's write did reach the tracker, the
// item's values it set are then seen as a change and sent back: the other
// side gets the values it has, not a lost edit. Another incoming sync of
// the item still open keeps it (its apply begins the write again anyway).
//
// The event may have no entity yet (received before its twin was made):
// the item is the twin's, found by the other side's id.
func (n *pipeline) endResolvedUpdate(ctx context.Context, tx *sql.Tx, connID string, ev store.SyncEvent) error {
	if ev.Direction != store.DirectionIn {
		return nil
	}
	var r Replica
	if err := json.Unmarshal(ev.Payload, &r); err != nil || r.Source.ID == "" {
		return nil // nothing begun from an unreadable replica
	}
	twin, err := n.st.TwinByRemote(ctx, tx, connID, r.Source.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // no twin, so no update begun
	}
	if err != nil {
		return err
	}
	open, err := n.st.OpenIncoming(ctx, tx, connID, twin.LocalID, ev.ID)
	if err != nil || open > 0 {
		return err
	}
	return n.st.EndWrite(ctx, tx, connID, pendingUpdate, r.Source.ID)
}

// resolvedBy is the resolution a sync gets on the sending node when the
// receiving node resolved it.
func resolvedBy(c Connection, reason string) string {
	if len(reason) > adminapi.MaxResolveReason {
		reason = strings.ToValidUTF8(reason[:adminapi.MaxResolveReason], "")
	}
	return "resolved on " + c.RemoteName + ": " + reason
}

// resolvedThere records that the receiving node's admin resolved one of
// this node's syncs before applying it: it is resolved here too, with the
// other node's reason, and no longer holds its item's later syncs up. One
// resolved here already keeps its own reason.
func (n *pipeline) resolvedThere(ctx context.Context, c Connection, ev store.SyncEvent, reason string) error {
	if !ev.ResolvedAt.IsZero() {
		return nil
	}
	at := n.now()
	ev.Resolution, ev.ResolvedAt, ev.UpdatedAt = resolvedBy(c, reason), at, at
	err := n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.ResolveEvent(ctx, tx, c.ID, ev.ID, ev.Resolution, at); err != nil {
			return err
		}
		return n.noteStage(ctx, tx, ev, at, false)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // resolved here meanwhile
	}
	if err != nil {
		return err
	}
	n.log.Info("sync resolved by the other node's admin: nothing was applied there", "connection", c.ID, "event", ev.ID,
		"reason", ev.Resolution)
	n.publish(ev, at)
	return nil
}
