package engine_test

import (
	"slices"
	"testing"

	"github.com/tandem-sync/tandem/engine"
)

// TestOneJobPerSide checks the job queue's share of a sync: one send job
// on the source and one apply job on the receiver, which also reports the
// result back (no separate report job), and that the source's stage log
// still shows Finalizing before Synchronized though one transaction
// records both.
func TestOneJobPerSide(t *testing.T) {
	a, b, connA, _ := connected(t)
	ctx := ctxFor(t)
	src := firstTask(t, a, connA.LocalProject)
	ev, err := a.Exalate(ctx, "", src.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitSynchronized(t, a, src.ID)
	waitSynchronized(t, b, src.ID)
	jobs := func(n *testNode) map[string]int {
		t.Helper()
		rows, err := n.Store().DB().QueryContext(ctx, `SELECT kind, count(*) FROM river_job GROUP BY kind`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var kind string
			var count int
			if err := rows.Scan(&kind, &count); err != nil {
				t.Fatal(err)
			}
			out[kind] = count
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := jobs(a); len(got) != 1 || got["tandem_send"] != 1 {
		t.Errorf("source jobs %v, want one tandem_send", got)
	}
	if got := jobs(b); len(got) != 1 || got["tandem_apply"] != 1 {
		t.Errorf("receiver jobs %v, want one tandem_apply (it reports too)", got)
	}
	log, err := a.Store().StageLog(ctx, connA.ID, ev.EventID)
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	for _, e := range log {
		stages = append(stages, e.Stage)
	}
	want := []string{engine.StagePreparing, engine.StageSending, engine.StageWaiting, engine.StageFinalizing, engine.StageSynchronized}
	if !slices.Equal(stages, want) {
		t.Errorf("source stage log %v, want %v", stages, want)
	}
}
