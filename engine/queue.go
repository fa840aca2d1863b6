package engine

// The sync queue: every open sync (neither Synchronized nor resolved), where
// it stands, and the jobs that move it on.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/store"
)

// How many syncs a queue or errors listing returns when the caller leaves
// it to the node, and at most.
const (
	defaultListed = 100
	maxListed     = 1000
)

// eventKey names one event: its connection and its id.
type eventKey struct{ conn, event string }

// eventJobArgs is what every event job carries (sendArgs, applyArgs,
// reportArgs).
type eventJobArgs struct{ Conn, Event string }

// eventJobKinds are the kinds of the jobs that move an event on.
func eventJobKinds() []string {
	return []string{sendArgs{}.Kind(), applyArgs{}.Kind(), reportArgs{}.Kind()}
}

// liveJobPage is how many jobs one read of the job queue returns.
const liveJobPage = 10_000

// liveJobs returns the event jobs River has not finished (queued,
// scheduled, retrying or running), by event.
func (n *pipeline) liveJobs(ctx context.Context) (map[eventKey][]*rivertype.JobRow, error) {
	params := river.NewJobListParams().Kinds(eventJobKinds()...).
		States(rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled).
		First(liveJobPage)
	out := map[eventKey][]*rivertype.JobRow{}
	for {
		res, err := n.river.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("reading the job queue: %w", err)
		}
		for _, j := range res.Jobs {
			var a eventJobArgs
			if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
				return nil, fmt.Errorf("job %d: unreadable arguments: %w", j.ID, err)
			}
			k := eventKey{a.Conn, a.Event}
			out[k] = append(out[k], j)
		}
		if len(res.Jobs) < liveJobPage {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}

// openSyncs is what a queue or errors listing reads: the open events
// (on one connection, or all), the connections by id, and the live jobs.
type openSyncs struct {
	events []store.SyncEvent
	conns  map[string]store.Connection
	jobs   map[eventKey][]*rivertype.JobRow
	// first is, per connection and local item, its oldest open outgoing
	// sync: the one its later syncs wait for.
	first map[eventKey]string
}

// readOpen reads the open syncs on connRef (id or name; "" for every
// connection).
func (n *pipeline) readOpen(ctx context.Context, connRef string) (openSyncs, error) {
	var o openSyncs
	connID := ""
	if connRef != "" {
		c, err := n.findConnection(ctx, connRef)
		if err != nil {
			return o, err
		}
		connID = c.ID
	}
	cs, err := n.st.Connections(ctx)
	if err != nil {
		return o, err
	}
	o.conns = map[string]store.Connection{}
	for _, c := range cs {
		o.conns[c.ID] = c
	}
	// The jobs before the events: a job finished in between leaves its
	// event further on, never listed with a job it no longer has.
	if o.jobs, err = n.liveJobs(ctx); err != nil {
		return o, err
	}
	if o.events, err = n.st.OpenEvents(ctx, connID); err != nil {
		return o, err
	}
	o.first = map[eventKey]string{}
	for _, ev := range o.events {
		k := eventKey{ev.ConnectionID, ev.EntityID}
		if _, ok := o.first[k]; !ok && ev.Direction == store.DirectionOut {
			o.first[k] = ev.ID
		}
	}
	return o, nil
}

// running says whether a worker has one of jobs now.
func running(jobs []*rivertype.JobRow) bool {
	for _, j := range jobs {
		if j.State == rivertype.JobStateRunning {
			return true
		}
	}
	return false
}

// queueState says where an open sync stands, and the earlier sync it
// waits for when it waits its turn.
func (o openSyncs) queueState(ev store.SyncEvent) (state, behind string) {
	c := o.conns[ev.ConnectionID]
	jobs := o.jobs[eventKey{ev.ConnectionID, ev.ID}]
	out := ev.Direction == store.DirectionOut
	first := o.first[eventKey{ev.ConnectionID, ev.EntityID}]
	switch {
	case c.Status != StatusActive:
		return adminapi.QueuePaused, ""
	case out && ev.Stage == StageSending && first != ev.ID:
		// Its job only looks, now and then, whether its turn has come.
		return adminapi.QueueWaitingTurn, first
	case running(jobs):
		return adminapi.QueueInFlight, ""
	case ev.Error != "":
		return adminapi.QueueRetrying, ""
	case out && stageIndex(ev.Stage) > stageIndex(StageSending):
		return adminapi.QueueInFlight, "" // with the other node
	}
	return adminapi.QueueQueued, ""
}

// nextTry is when this node next tries an event: its retrying job's
// time, else what the last failure recorded; zero when no job of its own
// is waiting to run.
func nextTry(ev store.SyncEvent, jobs []*rivertype.JobRow) (next time.Time) {
	for _, j := range jobs {
		switch j.State {
		case rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStateAvailable:
			if next.IsZero() || j.ScheduledAt.Before(next) {
				next = j.ScheduledAt
			}
		}
	}
	if next.IsZero() && len(jobs) > 0 {
		next = ev.NextRetryAt
	}
	return next
}

// summaryOf is the item's summary as an event carries it (the replica's
// source), "" when it carries none; it reads the event's payload.
func (n *pipeline) summaryOf(ctx context.Context, ev store.SyncEvent) string {
	full, err := n.st.SyncEvent(ctx, nil, ev.ConnectionID, ev.ID)
	if err != nil {
		return ""
	}
	var r Replica
	if json.Unmarshal(full.Payload, &r) != nil {
		return ""
	}
	return r.Source.Summary
}

// listLimit is the number of syncs a listing returns for the limit asked.
func listLimit(limit int) int {
	if limit <= 0 {
		return defaultListed
	}
	return min(limit, maxListed)
}

// Queue lists the open syncs on connID (id or name; "" for every
// connection), oldest first, each with its stage and where it stands:
// queued, in flight, waiting its turn behind an earlier sync of the same
// item, retrying after a failure, or paused with its connection.
func (n *pipeline) Queue(ctx context.Context, connID string, limit int) (adminapi.SyncQueue, error) {
	o, err := n.readOpen(ctx, connID)
	if err != nil {
		return adminapi.SyncQueue{}, err
	}
	q := adminapi.SyncQueue{Total: len(o.events), Entries: []adminapi.QueueEntry{}}
	for _, ev := range o.events[:min(len(o.events), listLimit(limit))] {
		state, behind := o.queueState(ev)
		e := adminapi.QueueEntry{ConnectionID: ev.ConnectionID, ConnectionName: o.conns[ev.ConnectionID].Name, EventID: ev.ID,
			Direction: ev.Direction, EntityID: ev.EntityID, LocalKey: ev.LocalKey, RemoteKey: ev.RemoteKey,
			Summary: n.summaryOf(ctx, ev), Stage: ev.Stage, State: state, BehindEventID: behind,
			Started: ev.CreatedAt, StageSince: ev.UpdatedAt}
		if ev.Error != "" {
			e.Error = ev.Error
		}
		if state == adminapi.QueueRetrying {
			e.NextRetry = nextTry(ev, o.jobs[eventKey{ev.ConnectionID, ev.ID}])
		}
		q.Entries = append(q.Entries, e)
	}
	return q, nil
}
