package engine_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
)

// The issue asks for 100 tasks. The sandbox-fault test runs 30 by default
// (the same faults, the same checks) to stay within a minute on two busy
// cores; go test -run SandboxFaults -faults.tasks=100 ./engine/ runs the
// full size (about 90 s). The network-fault test runs 100 (about 15 s).
var (
	faultTasks = flag.Int("faults.tasks", 0, "tasks seeded (with comments and an attachment each) by the fault tests; "+
		"0: 30 for the sandbox faults, 100 for the network faults")
	faultSeed = flag.Uint64("faults.seed", 0, "seed of the fault tests' randomness; 0 picks one (logged)")
)

// tasksFor is how many tasks a fault test seeds: -faults.tasks, or its
// own default.
func tasksFor(def int) int {
	if *faultTasks > 0 {
		return *faultTasks
	}
	if testing.Short() {
		// .ci/run's race run: the same faults on fewer tasks (the plain
		// run takes them all).
		return min(def, 30)
	}
	return def
}

// faultRNG returns the test's random source and logs its seed, so a
// failing run can be replayed with -faults.seed.
func faultRNG(t *testing.T) *rand.Rand {
	seed := *faultSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("randomness: -faults.seed=%d", seed)
	return rand.New(rand.NewPCG(seed, seed>>7^0x5eed))
}

// seedTasks creates count tasks in n's project while its sandbox is
// healthy, each with two or three comments and one small attachment, and
// returns their ids in order.
func seedTasks(t *testing.T, n *testNode, project, prefix string, count int, rng *rand.Rand) []string {
	t.Helper()
	type seed struct {
		name     string
		comments []string
		file     []byte
	}
	seeds := make([]seed, count)
	for i := range seeds {
		s := seed{name: fmt.Sprintf("%s task %03d", prefix, i+1), file: make([]byte, 200+rng.IntN(3000))}
		for j := range 2 + rng.IntN(2) {
			s.comments = append(s.comments, fmt.Sprintf("<body>Comment %d on %s, <em>%x</em></body>", j+1, s.name, rng.Uint32()))
		}
		for k := range s.file {
			s.file[k] = byte(rng.UintN(256))
		}
		seeds[i] = s
	}
	ids := make([]string, count)
	ctx := ctxFor(t)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 6 {
		wg.Go(func() {
			for i := range work {
				s := seeds[i]
				task, err := n.client.CreateTask(ctx, asana.NewTask{Project: project, Name: s.name,
					HTMLNotes: "<body>Seeded for a fault test: <strong>" + s.name + "</strong>.</body>"})
				if err != nil {
					t.Errorf("seeding %s: %v", s.name, err)
					continue
				}
				ids[i] = task.GID
				for _, c := range s.comments {
					if _, err := n.client.AddComment(ctx, task.GID, c); err != nil {
						t.Errorf("seeding a comment on %s: %v", s.name, err)
					}
				}
				if _, err := n.client.UploadAttachment(ctx, asana.Upload{Parent: task.GID, Name: fmt.Sprintf("notes-%03d.bin", i+1),
					Size: int64(len(s.file)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(s.file)), nil }}); err != nil {
					t.Errorf("seeding an attachment on %s: %v", s.name, err)
				}
			}
		})
	}
	for i := range seeds {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return ids
}

// bulk runs a Bulk Exalate of the connection the way an operator would
// under faults: one that stops on an error is started again.
func bulk(t *testing.T, n *testNode, connID string) {
	begin := time.Now()
	// Reading a hundred tasks through faults and rate-limit storms takes
	// longer than ctxFor allows.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for attempt := 1; ; attempt++ {
		started, err := n.ExalateAll(ctx, connID)
		if err == nil {
			t.Logf("bulk exalate on %s: %d syncs started in %v (attempt %d)", n.Info().Name, started.Started,
				time.Since(begin).Round(time.Millisecond), attempt)
			return
		}
		if attempt == 5 {
			t.Errorf("bulk exalate on %s failed %d times; last: %v", n.Info().Name, attempt, err)
			return
		}
		t.Logf("bulk exalate on %s stopped after %d syncs: %v; starting it again", n.Info().Name, started.Started, err)
	}
}

// bulkDone runs a Bulk Exalate on n and waits until all n's syncs are done.
// The fault tests run one side's bulk to the end before the other's: a bulk
// that picks up a twin whose first sync its source has not finalized yet
// makes the source create a second copy (a known bug; see
// TestBulkOnBothSidesAtOnce).
func bulkDone(t *testing.T, n *testNode, connID string) {
	t.Helper()
	bulk(t, n, connID)
	within(t, 2*time.Minute, n.Info().Name+"'s bulk sync", func() bool {
		var busy int
		n.Store().DB().QueryRow(`SELECT count(*) FROM sync_events WHERE direction = 'out' AND stage != 'synchronized'`).Scan(&busy)
		return busy == 0
	})
}

