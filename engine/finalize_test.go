package engine_test

import (
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine"
)

// TestFinalizingFailureShowsOnTheSource: a report the source can't record
// (here, one naming another twin than the one linked) fails with the
// reason on the source's sync, not only as an error on the peer.
func TestFinalizingFailureShowsOnTheSource(t *testing.T) {
	a, b, connA, connB := connected(t)
	ctx := ctxFor(t)
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil || len(ids) == 0 {
		t.Fatalf("tasks: %v %v", ids, err)
	}
	exalate(t, a, ids[0])
	// Globex stores what arrives without applying it: the next sync waits.
	if _, err := b.SetActive(ctx, connB.ID, false); err != nil {
		t.Fatal(err)
	}
	ev, err := a.Exalate(ctx, connA.ID, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the sync waiting for Globex", func() bool {
		st, err := a.EventStatus(ctx, connA.ID, ev.EventID)
		return err == nil && st.Stage == engine.StageWaiting
	})
	err = a.ReceiveResult(ctx, connA, engine.ResultDelivery{Result: engine.ApplyResult{EventID: ev.EventID, EntityID: "999", Key: "999"}})
	if err == nil {
		t.Fatal("a report naming another twin was recorded")
	}
	st, err := a.EventStatus(ctx, connA.ID, ev.EventID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stage != engine.StageFinalizing || !strings.Contains(st.Error, "is linked to") {
		t.Errorf("the sync shows %s with error %q; want Finalizing with the reason", st.Stage, st.Error)
	}
}
