package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tandem-sync/tandem/store"
)

// HeaderContentSHA256 is the trailer carrying the sha256 of an attachment's
// bytes, sent after them.
const HeaderContentSHA256 = "Tandem-Content-Sha256"

// Peer paths of the sync pipeline.
const (
	PathEvents      = "/api/v1/peer/events"
	PathResults     = "/api/v1/peer/results"
	PathAttachments = "/api/v1/peer/attachments/"
)

// The pipeline's durable jobs. Each is inserted in the same transaction as
// the state change that calls for it, so a crash between the two is
// impossible, and each is retried by River until it succeeds.
type (
	// sendArgs sends an outgoing event's replica to the peer (Sending).
	sendArgs struct{ Conn, Event string }
	// applyArgs applies an incoming replica to the tracker (the peer's
	// side of Waiting for remote).
	applyArgs struct{ Conn, Event string }
	// reportArgs reports an applied replica back to its source.
	reportArgs struct{ Conn, Event string }
)

func (sendArgs) Kind() string   { return "tandem_send" }
func (applyArgs) Kind() string  { return "tandem_apply" }
func (reportArgs) Kind() string { return "tandem_report" }

// retryPolicy retries quickly at first (a peer restarting, a blip) and
// settles at a minute between tries; River gives up after MaxAttempts,
// which the node sets high: a sync is never dropped.
type retryPolicy struct{}

func (retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := min(200*time.Millisecond<<min(job.Attempt, 16), time.Minute)
	return time.Now().Add(d/2 + rand.N(d/2+1))
}

// startWorkers starts the node's River client with the pipeline's workers.
func (n *Node) startWorkers() error {
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[sendArgs]) error {
		return n.send(ctx, j.Args, j.Attempt)
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[applyArgs]) error {
		return n.apply(ctx, j.Args, j.Attempt)
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[reportArgs]) error {
		return n.report(ctx, j.Args, j.Attempt)
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[deletedArgs]) error {
		return n.sendDeleted(ctx, j.Args)
	}))
	client, err := n.st.NewRiverClient(&river.Config{
		Queues:      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}},
		Workers:     workers,
		RetryPolicy: retryPolicy{},
		MaxAttempts: 10_000,
		JobTimeout:  30 * time.Minute,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	// A step a killed run left half done resumes now, not after River's
	// hour-long rescue delay (apply and report are safe to run again).
	if requeued, err := n.st.RequeueInterrupted(ctx); err != nil {
		cancel()
		return err
	} else if requeued > 0 {
		n.log.Info("resuming sync steps an earlier run left unfinished", "jobs", requeued)
	}
	if err := client.Start(ctx); err != nil {
		cancel()
		return fmt.Errorf("starting the job queue: %w", err)
	}
	n.river, n.stopRiver = client, cancel
	return nil
}

// stopWorkers gives running jobs half a second to finish, then cancels
// them and waits as long again: a node asked to stop must stop within a
// couple of seconds, and every job is safe to run again, which an
// interrupted one does at the next start.
func (n *Node) stopWorkers() {
	if n.river == nil {
		return
	}
	defer n.stopRiver()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if n.river.Stop(ctx) == nil {
		return
	}
	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := n.river.StopAndCancel(ctx); err != nil {
		n.log.Warn("stopping the job queue: jobs still running were left to the next start", "err", err)
	}
}

// failed records a failure at the event's current stage with the time of
// the next try, and returns err for River to retry.
func (n *Node) failed(ctx context.Context, connID, eventID string, attempt int, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		// The node is stopping, not the sync failing: nothing to record
		// (the store may be closing), and River, seeing the cancellation,
		// gives the try back; the job runs again at the next start.
		return errors.Join(ctx.Err(), err)
	}
	ev, gerr := n.st.SyncEvent(ctx, nil, connID, eventID)
	if gerr == nil {
		next := retryPolicy{}.NextRetry(&rivertype.JobRow{Attempt: attempt})
		if aerr := n.advance(ctx, connID, eventID, ev.Stage, err.Error(), next, nil); aerr != nil {
			n.log.Error("recording a sync failure", "event", eventID, "err", aerr)
		}
	}
	n.log.Warn("sync step failed; will retry", "connection", connID, "event", eventID, "attempt", attempt, "err", err)
	return err
}

// orderWait is how long a sync waits, without counting it as a try, for an
// earlier sync of the same item to finish.
const orderWait = 200 * time.Millisecond