// userEdit is one change a user makes during a sync, checked afterwards on
// both sides of the twin pair.
type userEdit struct {
	on      *testNode
	task    string // the task's id on the side it was made on
	summary string // the new summary, or ""
	comment string // a comment's unique words, or ""
}

// twoWayEdits makes user edits on both sides while the sync of ids (tasks
// on p.a) runs: as soon as a few have twins, a rename and a comment on each
// side, a comment on both sides of one pair, and a rename and a comment on
// a task whose sync may not be done yet. Users retry through faults (a
// comment that may have failed is looked for before it is written again).
func twoWayEdits(t *testing.T, p pairing, ids []string) []userEdit {
	t.Helper()
	var twins map[string]string
	within(t, 2*time.Minute, "four twins to edit", func() bool {
		twins = twinsOf(t, p.a, p.connA.ID, ids)
		return len(twins) >= 4
	})
	ctx := ctxFor(t)
	var synced []string
	for _, id := range ids {
		if twins[id] != "" {
			synced = append(synced, id)
		}
	}
	late := "" // a task whose first sync is not done yet, if one is left
	for _, id := range slices.Backward(ids) {
		if twins[id] == "" {
			late = id
			break
		}
	}
	edits := []userEdit{
		{on: p.a, task: synced[0], summary: "Renamed on Acme during the sync"},
		{on: p.a, task: synced[1], comment: "Acme comments during the sync"},
		{on: p.b, task: twins[synced[2]], summary: "Renamed on Globex during the sync"},
		{on: p.b, task: twins[synced[3]], comment: "Globex comments during the sync"},
		{on: p.a, task: synced[1], comment: "Acme again, on the pair both sides comment on"},
		{on: p.b, task: twins[synced[1]], comment: "Globex too, on the pair both sides comment on"},
	}
	if late != "" {
		edits = append(edits, userEdit{on: p.a, task: late, summary: "Renamed on Acme before its first sync was done",
			comment: "Acme comments before the first sync was done"})
	}
	users := map[*testNode]*asana.Tracker{p.a: newReader(t, p.a), p.b: newReader(t, p.b)}
	for _, e := range edits {
		u := users[e.on]
		if e.summary != "" {
			if _, err := u.Update(ctx, e.task, engine.EntityUpdate{Summary: &e.summary}); err != nil {
				t.Fatalf("renaming %s on %s: %v", e.task, e.on.Info().Name, err)
			}
		}
		if e.comment != "" {
			userComment(t, u, e.task, e.comment)
		}
	}
	return edits
}

// userComment adds a comment through faults: after a failure whose outcome
// may be unknown it looks for the comment before writing it again.
func userComment(t *testing.T, u engine.EntityTracker, task, words string) {
	t.Helper()
	ctx := ctxFor(t)
	var err error
	for range 30 {
		if _, err = u.AddComment(ctx, task, "<body>"+words+"</body>"); err == nil {
			return
		}
		e, gerr := u.Get(ctx, task)
		if gerr == nil && countContaining(e.Comments, words) > 0 {
			return
		}
	}
	t.Fatalf("commenting on %s: %v", task, err)
}

