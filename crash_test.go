package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine/api"
)

// The crash test's knobs. The defaults are CI's; a long run is
//
//	go test -run TestCrashRestartConvergence -crash.kills=200 -crash.tasks=100 .
var (
	crashKills    = flag.Int("crash.kills", 20, "SIGKILLs of a node in the crash-restart test (200 or more for a long run)")
	crashTasks    = flag.Int("crash.tasks", 30, "tasks (2 comments and a file each) the crash-restart test bulk-syncs")
	crashSeed     = flag.Uint64("crash.seed", 0, "seed of the crash-restart test's schedule (0: a new one, logged)")
	crashConverge = flag.Duration("crash.converge", 2*time.Minute, "how long the crash-restart test waits for convergence")
	crashDir      = flag.String("crash.dir", "", "keep the crash-restart test's data dirs and logs here (default: a temporary dir)")
)

// TestCrashRestartConvergence runs two nodes as processes, each in front of
// its own Asana sandbox, bulk-syncs a project from Acme to Globex while both
// sides edit the twins, and SIGKILLs a node at random moments, restarting
// it on the same data dir. Once the kills stop, the two projects must
// converge: every task has exactly one twin, the same summary (the last one
// written), comments and files on both sides, nothing twice; every sync is
// Synchronized or shows why not; both databases pass integrity_check.
func TestCrashRestartConvergence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nodes as processes and kills them; skipped with -short")
	}
	seed := *crashSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d: replay the schedule with -crash.seed=%d (timings still vary)", seed, seed)
	h := newCrashHarness(t, seed)
	h.setup()
	began := time.Now()
	h.chaos(h.killer)
	chaosTook := time.Since(began)
	convergeBegan := time.Now()
	converged := h.converge(*crashConverge)
	h.final(converged, chaosTook, time.Since(convergeBegan))
}

// crashHarness holds the two sandboxes, the two node processes and what
// the harness did to them.
type crashHarness struct {
	// tasks is how many tasks the harness makes (0: -crash.tasks).
	tasks int
	t     *testing.T
	ctx   context.Context
	seed  uint64
	dir   string       // the nodes' data dirs and outputs
	nodes [2]*procNode // Acme, Globex
	// replicas, when set, are Acme's processes (nodes[0] is the first),
	// one node on one PostgreSQL database behind one URL.
	replicas []*procNode
	admins   [2]*remote.Client
	sides    [2]side
	conns    [2]string // the connection's id on each node
	want     *expectations
	// crashIDs are the Acme gids of the harness's tasks, by index.
	crashIDs []string

	kills        [2]int
	startupKills int
	bulkTries    int
	edits        map[string]int // "comment@Acme" → count
	lastProblems []string       // what final found wrong
	editsMu      sync.Mutex
}