// EventDelivery is the body of a signed POST /api/v1/peer/events.
type EventDelivery struct {
	Replica Replica `json:"replica"`
}

// send is Sending: the replica goes to the peer until it has durably
// accepted it; then the event waits for the remote.
func (n *Node) send(ctx context.Context, a sendArgs, attempt int) error {
	c, err := n.st.Connection(ctx, a.Conn)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the connection was deleted; nothing to send to
	}
	if err != nil {
		return err
	}
	if c.Status != StatusActive {
		return nil // deactivated: the event stays queued at Sending
	}
	ev, err := n.st.SyncEvent(ctx, nil, a.Conn, a.Event)
	if err != nil {
		return err
	}
	if stageIndex(ev.Stage) > stageIndex(StageSending) {
		return nil
	}
	// One item's syncs reach the other side in the order they were made: a
	// later one waits while an earlier one is on its way, so its comments
	// land after the earlier one's (a re-activated connection replays a
	// queue of them) and it never overtakes the sync that makes the twin.
	unfinished, err := n.st.UnfinishedEvents(ctx, a.Conn, ev.EntityID)
	if err != nil {
		return err
	}
	if len(unfinished) > 0 && unfinished[0].ID != ev.ID {
		return river.JobSnooze(orderWait)
	}
	var r Replica
	if err := json.Unmarshal(ev.Payload, &r); err != nil {
		return fmt.Errorf("event %s: unreadable replica: %w", ev.ID, err)
	}
	if err := n.signedPost(ctx, c, PathEvents, ev.ID, EventDelivery{Replica: r}, nil); err != nil {
		return n.failed(ctx, a.Conn, a.Event, attempt, fmt.Errorf("sending to %s: %w", c.RemoteName, err))
	}
	return n.advance(ctx, a.Conn, a.Event, StageWaiting, "", time.Time{}, nil)
}

// ReceiveEvent stores an incoming replica and the job that applies it, in
// one transaction; the same event delivered again changes nothing.
func (n *Node) ReceiveEvent(ctx context.Context, c Connection, d EventDelivery) error {
	if d.Replica.EventID == "" || d.Replica.Source.ID == "" {
		return Errorf(ErrBadRequest, "the replica lacks its event or entity id")
	}
	payload, err := json.Marshal(d.Replica)
	if err != nil {
		return err
	}
	ev := store.SyncEvent{ConnectionID: c.ID, ID: d.Replica.EventID, Direction: store.DirectionIn, Stage: StageWaiting,
		Payload: payload, RemoteKey: d.Replica.Source.Key, RemoteURL: d.Replica.Source.URL}
	if t, err := n.st.TwinByRemote(ctx, nil, c.ID, d.Replica.Source.ID); err == nil {
		ev.EntityID, ev.LocalKey, ev.LocalURL = t.LocalID, t.LocalKey, t.LocalURL
	}
	at := n.now()
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.CreateSyncEvent(ctx, tx, ev, at); err != nil {
			return err
		}
		if err := n.st.SetRulesVersion(ctx, tx, c.ID, ev.ID, n.rulesVersion()); err != nil {
			return err
		}
		_, err := n.river.InsertTx(ctx, tx, applyArgs{Conn: c.ID, Event: ev.ID}, nil)
		return err
	})
	if errors.Is(err, store.ErrExists) {
		return nil
	}
	if err == nil {
		n.publish(ev, at)
	}
	return err
}

// ResultDelivery is the body of a signed POST /api/v1/peer/results.
type ResultDelivery struct {
	Result ApplyResult `json:"result"`
}

// report sends an applied replica's result back to its source.
func (n *Node) report(ctx context.Context, a reportArgs, attempt int) error {
	c, err := n.st.Connection(ctx, a.Conn)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ev, err := n.st.SyncEvent(ctx, nil, a.Conn, a.Event)
	if err != nil {
		return err
	}
	var res ApplyResult
	if err := json.Unmarshal(ev.Result, &res); err != nil {
		return fmt.Errorf("event %s: unreadable result: %w", ev.ID, err)
	}
	if err := n.signedPost(ctx, c, PathResults, "result-"+ev.ID, ResultDelivery{Result: res}, nil); err != nil {
		return n.failed(ctx, a.Conn, a.Event, attempt, fmt.Errorf("reporting to %s: %w", c.RemoteName, err))
	}
	return n.advance(ctx, a.Conn, a.Event, StageSynchronized, "", time.Time{}, nil)
}

