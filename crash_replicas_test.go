package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store"
	"github.com/tandem-sync/tandem/store/pgtest"
)

// The fail-over test's knobs. The defaults are the short run for CI (71
// to 97 s on a 2-core machine at a load average near 14, up to 317 s near
// 20, most of it the store's writer lock: RELIABILITY.md); a long run is
//
//	.ci/postgres go test -run TestReplicasFailOver -failover.kills=60 -failover.tasks=60 .
var (
	failoverKills    = flag.Int("failover.kills", 6, "SIGKILLs of an Acme replica in the fail-over test, every other one of the leader")
	failoverTasks    = flag.Int("failover.tasks", 8, "tasks (2 comments and a file each) the fail-over test bulk-syncs")
	failoverReplicas = flag.Int("failover.replicas", 3, "Acme's replicas in the fail-over test")
)

// failoverPollMax is Acme's --poll-max: how seldom, at most, the leader
// looks at a project where nothing changed, which bounds the time from a
// new leader to a change seen.
const failoverPollMax = "1s"

// TestReplicasFailOver runs Acme as replicas, `tandem serve` processes on
// one PostgreSQL database behind one URL (a round-robin load balancer in
// the test, which is every replica's --url), and Globex as one process;
// it bulk-syncs a project from Acme to Globex while both sides edit the
// twins (polling: no webhooks, whose replica tests are engine's
// TestHookHandshakeOnFollower and TestHookDeliveryOnFollower), and SIGKILLs an Acme replica at random moments, every
// other time the leader (the one whose /metrics says tandem_leader 1),
// restarting it once another replica leads. The crash test's invariants
// hold in the end: one twin each, the same comments and files on both
// sides, every sync Synchronized, nothing stuck. Each kill of the leader
// measures the fail-over: until another replica's tandem_leader is 1, and
// until a comment made on Acme at the kill is on Globex.
func TestReplicasFailOver(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nodes as processes and kills them; skipped with -short")
	}
	if !pgtest.Available() {
		t.Skip(pgtest.SkipMessage)
	}
	seed := *crashSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d: replay the schedule with -crash.seed=%d (timings still vary)", seed, seed)
	h, lb := newFailoverHarness(t, seed)
	h.setup()
	began := time.Now()
	f := &failover{h: h, lb: lb, rng: rand.New(rand.NewPCG(seed, 5))}
	h.chaos(f.killer)
	chaosTook := time.Since(began)
	f.wait()
	convergeBegan := time.Now()
	converged := h.converge(*crashConverge)
	h.final(converged, chaosTook, time.Since(convergeBegan))
	f.report()
	if t.Failed() {
		f.summaryHistory(h.lastProblems)
	}
}

// newFailoverHarness is the crash harness with Acme as replicas behind a
// load balancer, on a PostgreSQL database of their own.
func newFailoverHarness(t *testing.T, seed uint64) (*crashHarness, *balancer) {
	h := &crashHarness{t: t, ctx: t.Context(), seed: seed, want: newExpectations(), edits: map[string]int{}, tasks: *failoverTasks}
	h.dir = t.TempDir()
	if *crashDir != "" {
		h.dir = *crashDir
		if err := os.MkdirAll(h.dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("data dirs and logs under %s", h.dir)
	var bases [2]string
	for i, name := range []string{"Acme", "Globex"} {
		sb, err := sandbox.New(sandbox.WithWorkspace(name), sandbox.WithToken(name+"-pat"), sandbox.WithRandSeed(int64(seed>>1)+int64(i)))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sb)
		t.Cleanup(srv.Close)
		bases[i] = srv.URL + "/api/1.0"
		client, err := asana.New(asana.Config{BaseURL: bases[i], Token: name + "-pat", RequestsPerMinute: -1})
		if err != nil {
			t.Fatal(err)
		}
		h.sides[i] = side{name: name, client: client, tracker: asana.NewTracker(client, ""), skip: map[string]bool{}}
	}
	lb := &balancer{}
	srv := httptest.NewServer(lb)
	t.Cleanup(srv.Close)
	database := pgNodeDatabase(t)
	for r := range *failoverReplicas {
		addr := freeLoopbackAddr(t)
		n := newServeProc(t, fmt.Sprintf("Acme-%d", r+1), "Acme", h.dir, addr, srv.URL, database, bases[0], "Acme-pat",
			"--webhooks=false", "--poll-max", failoverPollMax)
		u, err := url.Parse(n.direct)
		if err != nil {
			t.Fatal(err)
		}
		lb.backends = append(lb.backends, u)
		h.replicas = append(h.replicas, n)
	}
	h.nodes[0] = h.replicas[0]
	addr := freeLoopbackAddr(t)
	h.nodes[1] = newServeProc(t, "Globex", "Globex", h.dir, addr, "http://"+addr, nodeDatabase(t), bases[1], "Globex-pat",
		"--webhooks=false")
	for i, n := range h.nodes {
		var err error
		if h.admins[i], err = remote.New(n.url, n.adminToken); err != nil {
			t.Fatal(err)
		}
	}
	return h, lb
}

// balancer is a round-robin load balancer: each request goes to the next
// replica, or to the one after where a replica refuses the connection
// (it is down: nothing was sent). A request a replica dies under is
// answered 502, as a load balancer would.
type balancer struct {
	backends []*url.URL
	next     atomic.Uint64
	refused  atomic.Int64 // connections refused, tried on the next replica
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	start := b.next.Add(1)
	for i := range uint64(len(b.backends)) {
		target := b.backends[(start+i)%uint64(len(b.backends))]
		refused := false
		proxy := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Host = pr.In.Host
			},
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
				var op *net.OpError
				if errors.As(err, &op) && op.Op == "dial" {
					refused = true
					return
				}
				http.Error(w, "replica: "+err.Error(), http.StatusBadGateway)
			},
		}
		out := r.Clone(r.Context())
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
		proxy.ServeHTTP(w, out)
		if !refused {
			return
		}
		b.refused.Add(1)
	}
	http.Error(w, "no replica answers", http.StatusBadGateway)
}

