package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/api"
)

// Modes of a run, as the report names them.
const (
	ModeInProcess  = "in-process"
	ModeSubprocess = "subprocess"
)

// Process is one child process's use of the machine over a section.
type Process struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// CPUMS is the CPU time it used during the measured sync; PeakRSSMB
	// its VmHWM (peak resident set over its whole life).
	CPUMS     float64 `json:"cpu_ms"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// notMeasuredProc is what a subprocess run can't measure as in process.
func notMeasuredProc(cfg Config) map[string]string {
	m := map[string]string{
		"scale.heap_mb": "the node runs in another process; its Go heap isn't visible from outside",
	}
	if cfg.runs(1) || cfg.runs(2) {
		m["bulk_sync.*.retries"] = "counted at the proxy as the 429 and 5xx answers the client retries"
	}
	if cfg.Database != "" && cfg.runs(3) {
		m["engine_overhead.sqlite_bytes_per_1000_twins"] = "the nodes' databases are on PostgreSQL (--database): no SQLite file grows"
	}
	return m
}

func (p *procPair) names() (string, string) { return p.acme.Name, p.globex.Name }

func (p *procPair) limitedSeeding() string { return "under the limit and latency" }

// seed runs through a client straight on the source's sandbox (not
// through the counter, so seeding and edits don't show in the node's
// counts), paced by the nodes' budget. A sandbox's limit is set when it
// starts, so the seeding runs under it; the wait after it lets the
// sandbox's bucket fill again before the measured sync.
func (p *procPair) seed(ctx context.Context, count int, full bool) error {
	var err error
	if p.seeder, err = p.acme.seeder(p.spec.rpm); err != nil {
		return err
	}
	project, err := projectGID(ctx, p.seeder, p.acme.Name, benchProject)
	if err != nil {
		return err
	}
	if err := seedProject(ctx, p.seeder, p.acme.Name, project, count, full); err != nil {
		return err
	}
	return refill(ctx, p.spec.limit, p.seeder.Stats().Total())
}

// projectGID finds the named project in the sandbox behind c, of the
// node called name.
func projectGID(ctx context.Context, c *asana.Client, name, project string) (string, error) {
	wss, err := c.Workspaces(ctx)
	if err != nil {
		return "", fmt.Errorf("listing %s's workspaces: %w", name, err)
	}
	for _, ws := range wss {
		ps, err := c.Projects(ctx, ws.GID)
		if err != nil {
			return "", fmt.Errorf("listing %s's projects: %w", name, err)
		}
		for _, p := range ps {
			if p.Name == project {
				return p.GID, nil
			}
		}
	}
	return "", fmt.Errorf("no project %q in %s's sandbox", project, name)
}

// refill waits for a sandbox's token bucket (a tenth of the per-minute
// limit, refilled at limit/60 a second) to recover the used requests.
func refill(ctx context.Context, limit int, used int64) error {
	if limit <= 0 || used <= 0 {
		return nil
	}
	burst := max(1, limit/10)
	d := time.Duration(float64(min(used, int64(burst))) / (float64(limit) / 60) * float64(time.Second))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// connect goes through the source's admin API.
func (p *procPair) connect(ctx context.Context, mode engine.Mode) (string, error) {
	return p.connectIn(ctx, benchProject, mode)
}

func (p *procPair) connectProject(ctx context.Context, project string) (string, error) {
	return p.connectIn(ctx, project, "")
}

// addTask creates the task through a client straight on the source's
// sandbox, not through the counter.
func (p *procPair) addTask(ctx context.Context, project, name string) (string, error) {
	if p.seeder == nil {
		var err error
		if p.seeder, err = p.acme.seeder(p.spec.rpm); err != nil {
			return "", err
		}
	}
	gid, err := projectGID(ctx, p.seeder, p.acme.Name, project)
	if err != nil {
		return "", err
	}
	t, err := p.seeder.CreateTask(ctx, asana.NewTask{Project: gid, Name: name})
	if err != nil {
		return "", fmt.Errorf("creating %q in %s's %s: %w", name, p.acme.Name, project, err)
	}
	return t.GID, nil
}

func (p *procPair) connectIn(ctx context.Context, project string, mode engine.Mode) (string, error) {
	c, err := p.acme.admin.Connect(ctx, api.ConnectRequest{To: p.globex.url, DestToken: p.globex.adminToken,
		DestProject: project, Project: project, Mode: mode})
	if err != nil {
		return "", fmt.Errorf("connecting %s to %s: %w", p.acme.Name, p.globex.Name, err)
	}
	return c.ID, nil
}

// exalateAll is a Bulk Exalate through the source's admin API; ctx alone
// bounds it (the node answers once it has read and prepared every task).
func (p *procPair) exalateAll(ctx context.Context, connID string) (engine.BulkStarted, error) {
	evs, err := p.acme.admin.ExalateAll(ctx, connID)
	if err != nil {
		return engine.BulkStarted{}, p.acme.node.failed(fmt.Errorf("bulk exalate on %s: %w", p.acme.Name, err))
	}
	return evs, nil
}

// waitSynced asks the source's connection statistics four times a
// second, and fails if a child exits or the sync stalls.
func (p *procPair) waitSynced(ctx context.Context, connID string, want int) (int, error) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	stall := stalled(want)
	for {
		st, err := p.stats(ctx, connID)
		if err != nil {
			return 0, fmt.Errorf("%s's statistics of %s: %w", p.acme.Name, connID, err)
		}
		done := st.Synchronized
		if done >= want {
			return done, nil
		}
		if err := stall(done); err != nil {
			return done, err
		}
		if err := p.alive(); err != nil {
			return done, err
		}
		select {
		case <-ctx.Done():
			return done, fmt.Errorf("%d of %d tasks synchronized: %w", done, want, ctx.Err())
		case <-tick.C:
		}
	}
}

// unfinished is from the source's connection statistics.
func (p *procPair) unfinished(ctx context.Context, connID string) (int, error) {
	st, err := p.stats(ctx, connID)
	if err != nil {
		return 0, fmt.Errorf("%s's statistics of %s: %w", p.acme.Name, connID, err)
	}
	return st.EventsOut + st.EventsIn - st.Synchronized, nil
}

// apiUse is the counters' figures: a child's client can't report its
// own, and the 429s the counter saw are the ones the sandbox refused.
func (p *procPair) apiUse() apiUse {
	var u apiUse
	for i, n := range p.nodes {
		if n.counter != nil {
			u.stats[i], u.requests[i] = n.counter.snapshot()
			u.rejected[i] = u.stats[i].RateLimited
		}
	}
	return u
}

func (p *procPair) rename(ctx context.Context, gid, name string) error {
	_, err := p.seeder.UpdateTask(ctx, gid, asana.TaskUpdate{Name: &name})
	return err
}

// subscribe streams the source's admin API events; it first fails if a
// child exited (while the nodes settled, say).
func (p *procPair) subscribe(ctx context.Context) (<-chan engine.StageEvent, func(), error) {
	if err := p.alive(); err != nil {
		return nil, nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	events, err := p.acme.admin.Subscribe(sctx)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return events, cancel, nil
}

// connections and stats go through the source's admin API, HTTP
// included.
func (p *procPair) connections(ctx context.Context) ([]engine.Connection, error) {
	return p.acme.admin.Connections(ctx)
}

func (p *procPair) stats(ctx context.Context, connID string) (engine.ConnectionStats, error) {
	return p.acme.admin.Stats(ctx, connID)
}

// hooksAlive reads each node's tandem_webhooks_alive on /metrics.
func (p *procPair) hooksAlive(ctx context.Context) (int, error) {
	alive := 0
	for _, n := range p.nodes {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.url+"/metrics", nil)
		if err != nil {
			return 0, err
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, fmt.Errorf("%s's /metrics: %w", n.Name, err)
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if err != nil {
			return 0, fmt.Errorf("%s's /metrics: %w", n.Name, err)
		}
		for _, line := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, "tandem_webhooks_alive "); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					return 0, fmt.Errorf("%s's /metrics: %q: %w", n.Name, line, err)
				}
				alive += int(f)
			}
		}
	}
	return alive, nil
}

// dataDirs leaves out a node on PostgreSQL: it has no SQLite file to size.
func (p *procPair) dataDirs() map[string]string {
	dirs := map[string]string{}
	for _, n := range p.nodes {
		if n.db != "" {
			continue
		}
		dirs[n.Name] = n.dataDir
	}
	return dirs
}

// measure counts the two node processes' CPU (from /proc/<pid>/stat);
// peak RSS is the larger VmHWM.
func (p *procPair) measure(Config) (func(*Overhead) (time.Duration, error), error) {
	before, err := p.nodesCPU()
	if err != nil {
		return nil, err
	}
	return func(o *Overhead) (time.Duration, error) {
		after, err := p.nodesCPU()
		if err != nil {
			return 0, err
		}
		o.Counted = p.counted("CPU summed over, peak RSS the larger of")
		var cpu time.Duration
		for _, n := range p.nodes {
			for _, c := range n.replicas {
				d := after[c.name] - before[c.name]
				cpu += d
				peak, err := procMemMB(c.pid(), "VmHWM")
				if err != nil {
					return 0, c.failed(err)
				}
				o.PeakRSSMB = max(o.PeakRSSMB, peak)
				o.Processes = append(o.Processes, Process{Name: n.Name + " node", PID: c.pid(), CPUMS: ms(d), PeakRSSMB: peak})
			}
		}
		return cpu, nil
	}, nil
}

// nodesCPU is the CPU time the pair's node processes (every replica) have
// used, by child name.
func (p *procPair) nodesCPU() (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, n := range p.nodes {
		for _, c := range n.replicas {
			d, err := procCPU(c.pid())
			if err != nil {
				return nil, c.failed(err)
			}
			out[c.name] = d
		}
	}
	return out, nil
}

// counted says which processes a section's CPU and memory come from.
func (p *procPair) counted(what string) string {
	var nodes, sandboxes []string
	for _, n := range p.nodes {
		nodes = append(nodes, fmt.Sprintf("%s pid %d", n.Name, n.node.pid()))
		sandboxes = append(sandboxes, fmt.Sprintf("%d", n.sandbox.pid()))
	}
	return fmt.Sprintf("%s: the `tandem serve` processes (%s); not the sandboxes (pids %s) nor the harness",
		what, strings.Join(nodes, ", "), strings.Join(sandboxes, ", "))
}

// memory is Acme's node process's alone, this section only.
func (p *procPair) memory(s *Scale) error {
	pid := p.acme.node.pid()
	var err error
	if s.PeakRSSMB, err = procMemMB(pid, "VmHWM"); err == nil {
		s.RSSMB, err = procMemMB(pid, "VmRSS")
	}
	if err != nil {
		return p.acme.node.failed(err)
	}
	s.Counted = fmt.Sprintf("RSS: Acme's `tandem serve` process (pid %d) alone, this section only; "+
		"loads timed through its admin API, HTTP included", pid)
	return nil
}
