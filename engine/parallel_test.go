package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
)

// writesInFlight counts the writes (any method but GET) a tracker sandbox
// is serving at once, and the most it served at once.
type writesInFlight struct {
	mu       sync.Mutex
	now, top int
}

func (f *writesInFlight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			h.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		f.now++
		f.top = max(f.top, f.now)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.now--
			f.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

func (f *writesInFlight) most() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.top
}

// summaryLog is an Asana tracker that records, per task, the summaries
// the node's updates set, in the order it set them.
type summaryLog struct {
	*asana.Tracker
	mu  sync.Mutex
	set map[string][]string
}

func (s *summaryLog) Update(ctx context.Context, id string, u engine.EntityUpdate) (engine.Entity, error) {
	e, err := s.Tracker.Update(ctx, id, u)
	if err == nil && u.Summary != nil {
		s.mu.Lock()
		s.set[id] = append(s.set[id], *u.Summary)
		s.mu.Unlock()
	}
	return e, err
}

func (s *summaryLog) of(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.set[id])
}

// startSlowNode is startNode on a sandbox that answers every call after
// latency, as a tracker across the internet does, with its writes in
// flight counted by f.
func startSlowNode(t *testing.T, name string, latency time.Duration, f *writesInFlight, opts ...func(*testNode)) *testNode {
	t.Helper()
	sb, err := sandbox.New(sandbox.WithWorkspace(name), sandbox.WithRandSeed(int64(len(name))), sandbox.WithLatency(latency))
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{dir: t.TempDir(), clock: &clock{}, sb: sb}
	n.asanaURL = n.serveSandbox(t, f.wrap(sb)) + "/api/1.0"
	return n.begin(t, name, opts)
}

// TestAppliesOverlapAndOneItemStaysInOrder: on a node whose tracker
// answers after 20 ms, a bulk sync's applies to different tasks write to
// the tracker in parallel (more than one write in flight, never more than
// Asana's 15), while two quick renames of one task made meanwhile are
// applied in the order they were made, and a task made on Globex meanwhile
// syncs by the trigger; and nothing is duplicated or echoed.
// With one node-wide write lock the writes went one at a time.
func TestAppliesOverlapAndOneItemStaysInOrder(t *testing.T) {
	const tasks = 24
	flight := &writesInFlight{}
	log := &summaryLog{set: map[string][]string{}}
	a := startNode(t, "Acme", &clock{})
	b := startSlowNode(t, "Globex", 20*time.Millisecond, flight, func(n *testNode) {
		n.wrap = func(tr *asana.Tracker) engine.Tracker { log.Tracker = tr; return log }
	})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	connB, err := b.Accept(ctx, code, "Test")
	if err != nil {
		t.Fatal(err)
	}

	// New tasks on Globex sync by themselves: its own creates must not
	// be taken for new tasks (sent back as duplicates), nor hold up a
	// user's new task made while they are in flight.
	if _, err := b.SetTrigger(ctx, connB.ID, true); err != nil {
		t.Fatal(err)
	}

	// The task renamed twice, twinned first.
	moved, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Renamed twice"})
	if err != nil {
		t.Fatal(err)
	}
	exalate(t, a, moved.ID)
	twin, err := b.Store().TwinByRemote(ctx, nil, connB.ID, moved.ID)
	if err != nil {
		t.Fatal(err)
	}

	names := make([]string, tasks)
	for i := range names {
		names[i] = fmt.Sprintf("Parallel task %02d", i)
		e, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: names[i]})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.et().AddComment(ctx, e.ID, fmt.Sprintf("<body>Comment on task %02d</body>", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.ExalateAll(ctx, connA.ID); err != nil {
		t.Fatal(err)
	}
	const mine = "A task of Globex's own, made during the bulk"
	if _, err := b.et().Create(ctx, engine.NewEntity{Project: connB.LocalProject, Summary: mine}); err != nil {
		t.Fatal(err)
	}
	// Two renames, each synced at once, while the bulk applies.
	renames := []string{"Renamed once", "Renamed twice over"}
	for _, s := range renames {
		if _, err := a.et().Update(ctx, moved.ID, engine.EntityUpdate{Summary: &s}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Exalate(ctx, "", moved.ID); err != nil {
			t.Fatal(err)
		}
	}

	// Globex's detection takes a while to come to its user's task (it
	// looks at each twin the bulk wrote first): wait for it, so that its
	// sync isn't taken for an echo.
	within(t, time.Minute, "Globex's own task on Acme", func() bool { return tasksNamed(t, a, connA.LocalProject, mine) > 0 })
	settledWithoutEcho(t, a, b)
	for _, n := range []*testNode{a, b} {
		project := connA.LocalProject
		if n == b {
			project = connB.LocalProject
		}
		ids, err := n.et().List(ctx, project)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, id := range ids {
			seen[read(t, n, id).Summary]++
		}
		for _, name := range append(names, mine) {
			if seen[name] != 1 {
				t.Errorf("%q is on %s %d times, want once", name, n.Info().Name, seen[name])
			}
		}
	}
	if got := read(t, b, twin.LocalID).Summary; got != renames[1] {
		t.Errorf("the twin of the renamed task is %q, want %q", got, renames[1])
	}
	// The renames arrive in order: once the second is applied, the first
	// never is again (a rename may be applied twice when change detection
	// also saw it).
	set := log.of(twin.LocalID)
	if i := slices.Index(set, renames[1]); i < 0 || slices.Contains(set[i:], renames[0]) || !slices.Contains(set[:i], renames[0]) {
		t.Errorf("the twin's summary was set to %q, want %q then %q", set, renames[0], renames[1])
	}
	most := flight.most()
	t.Logf("at most %d writes in flight on Globex's tracker", most)
	if most < 2 {
		t.Errorf("at most %d write in flight on Globex's tracker: applies to different tasks did not overlap", most)
	}
	if most > asana.MaxConcurrentWrites {
		t.Errorf("%d writes in flight on Globex's tracker, over Asana's %d", most, asana.MaxConcurrentWrites)
	}
	if byStatus, _ := b.sbAnswers.snapshot(); byStatus[http.StatusTooManyRequests] > 0 {
		t.Errorf("Globex's tracker refused %d calls with 429", byStatus[http.StatusTooManyRequests])
	}
}