func newCrashHarness(t *testing.T, seed uint64) *crashHarness {
	h := &crashHarness{t: t, ctx: t.Context(), seed: seed, want: newExpectations(), edits: map[string]int{}}
	dir := *crashDir
	if dir == "" {
		dir = t.TempDir()
	} else if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		t.Fatalf("-crash.dir %s is not empty: the nodes would start on an earlier run's data", dir)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Logf("data dirs and logs under %s", dir)
	h.dir = dir
	for i, name := range []string{"Acme", "Globex"} {
		sb, err := sandbox.New(sandbox.WithWorkspace(name), sandbox.WithToken(name+"-pat"), sandbox.WithRandSeed(int64(seed>>1)+int64(i)))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sb)
		t.Cleanup(srv.Close)
		base := srv.URL + "/api/1.0"
		client, err := asana.New(asana.Config{BaseURL: base, Token: name + "-pat", RequestsPerMinute: -1})
		if err != nil {
			t.Fatal(err)
		}
		h.sides[i] = side{name: name, client: client, tracker: asana.NewTracker(client, ""), skip: map[string]bool{}}
		h.nodes[i] = newProcNode(t, name, dir, base, name+"-pat")
		if h.admins[i], err = remote.New(h.nodes[i].url, h.nodes[i].adminToken); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// setup starts both nodes, connects Acme's Company to Globex's Test and
// seeds Company with the harness's tasks, each with two comments and a
// file.
func (h *crashHarness) setup() {
	t, ctx := h.t, h.ctx
	for i, project := range []string{"Company", "Test"} {
		s := &h.sides[i]
		if _, err := s.tracker.Check(ctx); err != nil {
			t.Fatal(err)
		}
		ps, err := s.tracker.Projects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Name == project {
				s.project = p.ID
			}
		}
		if s.project == "" {
			t.Fatalf("%s's sandbox has no project %s", s.name, project)
		}
	}
	// Globex's own seeded tasks take no part in the sync.
	ids, err := h.sides[1].tracker.List(ctx, h.sides[1].project)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		h.sides[1].skip[id] = true
	}
	for _, n := range h.procs() {
		if err := n.start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range h.procs() {
		if err := n.waitHealthy(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	c, err := h.admins[0].Connect(ctx, api.ConnectRequest{To: h.nodes[1].url, DestToken: h.nodes[1].adminToken,
		DestProject: "Test", Project: "Company"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	h.conns[0] = c.ID
	cs, err := h.admins[1].Connections(ctx)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Globex's connections: %v %v", cs, err)
	}
	h.conns[1] = cs[0].ID

	acme := h.sides[0]
	rng := rand.New(rand.NewPCG(h.seed, 0))
	tasks := h.tasks
	if tasks == 0 {
		tasks = *crashTasks
	}
	for i := range tasks {
		key := fmt.Sprintf("%s%03d", crashPrefix, i)
		task, err := acme.client.CreateTask(ctx, asana.NewTask{Project: acme.project, Name: key,
			HTMLNotes: "<body>Made by the crash harness, <em>task " + key + "</em>.</body>"})
		if err != nil {
			t.Fatal(err)
		}
		h.crashIDs = append(h.crashIDs, task.GID)
		for j := 1; j <= 2; j++ {
			h.addComment(0, key, task.GID, fmt.Sprintf("%s note %d", key, j))
		}
		h.addFile(0, key, task.GID, fmt.Sprintf("%s.txt", key), rng)
	}
}

// converge polls until both projects agree (matched by name) and every
// sync on both nodes is Synchronized, or the deadline passes; it reports
// which.
func (h *crashHarness) converge(within time.Duration) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last []string
	for {
		// A poll that hangs (a node or a sandbox wedged) must not hold
		// the deadline up: it counts as not converged yet.
		poll, cancel := context.WithTimeout(h.ctx, 15*time.Second)
		last = h.problemsByName(poll)
		cancel()
		if len(last) == 0 {
			return true
		}
		select {
		case <-h.ctx.Done():
			return false
		case <-deadline.C:
			h.t.Errorf("no convergence within %v; still:", within)
			for _, p := range last[:min(len(last), 40)] {
				h.t.Errorf("  %s", p)
			}
			h.dumpStacks()
			return false
		case <-tick.C:
		}
	}
}

// dumpStacks, when the data dirs are kept (-crash.dir), writes the
// harness's goroutines (the sandboxes run in it) next to them and has each
// node print its own into its output before it exits (SIGQUIT), to see
// what a sync that never ends waits for.
func (h *crashHarness) dumpStacks() {
	if *crashDir == "" {
		return
	}
	f, err := os.Create(filepath.Join(h.dir, "harness-goroutines.txt"))
	if err == nil {
		err = pprof.Lookup("goroutine").WriteTo(f, 2)
		f.Close()
	}
	if err != nil {
		h.t.Logf("dumping the harness's goroutines: %v", err)
	}
	for _, n := range h.procs() {
		n.quit()
	}
	h.t.Logf("goroutines dumped in %s and the nodes' .out files", h.dir)
}

// procs are the node processes: Acme's replicas, or Acme, and Globex.
func (h *crashHarness) procs() []*procNode {
	if h.replicas != nil {
		return append(slices.Clone(h.replicas), h.nodes[1])
	}
	return h.nodes[:]
}

// procsOf are node i's processes (n is h.nodes[i]).
func (h *crashHarness) procsOf(i int, n *procNode) []*procNode {
	if i == 0 && h.replicas != nil {
		return h.replicas
	}
	return []*procNode{n}
}

// problemsByName is what still keeps the nodes from having converged.
func (h *crashHarness) problemsByName(ctx context.Context) []string {
	var problems []string
	for i, a := range h.admins {
		st, err := a.Stats(ctx, h.conns[i])
		if err != nil {
			return []string{fmt.Sprintf("%s stats: %v", h.sides[i].name, err)}
		}
		if open := st.EventsOut + st.EventsIn - st.Synchronized; open > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d syncs not Synchronized (%d failing)", h.sides[i].name, open, st.Failing))
		}
	}
	a, err := h.sides[0].read(ctx, false)
	if err != nil {
		return append(problems, err.Error())
	}
	b, err := h.sides[1].read(ctx, false)
	if err != nil {
		return append(problems, err.Error())
	}
	pairs, more := pairByKey(a, b)
	_, diff := compareTwins(a, b, pairs, h.want)
	return slices.Concat(problems, more, diff)
}

// final stops the nodes, then checks everything against their databases
// and the trackers, and logs the figures.
func (h *crashHarness) final(converged bool, chaosTook, convergeTook time.Duration) {
	t, ctx := h.t, h.ctx
	var graceful atomic.Int32
	var wg sync.WaitGroup
	procs := h.procs()
	for _, n := range procs {
		wg.Go(func() {
			if n.stop(20 * time.Second) {
				graceful.Add(1)
			}
		})
	}
	wg.Wait()
	if converged && int(graceful.Load()) != len(procs) {
		t.Errorf("%d of %d node processes stopped cleanly on SIGINT", graceful.Load(), len(procs))
	}
	for _, n := range procs {
		if _, err := os.Stat(filepath.Join(n.dir, "tandem.db")); n.database != "" && err == nil {
			t.Errorf("%s made a SQLite file under --data though its database is PostgreSQL", n.name)
		}
		for _, u := range n.unexpectedExits() {
			t.Errorf("%s: %s", n.name, u)
		}
		if p := n.trouble(); p != "" {
			t.Errorf("%s's output:\n%s", n.name, p)
		}
	}
	var dbs [2]nodeDB
	for i, n := range h.nodes {
		var err error
		if dbs[i], err = readNodeDB(ctx, n.databaseSpec(), h.conns[i]); err != nil {
			t.Fatalf("%s's database: %v", n.name, err)
		}
		if dbs[i].integrity != nil {
			t.Errorf("%s: %v", n.name, dbs[i].integrity)
		}
		for _, s := range dbs[i].stuck {
			t.Errorf("%s: sync stuck without a reason: %s", n.name, s)
		}
		for _, s := range dbs[i].failed {
			t.Logf("%s: sync visibly failed: %s", n.name, s)
		}
		if dbs[i].pending != 0 {
			t.Errorf("%s: %d writes still pending (pending_writes) after convergence", n.name, dbs[i].pending)
		}
	}
	a, err := h.sides[0].read(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.sides[1].read(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	pairs, problems := pairByKey(a, b)
	fig, diff := compareTwins(a, b, pairs, h.want)
	problems = slices.Concat(problems, diff, compareTwinTables(dbs[0], dbs[1], pairs, a, b))
	for _, p := range problems[:min(len(problems), 60)] {
		t.Errorf("in the end: %s", p)
	}
	h.lastProblems = problems

	retries := [2]int{}
	adopted := [2]int{}
	for i, n := range h.nodes {
		for _, p := range h.procsOf(i, n) {
			r, _ := p.logLines("will retry")
			a, _ := p.logLines("adopting")
			retries[i] += r
			adopted[i] += a
		}
	}
	t.Logf("seed %d; %d tasks (%d made by the harness), %d comments and %d files per side checked (sha256 of each file)",
		h.seed, fig.tasks, len(h.crashIDs), fig.comments, fig.attachments)
	t.Logf("kills: Acme %d, Globex %d (%d while starting); starts: Acme %d, Globex %d; bulk exalate tries: %d",
		h.kills[0], h.kills[1], h.startupKills, h.nodes[0].starts, h.nodes[1].starts, h.bulkTries)
	t.Logf("edits during the kills: %v", h.edits)
	for i, n := range h.nodes {
		t.Logf("%s: %d events (%s), %d visibly failed, %d stuck; %d retried steps, %d adopted task creates in the log",
			n.name, dbs[i].total(), dbs[i].stageSummary(), len(dbs[i].failed), len(dbs[i].stuck), retries[i], adopted[i])
	}
	t.Logf("chaos phase %v, converged %v after the last kill (%s)", chaosTook.Round(time.Millisecond),
		convergeTook.Round(time.Millisecond), map[bool]string{true: "yes", false: "NO"}[converged])
}
