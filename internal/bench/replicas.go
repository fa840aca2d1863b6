package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Replicas is section 6: section 3's unthrottled Bulk Exalate with the
// sending node (Acme) run as 1, 2 and 3 `tandem serve` replicas on one
// PostgreSQL database, every replica reachable at the node's one URL
// through a round-robin proxy; the receiving node (Globex) is one process.
// Then, with 3 replicas, the leader is killed and the time until another
// replica leads is measured.
type Replicas struct {
	Tasks int `json:"tasks"`
	// Runs are the runs by replica count (1, 2, 3).
	Runs []ReplicaRun `json:"runs"`
	// Ratio is the 3-replica run's tasks/s over the 1-replica run's.
	Ratio float64 `json:"ratio_3_to_1"`
	// FailoverSeconds is from SIGKILL of the leading replica to another
	// replica's tandem_leader 1 on /metrics; nil if not measured (Reason).
	FailoverSeconds *float64 `json:"failover_seconds"`
	FailoverReason  string   `json:"failover_reason,omitempty"`
	// Note says what the figures can and can't show on this machine.
	Note string `json:"note"`
}

// ReplicaRun is one run of section 6.
type ReplicaRun struct {
	Replicas     int     `json:"replicas"`
	Synchronized int     `json:"synchronized"`
	WallSeconds  float64 `json:"wall_seconds"`
	TasksPerSec  float64 `json:"tasks_per_second"`
	// CPUMSPerTask is the CPU of every node process (all Acme replicas
	// and Globex) per task.
	CPUMSPerTask float64 `json:"cpu_ms_per_task"`
	// Served is how many requests the proxy handed each replica.
	Served []int64 `json:"requests_per_replica,omitempty"`
	// ProxyFailed is how many of them the proxy couldn't complete (502).
	ProxyFailed int64 `json:"proxy_failed,omitempty"`
}

// replicaCounts are the runs of section 6.
var replicaCounts = []int{1, 2, 3}

// runReplicas is section 6; it needs Config.Database and Subprocess.
func runReplicas(ctx context.Context, cfg Config, dir string) (Replicas, error) {
	r := Replicas{Tasks: cfg.EngineTasks,
		Note: fmt.Sprintf("on %d CPUs shared by every process of the run (sandboxes, proxy, PostgreSQL, the nodes), replicas can add no CPU: the ratio measures contention, not scaling", machine().CPUs)}
	for _, k := range replicaCounts {
		spec := unthrottled()
		spec.replicas = k
		section := fmt.Sprintf("replicas (%d)", k)
		p, connID, _, err := setUp(ctx, cfg, startProcPair, section, filepath.Join(dir, strconv.Itoa(k)), spec, cfg.EngineTasks, true)
		if err != nil {
			return Replicas{}, err
		}
		run, err := replicaRun(ctx, cfg, p.(*procPair), connID, k)
		if err == nil && k == replicaCounts[len(replicaCounts)-1] {
			cfg.progress("%s: killing the leading replica", section)
			var d time.Duration
			d, err = failover(ctx, p.(*procPair).acme)
			if errors.Is(err, errNoFailover) {
				r.FailoverReason, err = err.Error(), nil
			} else if err == nil {
				s := d.Seconds()
				r.FailoverSeconds = &s
			}
		}
		p.close()
		if err != nil {
			return Replicas{}, err
		}
		r.Runs = append(r.Runs, run)
	}
	if first := r.Runs[0].TasksPerSec; first > 0 {
		r.Ratio = r.Runs[len(r.Runs)-1].TasksPerSec / first
	}
	return r, nil
}

func replicaRun(ctx context.Context, cfg Config, p *procPair, connID string, k int) (ReplicaRun, error) {
	cfg.progress("replicas (%d): Bulk Exalate of %d tasks", k, cfg.EngineTasks)
	before, err := p.nodesCPU()
	if err != nil {
		return ReplicaRun{}, err
	}
	var served0 []int64
	var failed0 int64
	if p.acme.lb != nil {
		served0, failed0 = p.acme.lb.served()
	}
	started, done, wall, err := exalate(ctx, p, connID)
	if err != nil {
		return ReplicaRun{}, err
	}
	after, err := p.nodesCPU()
	if err != nil {
		return ReplicaRun{}, err
	}
	run := ReplicaRun{Replicas: k, Synchronized: min(done, started.Started), WallSeconds: wall.Seconds()}
	var cpu time.Duration
	for name, d := range after {
		cpu += d - before[name]
	}
	if run.Synchronized > 0 {
		run.TasksPerSec = float64(run.Synchronized) / wall.Seconds()
		run.CPUMSPerTask = ms(cpu) / float64(run.Synchronized)
	}
	if p.acme.lb != nil {
		served, failed := p.acme.lb.served()
		for i, n := range served {
			run.Served = append(run.Served, n-served0[i])
		}
		run.ProxyFailed = failed - failed0
	}
	return run, nil
}