// twinsOf maps those of ids that have a twin on n to their twin's id, in
// one query (the store has a single connection the node needs too).
func twinsOf(t *testing.T, n *testNode, connID string, ids []string) map[string]string {
	t.Helper()
	rows, err := n.Store().DB().Query(`SELECT local_id, remote_id FROM twins WHERE connection_id = ?`, connID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	all := map[string]string{}
	for rows.Next() {
		var local, remote string
		if err := rows.Scan(&local, &remote); err != nil {
			t.Fatal(err)
		}
		all[local] = remote
	}
	out := map[string]string{}
	for _, id := range ids {
		if r, ok := all[id]; ok {
			out[id] = r
		}
	}
	return out
}

// checkEdits checks that each user edit reached both sides, once.
func checkEdits(t *testing.T, rep invariantsReport, p pairing, edits []userEdit) {
	t.Helper()
	for _, e := range edits {
		here, there, twin := rep.A, rep.B, rep.AtoB
		if e.on == p.b {
			here, there, twin = rep.B, rep.A, rep.BtoA
		}
		mine, theirs := here[e.task], there[twin[e.task]]
		if e.summary != "" && (mine.Summary != e.summary || theirs.Summary != e.summary) {
			t.Errorf("%s's rename of %s to %q: now %q and %q on its twin", e.on.Info().Name, e.task, e.summary, mine.Summary, theirs.Summary)
		}
		if e.comment != "" {
			if n, m := bodiesContaining(mine.Comments, e.comment), bodiesContaining(theirs.Comments, e.comment); n != 1 || m != 1 {
				t.Errorf("%s's comment %q is on %s %d times and on its twin %d times, want once each", e.on.Info().Name, e.comment, e.task, n, m)
			}
		}
	}
}

func bodiesContaining(cs []commentState, s string) int {
	n := 0
	for _, c := range cs {
		if strings.Contains(c.Body, s) {
			n++
		}
	}
	return n
}

// storm alternates the sandboxes between a low rate limit and none, on for
// on and off for off, until the returned stop is called; stop lifts the
// limit and returns when the storm is over.
func storm(perMinute int, on, off time.Duration, sbs ...*sandbox.Sandbox) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			for _, sb := range sbs {
				sb.SetRateLimit(perMinute)
			}
			if !wait(ctx, on) {
				break
			}
			for _, sb := range sbs {
				sb.SetRateLimit(0)
			}
			if !wait(ctx, off) {
				break
			}
		}
		for _, sb := range sbs {
			sb.SetRateLimit(0)
		}
	}()
	return func() { cancel(); <-done }
}

// wait lets d pass unless ctx ends first (the storm's phases are timed: a
// rate limit is a matter of time).
func wait(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// within polls cond until it holds, failing after d.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		<-tick.C
	}
}

// stepFailures counts the failed steps a node recorded (each retried).
func stepFailures(t *testing.T, n *testNode) int {
	var c int
	if err := n.Store().DB().QueryRow(`SELECT count(*) FROM stage_log WHERE error != ''`).Scan(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSandboxFaultsConverge: both Asana sandboxes answer a fifth of all
// requests with a 500, a 503 or a cut connection, and rate-limit storms
// (429 with Retry-After) come and go, while a bulk sync of tasks with
// comments and attachments runs both ways and users edit both sides. The
// faults stay on to the end, the check's own reads included (they retry):
// the sync converges under them, with every task twinned once and nothing
// lost or doubled.
func TestSandboxFaultsConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the plain test run covers it; under -race it takes minutes")
	}
	a, b, connA, connB := connected(t)
	p := pairing{a: a, b: b, connA: connA, connB: connB}
	rng := faultRNG(t)
	ids := seedTasks(t, a, connA.LocalProject, "Storm", tasksFor(30), rng)
	before := map[*testNode]int64{a: a.sb.Requests(), b: b.sb.Requests()}

	begin := time.Now()
	a.sb.SetFaultRate(0.2)
	b.sb.SetFaultRate(0.2)
	stopStorm := storm(120, 1500*time.Millisecond, 2500*time.Millisecond, a.sb, b.sb)
	defer stopStorm()
	var wg sync.WaitGroup
	wg.Go(func() { bulk(t, a, connA.ID) })
	wg.Go(func() { bulk(t, b, connB.ID) })
	edits := twoWayEdits(t, p, ids)
	wg.Wait()
	// The storms last as long as the bulk sync; the faults to the end.
	t.Logf("bulk exalates returned and edits made after %v", time.Since(begin).Round(time.Millisecond))
	within(t, 2*time.Minute, "the bulk sync through the storms", func() bool { return len(twinsOf(t, a, connA.ID, ids)) == len(ids) })
	stopStorm()
	t.Logf("every task twinned after %v; storms over", time.Since(begin).Round(time.Millisecond))
	rep := checkInvariants(t, p, 90*time.Second)
	checkEdits(t, rep, p, edits)
	if rep.Tasks < len(ids) {
		t.Errorf("%d twin pairs checked, want at least the %d seeded tasks", rep.Tasks, len(ids))
	}

	t.Logf("converged in %v: %d tasks seeded, %d twin pairs, %d comments and %d attachments per side, %d user edits",
		time.Since(begin).Round(time.Millisecond), len(ids), rep.Tasks, rep.Comments, rep.Files, len(edits))
	for _, n := range []*testNode{a, b} {
		byStatus, cut := n.sbAnswers.snapshot()
		st := n.client.Stats()
		t.Logf("%s's sandbox, from the faults on to the end (the check's reads included): %d requests; faults: %d × 500, %d × 503, %d cut; "+
			"%d × 429 with Retry-After; the node's client retried %d times, the engine %d failed steps",
			n.Info().Name, n.sb.Requests()-before[n], byStatus[500], byStatus[503], cut, byStatus[429], st.Retries, stepFailures(t, n))
	}
}
