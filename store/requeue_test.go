package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/riverqueue/river"
)

// TestRequeueInterruptedRunsAnOrphanedJob: a job a killed process left
// marked running is worked as soon as the next process starts its client,
// not after River's rescue delay (an hour for the node).
func TestRequeueInterruptedRunsAnOrphanedJob(t *testing.T) {
	onEngines(t, testRequeueInterruptedRunsAnOrphanedJob)
}

func testRequeueInterruptedRunsAnOrphanedJob(t *testing.T, e testEngine) {
	ctx := t.Context()
	s := e.open(t)
	inserter, err := s.NewRiverClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	var jobID int64
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.CreateConnection(ctx, tx, testConnection("c")); err != nil {
			return err
		}
		res, err := inserter.InsertTx(ctx, tx, noteArgs{Connection: "c", Nonce: "orphaned"}, nil)
		if err != nil {
			return err
		}
		jobID = res.Job.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// As a killed run leaves it: fetched, attempted, never finished.
	if _, err := s.DB().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1,
		attempted_at = CURRENT_TIMESTAMP WHERE id = ?`, jobID); err != nil {
		t.Fatal(err)
	}

	if n, err := s.RequeueInterrupted(ctx); err != nil || n != 1 {
		t.Fatalf("RequeueInterrupted = %d, %v; want the 1 orphaned job", n, err)
	}
	if n, err := s.RequeueInterrupted(ctx); err != nil || n != 0 {
		t.Fatalf("RequeueInterrupted again = %d, %v; want 0", n, err)
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &noteWorker{store: s})
	client, err := s.NewRiverClient(&river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers: workers,
	})
	if err != nil {
		t.Fatal(err)
	}
	completed, cancelSub := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancelSub()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Stop(stopCtx); err != nil {
			t.Errorf("stop river: %v", err)
		}
	}()
	select {
	case ev := <-completed:
		if ev.Kind != river.EventKindJobCompleted || ev.Job.ID != jobID {
			t.Fatalf("event %s for job %d, want completion of job %d (errors: %v)", ev.Kind, ev.Job.ID, jobID, ev.Job.Errors)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the orphaned job was not worked within 15s")
	}
	if fresh, err := s.SeenNonce(ctx, "c", "orphaned", time.Now().Add(time.Hour)); err != nil || fresh {
		t.Errorf("the worker's write did not land (fresh %v, %v)", fresh, err)
	}
}
