package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
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
	// reportArgs reports an applied replica back to its source, where
	// the apply job does not (an admin's retry, Resolve).
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

// jobWorkers is how many of the pipeline's jobs run at once. An apply
// writes to the tracker one call at a time, so it takes as many applies
// as the tracker allows writes in flight (Asana 15 per token) to use
// them; the tracker client's own limits, not the queue, then bound the
// calls. One item's syncs still go one after another (see send).
const jobWorkers = 16

// jobTimeout is the longest one try of a step may run: an apply copying
// many large attachments takes minutes.
const jobTimeout = 30 * time.Minute

// rescueAfter is how long a job may stay running, on PostgreSQL, before
// River's rescuer takes it for the job of a replica that died and runs it
// again: above jobTimeout, so that no live replica's try is taken from it
// (River's default would be jobTimeout and another hour).
const rescueAfter = jobTimeout + 5*time.Minute

// startWorkers starts the node's River client with the pipeline's workers.
func (n *pipeline) startWorkers() error {
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
	river.AddWorker(workers, bulkWorker{n: n})
	cfg := &river.Config{
		Queues:      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: jobWorkers}},
		Workers:     workers,
		RetryPolicy: retryPolicy{},
		MaxAttempts: 10_000,
		JobTimeout:  jobTimeout,
	}
	if n.st.Shared() {
		cfg.RescueStuckJobsAfter = rescueAfter
	}
	client, err := n.st.NewRiverClient(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	// A step a killed run left half done resumes now, not after River's
	// rescue delay (apply and report are safe to run again): on SQLite,
	// where this process is the only one, a job marked running is one its
	// previous run left. On PostgreSQL it may be another replica's, at
	// work: the leader requeues those whose replica is gone
	// (requeueOrphans), and River's rescuer, as a last resort, any job
	// running longer than rescueAfter.
	if !n.st.Shared() {
		if requeued, err := n.st.RequeueInterrupted(ctx); err != nil {
			cancel()
			return err
		} else if requeued > 0 {
			n.log.Info("resuming sync steps an earlier run left unfinished", "jobs", requeued)
		}
	}
	if n.st.Shared() {
		// Taken before the client fetches a job: while this session
		// lives, the jobs it runs are not another replica's to requeue.
		if n.alive, err = n.st.HoldReplica(ctx, client.ID()); err != nil {
			cancel()
			return err
		}
	}
	if err := client.Start(ctx); err != nil {
		n.alive.Release()
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
func (n *pipeline) stopWorkers() {
	if n.river == nil {
		return
	}
	defer n.stopRiver()
	// Last: a job still running when the client gave up on it is then
	// the leader's to requeue (requeueOrphans).
	defer n.alive.Release()
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
func (n *pipeline) failed(ctx context.Context, connID, eventID string, attempt int, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		// The node is stopping, not the sync failing: nothing to record
		// (the store may be closing), and River, seeing the cancellation,
		// gives the try back; the job runs again at the next start.
		return errors.Join(ctx.Err(), err)
	}
	ev, gerr := n.st.SyncEvent(ctx, nil, connID, eventID)
	if gerr == nil && !ev.ResolvedAt.IsZero() {
		// Resolved while this try ran: no more tries. An update it began
		// after the resolve ended the pending ones is ended here, or it
		// would keep change detection from the item for good.
		n.log.Info("a resolved sync's last try failed; not retried", "connection", connID, "event", eventID, "err", err)
		if eerr := n.st.InTx(ctx, func(tx *sql.Tx) error { return n.endResolvedUpdate(ctx, tx, connID, ev) }); eerr != nil {
			n.log.Error("ending a resolved sync's pending update", "event", eventID, "err", eerr)
		}
		return nil
	}
	next := retryPolicy{}.NextRetry(&rivertype.JobRow{Attempt: attempt})
	// Another node that is busy says how long to wait (429 or 503 with
	// Retry-After): the try waits that long, with a little jitter so the
	// syncs it held back don't all come at once, instead of the policy's
	// quick first retries, which it would only refuse again.
	var pe *PeerError
	busy := errors.As(err, &pe) && pe.RetryAfter > 0
	if busy {
		next = time.Now().Add(pe.RetryAfter + rand.N(pe.RetryAfter/10+1))
	}
	if gerr == nil {
		if aerr := n.advance(ctx, connID, eventID, ev.Stage, err.Error(), next, nil); aerr != nil {
			n.log.Error("recording a sync failure", "event", eventID, "err", aerr)
		}
	}
	n.log.Warn("sync step failed; will retry", "connection", connID, "event", eventID, "attempt", attempt, "err", err)
	if busy {
		// A snooze: River runs the job again then, and a wait asked for
		// doesn't count as a failed try.
		return river.JobSnooze(time.Until(next))
	}
	return err
}
