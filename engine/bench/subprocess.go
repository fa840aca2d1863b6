package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/engine"
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

// runSubprocesses runs the selected sections on child processes, in the
// same order as in process.
func runSubprocesses(ctx context.Context, cfg Config, dir string, r *Report) error {
	r.NotMeasured = map[string]string{
		"scale.heap_mb": "the node runs in another process; its Go heap isn't visible from outside",
	}
	if cfg.runs(3) {
		eng, err := runOverheadProc(ctx, cfg, filepath.Join(dir, "engine"))
		if err != nil {
			return fmt.Errorf("bench: section 3 (engine overhead): %w", err)
		}
		r.Engine = &eng
	}
	if cfg.runs(4) {
		sc, err := runScaleProc(ctx, cfg, filepath.Join(dir, "scale"))
		if err != nil {
			return fmt.Errorf("bench: section 4 (scale): %w", err)
		}
		r.Scale = &sc
	}
	if cfg.runs(1) || cfg.runs(2) {
		r.NotMeasured["bulk_sync.*.retries"] = "counted at the proxy as the 429 and 5xx answers the client retries"
		if err := runBulkAndLatencyProc(ctx, cfg, filepath.Join(dir, "bulk"), r); err != nil {
			return err
		}
	}
	return nil
}

// nodesCPU is the CPU time the pair's node processes have used.
func nodesCPU(p *procPair) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, n := range p.nodes {
		d, err := procCPU(n.node.pid())
		if err != nil {
			return nil, n.node.failed(err)
		}
		out[n.Name] = d
	}
	return out, nil
}

// counted says which processes a section's CPU and memory come from.
func counted(p *procPair, what string) string {
	var nodes, sandboxes []string
	for _, n := range p.nodes {
		nodes = append(nodes, fmt.Sprintf("%s pid %d", n.Name, n.node.pid()))
		sandboxes = append(sandboxes, fmt.Sprintf("%d", n.sandbox.pid()))
	}
	return fmt.Sprintf("%s: the `tandem serve` processes (%s); not the sandboxes (pids %s) nor the harness",
		what, strings.Join(nodes, ", "), strings.Join(sandboxes, ", "))
}

// runOverheadProc is section 3 on child processes: CPU is the two node
// processes' (from /proc/<pid>/stat), peak RSS the larger VmHWM.
func runOverheadProc(ctx context.Context, cfg Config, dir string) (Overhead, error) {
	cfg.progress("engine overhead: starting two sandboxes and two nodes as child processes (no limit, no latency)")
	p, err := startProcPair(ctx, cfg.Subprocess, dir, procSpec{rpm: -1, poll: engine.DefaultPoll})
	if err != nil {
		return Overhead{}, err
	}
	defer p.close()
	acme, globex := p.acme, p.globex
	cfg.progress("engine overhead: seeding %d tasks on %s", cfg.EngineTasks, acme.Name)
	seeder, err := acme.seeder(-1)
	if err != nil {
		return Overhead{}, err
	}
	if err := seedProc(ctx, seeder, acme, cfg.EngineTasks, true); err != nil {
		return Overhead{}, err
	}
	conn, err := connectProc(ctx, acme, globex)
	if err != nil {
		return Overhead{}, err
	}
	sizes := map[string]int64{}
	for _, n := range p.nodes {
		if sizes[n.Name], err = sqliteBytes(n.dataDir); err != nil {
			return Overhead{}, err
		}
	}

	cfg.progress("engine overhead: Bulk Exalate of %d tasks", cfg.EngineTasks)
	cpuBefore, err := nodesCPU(p)
	if err != nil {
		return Overhead{}, err
	}
	began := time.Now()
	started, err := acme.exalateAll(ctx, conn.ID)
	if err == nil {
		var done int
		done, err = waitSyncedProc(ctx, p, acme, conn.ID, len(started))
		started = started[:min(done, len(started))]
	}
	wall := time.Since(began)
	if err != nil {
		return Overhead{}, err
	}
	cpuAfter, err := nodesCPU(p)
	if err != nil {
		return Overhead{}, err
	}
	o := Overhead{Tasks: cfg.EngineTasks, Synchronized: len(started), WallSeconds: wall.Seconds(),
		SQLiteBytesPer1000Twins: map[string]int64{},
		Counted:                 counted(p, "CPU summed over, peak RSS the larger of")}
	var cpu time.Duration
	for _, n := range p.nodes {
		d := cpuAfter[n.Name] - cpuBefore[n.Name]
		cpu += d
		peak, err := procMemMB(n.node.pid(), "VmHWM")
		if err != nil {
			return Overhead{}, n.node.failed(err)
		}
		o.PeakRSSMB = max(o.PeakRSSMB, peak)
		o.Processes = append(o.Processes, Process{Name: n.Name + " node", PID: n.node.pid(), CPUMS: ms(d), PeakRSSMB: peak})
	}
	if n := len(started); n > 0 {
		o.TasksPerSec = float64(n) / wall.Seconds()
		o.CPUMSPerTask = ms(cpu) / float64(n)
		for _, node := range p.nodes {
			after, err := sqliteBytes(node.dataDir)
			if err != nil {
				return Overhead{}, err
			}
			o.SQLiteBytesPer1000Twins[node.Name] = (after - sizes[node.Name]) * 1000 / int64(n)
		}
	}
	return o, nil
}

