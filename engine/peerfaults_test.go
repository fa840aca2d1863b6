package engine_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// faultyNet is the network between nodes at its worst. Once on, each
// request, chosen with a seeded source of randomness, is dropped before it
// is sent, or sent and its answer lost, or sent twice (the copy before or
// after it, one answer returned), or delayed, or held back while later
// requests overtake it, or (a GET) has its answer cut half-way; the rest
// pass untouched.
type faultyNet struct {
	on     atomic.Bool
	mu     sync.Mutex
	rng    *rand.Rand
	counts map[string]int
	held   []*heldRequest
}

// heldRequest is a request held back until left later requests have gone
// through.
type heldRequest struct {
	left    int
	release chan struct{}
}

// Shares of each fault, out of all requests while the net is on.
var netFaults = []struct {
	kind  string
	share float64
}{
	{"drop before sending", 0.07},
	{"answer lost after processing", 0.07},
	{"duplicated", 0.08},
	{"delayed", 0.10},
	{"reordered", 0.08},
	{"answer cut half-way", 0.08}, // GETs only (attachment bytes)
}

var (
	errDropped = errors.New("faulty net: the request was dropped before it was sent")
	errLost    = errors.New("faulty net: the answer was lost after the peer got the request")
)

func newFaultyNet(rng *rand.Rand) *faultyNet {
	return &faultyNet{rng: rng, counts: map[string]int{}}
}

// wrap is a testNode.peer: next carries what passes.
func (f *faultyNet) wrap(next http.RoundTripper) http.RoundTripper { return &faultyHop{f, next} }

type faultyHop struct {
	net  *faultyNet
	next http.RoundTripper
}

// fate is what happens to one request.
type fate struct {
	kind       string
	delay      time.Duration // delayed
	overtakers int           // reordered: how many later requests pass it
	copyFirst  bool          // duplicated: the copy arrives first
}

// pick chooses a request's fate and counts it.
func (f *faultyNet) pick(method string) fate {
	f.mu.Lock()
	defer f.mu.Unlock()
	x := f.rng.Float64()
	d := fate{kind: "passed", delay: time.Duration(20+f.rng.IntN(300)) * time.Millisecond,
		overtakers: 1 + f.rng.IntN(3), copyFirst: f.rng.IntN(2) == 0}
	for _, nf := range netFaults {
		if x < nf.share {
			d.kind = nf.kind
			break
		}
		x -= nf.share
	}
	if d.kind == "answer cut half-way" && method != http.MethodGet {
		d.kind = "passed"
	}
	f.counts[d.kind]++
	return d
}

func (f *faultyNet) count(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[kind]++
}

// hold parks a request until overtakers later requests have gone through,
// or a second has passed when traffic has stopped.
func (f *faultyNet) hold(req *http.Request, overtakers int) {
	h := &heldRequest{left: overtakers, release: make(chan struct{})}
	f.mu.Lock()
	f.held = append(f.held, h)
	f.mu.Unlock()
	tm := time.NewTimer(time.Second)
	defer tm.Stop()
	select {
	case <-h.release:
		f.count("reordered: overtaken")
		return
	case <-tm.C:
		f.count("reordered: released when traffic stopped")
	case <-req.Context().Done():
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held = slices.DeleteFunc(f.held, func(x *heldRequest) bool { return x == h })
}

// wentThrough releases the held requests this one has overtaken.
func (f *faultyNet) wentThrough() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held = slices.DeleteFunc(f.held, func(h *heldRequest) bool {
		h.left--
		if h.left <= 0 {
			close(h.release)
			return true
		}
		return false
	})
}

// snapshot returns the counts by kind.
func (f *faultyNet) snapshot() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.counts {
		out[k] = v
	}
	return out
}

func (h *faultyHop) RoundTrip(req *http.Request) (*http.Response, error) {
	f := h.net
	if !f.on.Load() {
		return h.next.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	again := func() *http.Request {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		return r
	}
	d := f.pick(req.Method)
	kind := d.kind
	switch kind {
	case "drop before sending":
		return nil, errDropped
	case "delayed":
		if !wait(req.Context(), d.delay) {
			return nil, req.Context().Err()
		}
	case "reordered":
		f.hold(req, d.overtakers)
	case "duplicated":
		if d.copyFirst {
			h.duplicate(again(), "duplicated: copy first, answered")
			resp, err := h.next.RoundTrip(again())
			f.wentThrough()
			return resp, err
		}
	}
	resp, err := h.next.RoundTrip(again())
	f.wentThrough()
	switch {
	case err != nil:
	case kind == "answer lost after processing":
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errLost
	case kind == "duplicated":
		h.duplicate(again(), "duplicated: copy after, answered")
	case kind == "answer cut half-way":
		resp.Body = &cutBody{rc: resp.Body, left: max(resp.ContentLength/2, 1)}
	}
	return resp, err
}

// duplicate sends a copy of a request and counts how the peer answered it
// (a copy of a signed request is refused as a replay: 401).
func (h *faultyHop) duplicate(req *http.Request, what string) {
	resp, err := h.next.RoundTrip(req)
	if err != nil {
		h.net.count(what + " with an error")
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	h.net.count(fmt.Sprintf("%s %d", what, resp.StatusCode))
}

// cutBody ends a stream with an error after left bytes, as a connection
// cut mid-answer does.
type cutBody struct {
	rc   io.ReadCloser
	left int64
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cutBody) Close() error { return c.rc.Close() }

// TestPeerFaultsConverge: every request between the nodes may be dropped,
// lose its answer, be duplicated, delayed, overtaken or cut short, while a
// bulk sync of tasks with comments and attachments runs both ways and users
// edit both sides. Every sync gets through, and the two projects agree
// with nothing lost or doubled.
func TestPeerFaultsConverge(t *testing.T) {
	rng := faultRNG(t)
	fnet := newFaultyNet(rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())))
	withNet := func(n *testNode) { n.peer = fnet.wrap }
	a, b := startNode(t, "Acme", &clock{}, withNet), startNode(t, "Globex", &clock{}, withNet)
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	connB, err := b.Accept(ctx, code, "Test")
	if err != nil {
		t.Fatal(err)
	}
	p := pairing{a: a, b: b, connA: connA, connB: connB}
	ids := seedTasks(t, a, connA.LocalProject, "Netsplit", tasksFor(100), rng)

	begin := time.Now()
	fnet.on.Store(true)
	bulkDone(t, b, connB.ID)
	var wg sync.WaitGroup
	wg.Go(func() { bulk(t, a, connA.ID) })
	edits := twoWayEdits(t, p, ids)
	wg.Wait()
	rep := checkInvariants(t, p, 90*time.Second)
	checkEdits(t, rep, p, edits)
	if rep.Tasks < len(ids) {
		t.Errorf("%d twin pairs checked, want at least the %d seeded tasks", rep.Tasks, len(ids))
	}

	counts := fnet.snapshot()
	total := 0
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if !strings.Contains(k, ":") {
			total += counts[k]
		}
		lines = append(lines, fmt.Sprintf("%s: %d", k, counts[k]))
	}
	t.Logf("converged in %v: %d tasks seeded, %d twin pairs, %d comments and %d attachments per side, %d user edits",
		time.Since(begin).Round(time.Millisecond), len(ids), rep.Tasks, rep.Comments, rep.Files, len(edits))
	t.Logf("%d requests between the nodes; %s", total, strings.Join(lines, "; "))
	t.Logf("failed steps retried: Acme %d, Globex %d", stepFailures(t, a), stepFailures(t, b))
	if counts["passed"] == total {
		t.Error("the faulty net injected no fault")
	}
}
