package engine_test

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// resultFirst is a transport that holds the answer to a sync's delivery
// until the sync is Synchronized on the sending node: the peer applied it
// and reported back before the sender recorded that it delivered it, as a
// peer whose queue starts the apply at once can.
type resultFirst struct {
	next http.RoundTripper
	node atomic.Pointer[testNode]
	held atomic.Int32
}

func (r *resultFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	n := r.node.Load()
	if err != nil || n == nil || req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, engine.PathEvents) {
		return resp, err
	}
	// Polled with a deadline: a transport has no event to wait on.
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var done int
		_ = n.Store().DB().QueryRowContext(req.Context(),
			`SELECT count(*) FROM sync_events WHERE direction = 'out' AND stage = 'synchronized'`).Scan(&done)
		if done > 0 {
			r.held.Add(1)
			return resp, nil
		}
		select {
		case <-deadline:
			return resp, nil
		case <-req.Context().Done():
			return resp, nil
		case <-tick.C:
		}
	}
}

// TestResultBeforeWaitingKeepsTheStageLog: when the peer's report arrives
// before the sender records Waiting, the sync's stage log still reads
// Preparing, Sending, Waiting, Finalizing, Synchronized: the report is the
// proof of delivery. (On PostgreSQL this order came up on its own in
// TestTrackerPairsTypes; here it is forced.)
func TestResultBeforeWaitingKeepsTheStageLog(t *testing.T) {
	rf := &resultFirst{}
	a, _, connA, _ := connectedAcmeWith(t, func(n *testNode) {
		n.peer = func(next http.RoundTripper) http.RoundTripper { rf.next = next; return rf }
	})
	rf.node.Store(a)
	src := firstTask(t, a, connA.LocalProject)
	ev, err := a.Exalate(ctxFor(t), connA.ID, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitSynchronized(t, a, src.ID)
	// The transport lets the answer go once it sees the sync
	// Synchronized, which may be just after this test did.
	eventually(t, "the delivery's answer held until the result came (the order under test)", func() bool { return rf.held.Load() > 0 })
	st, err := a.EventStatus(ctxFor(t), connA.ID, ev.EventID)
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	for _, s := range st.Stages {
		stages = append(stages, s.Stage)
	}
	want := []string{engine.StagePreparing, engine.StageSending, engine.StageWaiting, engine.StageFinalizing, engine.StageSynchronized}
	if !slices.Equal(stages, want) {
		t.Errorf("stage log %v, want %v", stages, want)
	}
}