// runScaleProc is section 4 on child processes: memory is Acme's node
// process's, the loads are timed through its admin API (HTTP included).
func runScaleProc(ctx context.Context, cfg Config, dir string) (Scale, error) {
	s := Scale{Twins: cfg.ScaleTwins, Calls: scaleCalls}
	cfg.progress("scale: starting two sandboxes and two nodes as child processes (no limit, no latency)")
	p, err := startProcPair(ctx, cfg.Subprocess, dir, procSpec{rpm: -1, poll: engine.DefaultPoll})
	if err != nil {
		return s, err
	}
	defer p.close()
	acme, globex := p.acme, p.globex
	cfg.progress("scale: seeding %d bare tasks on %s", cfg.ScaleTwins, acme.Name)
	began := time.Now()
	seeder, err := acme.seeder(-1)
	if err != nil {
		return s, err
	}
	if err := seedProc(ctx, seeder, acme, cfg.ScaleTwins, false); err != nil {
		return s, err
	}
	s.SeedSeconds = time.Since(began).Seconds()
	conn, err := connectProc(ctx, acme, globex)
	if err != nil {
		return s, err
	}
	cfg.progress("scale: Bulk Exalate of %d tasks (seeded in %.1f s)", cfg.ScaleTwins, s.SeedSeconds)
	began = time.Now()
	started, err := acme.exalateAll(ctx, conn.ID)
	if err != nil {
		return s, fmt.Errorf("bulk exalate after %d tasks: %w", len(started), err)
	}
	if s.Synchronized, err = waitSyncedProc(ctx, p, acme, conn.ID, len(started)); err != nil {
		return s, err
	}
	s.SyncSeconds = time.Since(began).Seconds()

	cfg.progress("scale: %d twins in %.1f s; timing the connections list and the statistics", s.Synchronized, s.SyncSeconds)
	var list, stats []time.Duration
	for range scaleCalls {
		t := time.Now()
		cs, err := acme.admin.Connections(ctx)
		if err != nil {
			return s, fmt.Errorf("listing %s's connections: %w", acme.Name, err)
		}
		list = append(list, time.Since(t))
		for _, c := range cs {
			if c.ID == conn.ID {
				s.SyncedItems = c.SyncedItems
			}
		}
		t = time.Now()
		if _, err := acme.admin.Stats(ctx, conn.ID); err != nil {
			return s, fmt.Errorf("%s's statistics of %s: %w", acme.Name, conn.ID, err)
		}
		stats = append(stats, time.Since(t))
	}
	s.ConnectionsMS, s.StatsMS = median(list), median(stats)
	pid := acme.node.pid()
	if s.PeakRSSMB, err = procMemMB(pid, "VmHWM"); err == nil {
		s.RSSMB, err = procMemMB(pid, "VmRSS")
	}
	if err != nil {
		return s, acme.node.failed(err)
	}
	s.Counted = fmt.Sprintf("RSS: Acme's `tandem serve` process (pid %d) alone, this section only; "+
		"loads timed through its admin API, HTTP included", pid)
	return s, nil
}

