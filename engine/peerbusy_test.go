package engine_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// busyPeer answers the first replica sent with 429 and a Retry-After, as
// a node past its limits does (engine/api's guard), without passing it on.
type busyPeer struct {
	next    http.RoundTripper
	refused atomic.Int32
}

func (b *busyPeer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, engine.PathEvents) && b.refused.Add(1) == 1 {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		body := `{"error":"too many requests","code":"rate_limited"}`
		return &http.Response{StatusCode: http.StatusTooManyRequests, Status: "429 Too Many Requests",
			Header: http.Header{"Retry-After": {"120"}, "Content-Type": {"application/json"}},
			Body:   io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req,
			ProtoMajor: 1, ProtoMinor: 1}, nil
	}
	return b.next.RoundTrip(req)
}

// TestBusyPeerIsWaitedForAsItAsks: another node answering 429 with
// Retry-After: 120 is not sent the sync again before then (River's policy
// alone would retry within a second), the wait shows as the sync's next
// try, and an operator's retry still sends it now.
func TestBusyPeerIsWaitedForAsItAsks(t *testing.T) {
	busy := &busyPeer{}
	a, _, connA, _ := connectedAcmeWith(t, func(n *testNode) {
		n.peer = func(rt http.RoundTripper) http.RoundTripper { busy.next = rt; return busy }
	})
	ctx := ctxFor(t)
	task, _ := twoTasks(t, a, connA.LocalProject)
	first, err := a.Exalate(ctx, "", task.ID)
	if err != nil {
		t.Fatal(err)
	}
	se := failingOn(t, a, first.EventID, 1)
	eventually(t, "the next try two minutes away", func() bool {
		se = failingOn(t, a, first.EventID, 1)
		return !se.Running && time.Until(se.NextRetry) > 100*time.Second
	})
	if until := time.Until(se.NextRetry); until > 135*time.Second {
		t.Errorf("next try in %v: want the 120 s asked for, with at most a tenth of jitter", until)
	}
	if se.Stage != engine.StageSending || !strings.Contains(se.Error, "too many requests") {
		t.Errorf("the failing sync shows %s %q, want Sending and the peer's answer", se.Stage, se.Error)
	}
	if n := busy.refused.Load(); n != 1 {
		t.Errorf("the replica was sent %d times while the peer asked to wait, want 1", n)
	}
	if _, err := a.Retry(ctx, "", first.EventID); err != nil {
		t.Fatal(err)
	}
	if st := waitSynchronized(t, a, task.ID); st.EventID != first.EventID {
		t.Errorf("synchronized by sync %s, want %s", st.EventID, first.EventID)
	}
}