// errNoFailover says the fail-over couldn't be timed, for the report.
var errNoFailover = errors.New("no fail-over timed")

// failoverWithin is how long the harness waits for another leader.
const failoverWithin = time.Minute

// failover kills n's leading replica (SIGKILL: no chance to hand over)
// and times until another replica's /metrics says tandem_leader 1.
func failover(ctx context.Context, n *procNode) (time.Duration, error) {
	leader := -1
	for i, u := range n.replicaURLs {
		v, err := leaderMetric(ctx, u)
		if err != nil {
			return 0, n.replicas[i].failed(err)
		}
		if v == 1 {
			leader = i
		}
	}
	if leader < 0 {
		return 0, fmt.Errorf("%w: no replica of %s says tandem_leader 1", errNoFailover, n.Name)
	}
	c := n.replicas[leader]
	if err := c.cmd.Process.Kill(); err != nil {
		return 0, c.failed(fmt.Errorf("killing %s: %w", c.name, err))
	}
	killed := time.Now()
	<-c.exited
	if n.lb != nil {
		n.lb.remove(n.replicaURLs[leader])
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for time.Since(killed) < failoverWithin {
		for i, u := range n.replicaURLs {
			if i == leader {
				continue
			}
			if v, err := leaderMetric(ctx, u); err == nil && v == 1 {
				return time.Since(killed), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
	}
	return 0, fmt.Errorf("%w: no other replica of %s led within %v of the leader's kill", errNoFailover, n.Name, failoverWithin)
}

// leaderMetric reads tandem_leader from a replica's own /metrics.
func leaderMetric(ctx context.Context, base string) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s/metrics: %w", base, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("%s/metrics: %w", base, err)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, "tandem_leader "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("%s/metrics: %q: %w", base, strings.TrimSpace(line), err)
			}
			return int(f), nil
		}
	}
	return 0, fmt.Errorf("%s/metrics: no tandem_leader", base)
}

// roundRobin is a reverse proxy on loopback handing each request to the
// next of its backends, as a load balancer in front of replicas does.
type roundRobin struct {
	url string
	srv *http.Server

	mu       sync.Mutex
	backends []*backend
	next     atomic.Uint64
}

type backend struct {
	url   string
	proxy *httputil.ReverseProxy
	count atomic.Int64
	// failed counts requests the proxy couldn't complete (the replica
	// unreachable, or the caller gone: a node stopping at a section's end
	// cancels what it has in flight); they are answered 502, not logged.
	failed atomic.Int64
}

func startRoundRobin() (*roundRobin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rr := &roundRobin{url: "http://" + ln.Addr().String()}
	rr.srv = &http.Server{Handler: rr, ReadHeaderTimeout: 10 * time.Second}
	go rr.srv.Serve(ln)
	return rr, nil
}

// add puts a replica (its own base URL) in the rotation.
func (rr *roundRobin) add(base string) {
	target, _ := url.Parse(base) // a child's "Listening on" line
	b := &backend{url: base}
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		// Stage events stream: flush as they come.
		FlushInterval: -1,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			b.failed.Add(1)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	rr.mu.Lock()
	rr.backends = append(rr.backends, b)
	rr.mu.Unlock()
}

// remove takes a replica out of the rotation, as a load balancer's
// health check does for a dead one.
func (rr *roundRobin) remove(base string) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	for i, b := range rr.backends {
		if b.url == base {
			rr.backends = append(rr.backends[:i], rr.backends[i+1:]...)
			return
		}
	}
}

// served is the requests each backend has been handed, in order added,
// and how many of them all failed.
func (rr *roundRobin) served() ([]int64, int64) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	out := make([]int64, len(rr.backends))
	var failed int64
	for i, b := range rr.backends {
		out[i] = b.count.Load()
		failed += b.failed.Load()
	}
	return out, failed
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rr.mu.Lock()
	if len(rr.backends) == 0 {
		rr.mu.Unlock()
		http.Error(w, "no replica", http.StatusBadGateway)
		return
	}
	b := rr.backends[int(rr.next.Add(1)-1)%len(rr.backends)]
	rr.mu.Unlock()
	b.count.Add(1)
	b.proxy.ServeHTTP(w, r)
}

func (rr *roundRobin) close() { rr.srv.Close() }