// failover is the fail-over test's killer and what it measured.
type failover struct {
	h   *crashHarness
	lb  *balancer
	rng *rand.Rand

	kills, leaderKills int
	leadTook           []time.Duration // leader killed → another replica's tandem_leader 1
	mu                 sync.Mutex
	syncTook           []time.Duration // leader killed → a comment made then on Globex
	noTwin             int             // leader kills with no synced task yet to comment on
	measuring          sync.WaitGroup
}

// leaderGauge reads tandem_leader from a replica's /metrics.
func leaderGauge(ctx context.Context, base string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "tandem_leader "); ok {
			switch strings.TrimSpace(v) {
			case "1":
				return 1, nil
			case "0":
				return 0, nil
			}
			return 0, fmt.Errorf("tandem_leader %q", v)
		}
	}
	return 0, fmt.Errorf("%s/metrics has no tandem_leader (%v)", base, sc.Err())
}

// leaders are the running replicas whose tandem_leader is 1, but skip.
func (f *failover) leaders(ctx context.Context, skip *procNode) []*procNode {
	var out []*procNode
	for _, n := range f.h.replicas {
		if n == skip || !n.running() {
			continue
		}
		if v, err := leaderGauge(ctx, n.direct); err == nil && v == 1 {
			out = append(out, n)
		}
	}
	return out
}

// waitLeader polls until a running replica other than skip leads, and
// returns it; it fails the test if none does within a minute or if two
// say they lead.
func (f *failover) waitLeader(skip *procNode) (*procNode, bool) {
	ctx, cancel := context.WithTimeout(f.h.ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		ls := f.leaders(ctx, skip)
		if len(ls) > 1 {
			names := []string{}
			for _, n := range ls {
				names = append(names, n.name)
			}
			f.h.t.Errorf("two replicas say they lead at once: %v", names)
		}
		if len(ls) > 0 {
			return ls[0], true
		}
		select {
		case <-ctx.Done():
			f.h.t.Errorf("no replica led within a minute (the killed one aside: %s)", skip.name)
			return nil, false
		case <-tick.C:
		}
	}
}

// killer SIGKILLs an Acme replica at a random moment, every other time
// the leader, and restarts it (after another replica took the lead, when
// it led), until the kills are done.
func (f *failover) killer() {
	h := f.h
	for f.kills < *failoverKills {
		if !pause(h.ctx, time.Duration(200+f.rng.IntN(1000))*time.Millisecond) {
			return
		}
		leader, ok := f.waitLeader(nil)
		if !ok {
			return
		}
		victim := h.replicas[f.rng.IntN(len(h.replicas))]
		if f.kills%2 == 0 {
			victim = leader
		}
		killed := time.Now()
		if !victim.kill() {
			h.t.Errorf("%s was not running when the harness came to kill it", victim.name)
		}
		f.kills++
		h.kills[0]++
		if victim == leader {
			f.leaderKills++
			f.measureSync(killed)
			skip := victim
			if len(h.replicas) == 1 {
				// No other replica: the fail-over is the restart's.
				if err := victim.start(); err != nil {
					h.t.Fatal(err)
				}
				skip = nil
			}
			next, ok := f.waitLeader(skip)
			if !ok {
				return
			}
			took := time.Since(killed)
			f.leadTook = append(f.leadTook, took)
			h.t.Logf("kill %d: leader %s SIGKILLed; %s leads %v later", f.kills, victim.name, next.name, took.Round(time.Millisecond))
		} else {
			h.t.Logf("kill %d: %s SIGKILLed (%s leads)", f.kills, victim.name, leader.name)
		}
		if !victim.running() {
			if err := victim.start(); err != nil {
				h.t.Fatal(err)
			}
		}
		if err := victim.waitHealthy(h.ctx, time.Minute); err != nil {
			h.t.Fatal(err)
		}
	}
}

