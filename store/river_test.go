package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
)

// noteArgs is a job that records a nonce, so the test can see the worker's
// effect in the database as well as River's completion.
type noteArgs struct {
	Connection string `json:"connection"`
	Nonce      string `json:"nonce"`
}

func (noteArgs) Kind() string { return "store_test_note" }

type noteWorker struct {
	river.WorkerDefaults[noteArgs]
	store *Store
}

func (w *noteWorker) Work(ctx context.Context, job *river.Job[noteArgs]) error {
	_, err := w.store.SeenNonce(ctx, job.Args.Connection, job.Args.Nonce, time.Now().Add(time.Hour))
	return err
}

func TestRiverJobInsertedInTxIsWorked(t *testing.T) { onEngines(t, testRiverJobInsertedInTxIsWorked) }

func testRiverJobInsertedInTxIsWorked(t *testing.T, e testEngine) {
	ctx := t.Context()
	s := e.open(t)

	workers := river.NewWorkers()
	river.AddWorker(workers, &noteWorker{store: s})
	client, err := s.NewRiverClient(&river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers: workers,
	})
	if err != nil {
		t.Fatalf("NewRiverClient: %v", err)
	}
	completed, cancelSub := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancelSub()
	if err := client.Start(ctx); err != nil {
		t.Fatalf("start river: %v", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Stop(stopCtx); err != nil {
			t.Errorf("stop river: %v", err)
		}
	}()

	// A job inserted in a rolled-back transaction never runs.
	boom := errors.New("boom")
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := client.InsertTx(ctx, tx, noteArgs{Connection: "c", Nonce: "rolled-back"}, nil); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rolled-back InTx: %v", err)
	}

	var jobID int64
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.CreateConnection(ctx, tx, testConnection("c")); err != nil {
			return err
		}
		res, err := client.InsertTx(ctx, tx, noteArgs{Connection: "c", Nonce: "from-job"}, nil)
		if err != nil {
			return err
		}
		jobID = res.Job.ID
		return nil
	})
	if err != nil {
		t.Fatalf("insert job: %v", err)
	}

	deadline := time.After(15 * time.Second)
	select {
	case ev := <-completed:
		if ev.Kind != river.EventKindJobCompleted || ev.Job.ID != jobID {
			t.Fatalf("event %s for job %d, want completion of job %d (errors: %v)",
				ev.Kind, ev.Job.ID, jobID, ev.Job.Errors)
		}
	case <-deadline:
		t.Fatal("job not completed within 15s")
	}

	// The worker's write landed: the nonce it recorded is now a replay.
	fresh, err := s.SeenNonce(ctx, "c", "from-job", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if fresh {
		t.Error("worker's nonce not recorded")
	}
	var jobs int
	if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM river_job").Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 1 {
		t.Errorf("river_job rows = %d, want 1 (the rolled-back insert must be gone)", jobs)
	}
}

func TestNewRiverClientDefaults(t *testing.T) { onEngines(t, testNewRiverClientDefaults) }

func testNewRiverClientDefaults(t *testing.T, e testEngine) {
	s := e.open(t)
	cfg := &river.Config{}
	client, err := s.NewRiverClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.FetchCooldown != 0 || cfg.FetchPollInterval != 0 {
		t.Error("NewRiverClient changed the caller's config")
	}
	if client == nil {
		t.Fatal("nil client")
	}
	// A slow cooldown from the caller must not leave the default poll
	// interval below it, which River rejects.
	if _, err := s.NewRiverClient(&river.Config{FetchCooldown: 200 * time.Millisecond}); err != nil {
		t.Errorf("NewRiverClient with slow cooldown: %v", err)
	}
	if _, err := s.NewRiverClient(nil); err != nil {
		t.Errorf("NewRiverClient(nil): %v", err)
	}
}