// runBulkAndLatencyProc is runBulkAndLatency on child processes, with a
// counting proxy between each node and its sandbox.
func runBulkAndLatencyProc(ctx context.Context, cfg Config, dir string, r *Report) error {
	tasks := cfg.Tasks
	if !cfg.runs(1) {
		tasks = min(tasks, latencySetupTasks)
	}
	poll := cfg.Poll
	if poll == 0 {
		poll = engine.DefaultPoll
	}
	cfg.progress("bulk sync: starting two sandboxes (rate limit %d/min, latency %v) and two nodes as child processes", cfg.RateLimit, cfg.Latency)
	p, err := startProcPair(ctx, cfg.Subprocess, dir, procSpec{limit: cfg.RateLimit, latency: cfg.Latency,
		rpm: cfg.RateLimit, poll: poll, count: true})
	if err != nil {
		return fmt.Errorf("bench: section 1 (bulk sync): %w", err)
	}
	defer p.close()
	acme, globex := p.acme, p.globex
	// A sandbox's limit is set when it starts, so the seeding runs under
	// it, paced by the seeder's own budget; the wait after it lets the
	// sandbox's bucket fill again before the measured sync.
	cfg.progress("bulk sync: seeding %d tasks on %s (under the limit and latency)", tasks, acme.Name)
	seeder, err := acme.seeder(cfg.RateLimit)
	if err == nil {
		err = seedProc(ctx, seeder, acme, tasks, true)
	}
	if err != nil {
		return fmt.Errorf("bench: section 1 (bulk sync): %w", err)
	}
	if err := refill(ctx, cfg.RateLimit, seeder.Stats().Total()); err != nil {
		return err
	}
	conn, err := connectProc(ctx, acme, globex)
	if err != nil {
		return fmt.Errorf("bench: section 1 (bulk sync): %w", err)
	}

	cfg.progress("bulk sync: Bulk Exalate %s → %s", acme.Name, globex.Name)
	srcBefore, srcReq := acme.counter.snapshot()
	dstBefore, dstReq := globex.counter.snapshot()
	began := time.Now()
	started, err := acme.exalateAll(ctx, conn.ID)
	if err != nil {
		return fmt.Errorf("bench: section 1 (bulk sync): bulk exalate after %d tasks: %w", len(started), err)
	}
	done, err := waitSyncedProc(ctx, p, acme, conn.ID, len(started))
	if err != nil {
		return fmt.Errorf("bench: section 1 (bulk sync): %w", err)
	}
	wall := time.Since(began)
	srcAfter, srcReqAfter := acme.counter.snapshot()
	dstAfter, dstReqAfter := globex.counter.snapshot()
	left, err := unfinishedProc(ctx, acme, conn.ID)
	if err != nil {
		return fmt.Errorf("bench: section 1 (bulk sync): %w", err)
	}
	twins := entityIDs(started)
	src, dst := srcAfter.Sub(srcBefore), dstAfter.Sub(dstBefore)
	b := bulkFigures(cfg, len(started), done, left, wall, src, dst,
		[2]int64{srcReqAfter - srcReq, dstReqAfter - dstReq}, [2]int64{src.RateLimited, dst.RateLimited})
	if cfg.runs(1) {
		r.Bulk = &b
	}
	if !cfg.runs(2) {
		return nil
	}
	l, err := timeEdits(ctx, cfg, editRun{name: acme.Name, seeder: seeder, connID: conn.ID, twins: twins,
		poll: poll, latency: cfg.Latency, limit: cfg.RateLimit,
		settle: func(ctx context.Context) error { return settleProc(ctx, p, poll) },
		subscribe: func(ctx context.Context) (<-chan engine.StageEvent, func(), error) {
			sctx, cancel := context.WithCancel(ctx)
			events, err := acme.admin.Events(sctx)
			if err != nil {
				cancel()
				return nil, nil, err
			}
			return events, cancel, nil
		}})
	if err != nil {
		return fmt.Errorf("bench: section 2 (change latency): %w", err)
	}
	r.Latency = &l
	return nil
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

// settleProc is settle with the counters' figures: it waits until the
// nodes make no more than idle polling's calls over two poll intervals;
// at most a minute.
func settleProc(ctx context.Context, p *procPair, poll time.Duration) error {
	if err := settleCalls(ctx, len(p.nodes), poll, func() (n int64) {
		for _, node := range p.nodes {
			s, _ := node.counter.snapshot()
			n += s.Total()
		}
		return n
	}); err != nil {
		return err
	}
	return p.alive()
}