// measureSync comments on a synced Acme task now and, in the background,
// waits for the comment on its Globex twin, recording how long after
// killed it arrived.
func (f *failover) measureSync(killed time.Time) {
	h := f.h
	tasks, err := h.sides[1].client.ProjectTasks(h.ctx, h.sides[1].project, asana.TaskQuery{})
	if err != nil {
		h.t.Errorf("listing Globex's tasks: %v", err)
		return
	}
	twins := map[string]string{}
	for _, task := range tasks {
		if k := taskKey(task.Name); strings.HasPrefix(k, crashPrefix) {
			twins[k] = task.GID
		}
	}
	var keys []string
	for k := range twins {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		f.noTwin++
		return
	}
	slices.Sort(keys)
	key := keys[f.rng.IntN(len(keys))]
	var i int
	if _, err := fmt.Sscanf(strings.TrimPrefix(key, crashPrefix), "%d", &i); err != nil || i >= len(h.crashIDs) {
		h.t.Errorf("task key %q", key)
		return
	}
	text := fmt.Sprintf("%s fail-over mark %d", key, f.leaderKills)
	h.addComment(0, key, h.crashIDs[i], text)
	f.measuring.Go(func() {
		ctx, cancel := context.WithTimeout(h.ctx, 2*time.Minute)
		defer cancel()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if e, err := h.sides[1].tracker.Get(ctx, twins[key]); err == nil {
				for _, c := range e.Comments {
					if normalizeComment(c.Body) == text {
						f.mu.Lock()
						f.syncTook = append(f.syncTook, time.Since(killed))
						f.mu.Unlock()
						return
					}
				}
			}
			select {
			case <-ctx.Done():
				h.t.Errorf("the comment %q made on Acme as its leader was killed never reached Globex", text)
				return
			case <-tick.C:
			}
		}
	})
}

// wait waits for the measurements under way.
func (f *failover) wait() { f.measuring.Wait() }

// report logs the fail-over figures.
func (f *failover) report() {
	h := f.h
	stats := func(ds []time.Duration) string {
		if len(ds) == 0 {
			return "none"
		}
		s := slices.Clone(ds)
		slices.Sort(s)
		parts := []string{}
		for _, d := range s {
			parts = append(parts, d.Round(time.Millisecond).String())
		}
		return fmt.Sprintf("median %v, max %v (%s)", s[len(s)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond), strings.Join(parts, " "))
	}
	starts := 0
	for _, n := range h.replicas {
		starts += n.starts
	}
	h.t.Logf("Acme: %d replicas, %d kills (%d of the leader), %d starts; the load balancer retried %d refused connections on another replica",
		len(h.replicas), f.kills, f.leaderKills, starts, f.lb.refused.Load())
	h.t.Logf("fail-over, leader SIGKILLed → another replica's tandem_leader 1: %s", stats(f.leadTook))
	h.t.Logf("fail-over, leader SIGKILLed → a comment made on Acme then is on Globex (--poll 100ms, --poll-max %s): %s; %d kills before any twin",
		failoverPollMax, stats(f.syncTook), f.noTwin)
}

// summaryHistory logs, for the tasks whose summary differs in the end,
// every sync of each node that carried one of their summaries: which
// way, its stage, when it was made and last moved, and the summary and
// fields it carried; for a lost rename, this says where it was lost.
func (f *failover) summaryHistory(problems []string) {
	h := f.h
	keys := map[string]bool{}
	for _, p := range problems {
		if k, _, ok := strings.Cut(p, ": summary "); ok {
			keys[k] = true
		}
	}
	if len(keys) == 0 {
		return
	}
	for i, n := range h.nodes {
		st, err := store.Open(h.ctx, n.databaseSpec())
		if err != nil {
			h.t.Logf("%s's database: %v", h.sides[i].name, err)
			continue
		}
		err = eachRow(h.ctx, st.DB(), func(r *sql.Rows) error {
			var id, dir, stage, created, updated, entity string
			var payload []byte
			if err := r.Scan(&id, &dir, &stage, &created, &updated, &entity, &payload); err != nil {
				return err
			}
			var rep engine.Replica
			if json.Unmarshal(payload, &rep) != nil || !keys[taskKey(rep.Source.Summary)] {
				return nil
			}
			h.t.Logf("history %s: %s %s %s made %s moved %s, summary %q fields %v", h.sides[i].name, dir, id, stage,
				created, updated, rep.Source.Summary, rep.Fields)
			return nil
		}, `SELECT id, direction, stage, created_at, updated_at, entity_id, payload FROM sync_events WHERE connection_id = ? ORDER BY created_at`, h.conns[i])
		if err != nil {
			h.t.Logf("%s's events: %v", h.sides[i].name, err)
		}
		st.Close()
	}
}