// ReceiveResult is Finalizing on the source: it records the twin, the
// comment and attachment links and the fingerprints that stop echoes, in
// one transaction, and the event is Synchronized. A result delivered again
// changes nothing.
func (n *Node) ReceiveResult(ctx context.Context, c Connection, d ResultDelivery) error {
	res := d.Result
	ev, err := n.st.SyncEvent(ctx, nil, c.ID, res.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(ErrNotFound, "no outgoing sync %s on this connection", res.EventID)
	}
	if err != nil {
		return err
	}
	if ev.Direction != store.DirectionOut {
		return Errorf(ErrBadRequest, "sync %s is not one this node sent", res.EventID)
	}
	if ev.Stage == StageSynchronized {
		return nil
	}
	var r Replica
	if err := json.Unmarshal(ev.Payload, &r); err != nil {
		return err
	}
	if err := n.advance(ctx, c.ID, ev.ID, StageFinalizing, "", time.Time{}, func(e *store.SyncEvent) {
		e.RemoteKey, e.RemoteURL = res.Key, res.URL
	}); err != nil {
		return err
	}
	at := n.now()
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		twin, err := n.st.Twin(ctx, tx, c.ID, r.Source.ID)
		if errors.Is(err, store.ErrNotFound) {
			twin = store.Twin{ConnectionID: c.ID, LocalID: r.Source.ID, Fields: map[string]string{}}
		} else if err != nil {
			return err
		}
		if twin.RemoteID != "" && twin.RemoteID != res.EntityID {
			// A twin is never re-pointed: the peer applied this to another
			// entity than the one already linked, which is a bug to see.
			return fmt.Errorf("%s is linked to %s on %s, but the peer applied sync %s to %s",
				twin.LocalKey, twin.RemoteKey, c.RemoteName, ev.ID, res.Key)
		}
		twin.RemoteID, twin.RemoteKey, twin.RemoteURL = res.EntityID, res.Key, res.URL
		twin.LocalKey, twin.LocalURL = r.Source.Key, r.Source.URL
		for _, f := range r.Fields {
			if at := fieldAt(twin, f); !at.IsZero() && r.Source.ModifiedAt.Before(at) {
				continue // a newer write (an incoming sync) set it since
			}
			setField(&twin, f, fingerprint(n.rules.Sent(r.Source, f)), r.Source.ModifiedAt)
			if n.rules.KeepsRemote(f) {
				// This side's type now stands; a type the peer could not
				// hold is the peer's to keep.
				twin.RemoteType = ""
			}
		}
		if err := n.st.PutTwin(ctx, tx, twin); err != nil {
			return err
		}
		for _, p := range res.Comments {
			i := slices.IndexFunc(r.Comments, func(c ReplicaComment) bool { return c.ID == p.Source })
			fp := ""
			if i >= 0 {
				fp = fingerprint(r.Comments[i].Body)
			}
			if err := n.st.PutLink(ctx, tx, store.ItemLink{ConnectionID: c.ID, Kind: store.LinkComment, LocalID: p.Source,
				RemoteID: p.Dest, EntityID: r.Source.ID, Fingerprint: fp}); err != nil {
				return err
			}
		}
		for _, p := range res.Attachments {
			if err := n.st.PutLink(ctx, tx, store.ItemLink{ConnectionID: c.ID, Kind: store.LinkAttachment, LocalID: p.Source,
				RemoteID: p.Dest, EntityID: r.Source.ID}); err != nil {
				return err
			}
		}
		ev.Stage, ev.Error, ev.NextRetryAt = StageSynchronized, "", time.Time{}
		ev.RemoteKey, ev.RemoteURL, ev.Result = res.Key, res.URL, mustJSON(res)
		return n.st.UpdateSyncEvent(ctx, tx, ev, at)
	})
	if err != nil {
		err = fmt.Errorf("finalizing sync %s: %w", ev.ID, err)
		// The peer retries the report; the failure shows here meanwhile,
		// not only as an error on the other node.
		if aerr := n.advance(context.WithoutCancel(ctx), c.ID, ev.ID, StageFinalizing, err.Error(), time.Time{}, nil); aerr != nil {
			n.log.Error("recording a sync failure", "event", ev.ID, "err", aerr)
		}
		return err
	}
	for _, why := range res.Skipped {
		n.log.Warn("not synced", "connection", c.ID, "event", ev.ID, "reason", why)
	}
	n.publish(ev, at)
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs of strings reach here
	}
	return b
}
