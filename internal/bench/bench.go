// Package bench is the benchmark harness behind `tandem bench` (issue 6).
// It starts two nodes, each in front of its own in-process Asana sandbox on
// loopback (internal/demo), seeds tasks, runs Bulk Exalate and measures what
// the targets are about: API calls per task against the Basic
// rules' minimum, use of the rate-limit budget, and the engine's own cost.
//
// With Config.Subprocess the sandboxes and nodes are child processes
// instead, driven only through the admin API and the sandboxes' HTTP.
//
// The harness reports; it never fails a run for missing a target. Tests
// check that a report is complete, never how fast it was.
package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store"
)

// Config is one run of the harness.
type Config struct {
	// Tasks is how many tasks the bulk section (1) syncs.
	Tasks int
	// RateLimit is requests per minute: both the sandboxes' limit and the
	// nodes' client budget in section 1.
	RateLimit int
	// Latency is added to every sandbox answer in section 1.
	Latency time.Duration
	// EngineTasks is how many tasks the engine-overhead section (3) syncs;
	// 0 means Tasks.
	EngineTasks int
	// Edits is how many single-field edits section 2 times.
	Edits int
	// ScaleTwins is how many twins section 4 makes on a node.
	ScaleTwins int
	// Poll is the nodes' change-detection interval in sections 1 and 2;
	// 0 means the node's default (engine.DefaultPoll).
	Poll time.Duration
	// IdleConnections is how many connections, each on a project of its
	// own, section 5 keeps idle; IdleWindow how long it counts their
	// calls; IdleSamples how many first changes after idle it times (at
	// most one per connection).
	IdleConnections int
	IdleWindow      time.Duration
	IdleSamples     int
	// PollMax is the longest interval of section 5's adaptive polling;
	// 0 means the node's default (engine.DefaultPollMax). Sections 1 to
	// 4 poll at a fixed Poll.
	PollMax time.Duration
	// Sections lists the sections to run (1 to 6); none means 1 to 4
	// (section 5 idles for minutes; 6 needs Database).
	Sections []int
	// Dir holds the nodes' data dirs; "" means a temporary dir, removed at
	// the end.
	Dir string
	// CPUProfile, if set, gets a CPU profile of section 3's bulk sync.
	CPUProfile io.Writer
	// MemProfile, if set, is a file to keep a heap profile in, taken at
	// the Go heap's peak during section 4 (internal/heapprof): this
	// process's, or with Subprocess, Acme's node's (`tandem serve
	// --memprofile`).
	MemProfile string
	// Progress, if set, is told what the harness is doing (one line each).
	Progress func(string)
	// Subprocess, if set, runs the sandboxes and nodes as child processes
	// of that binary instead of in this process.
	Subprocess *Subprocess
	// Mode is the connections' configuration mode ("": Basic); Script
	// mode runs the scripts that do what Basic does, so the two runs
	// differ only by the engine's cost of running scripts.
	Mode engine.Mode
	// Database, a postgres:// URL of a database the user may create
	// databases from, puts each node on a database of its own on that
	// server (created before it starts, dropped after it stops) instead
	// of SQLite; it needs Subprocess. Section 6 needs it.
	Database string

	// pg is Database's server, opened by Run.
	pg *pgServer
}

// Defaults is a run that ends within about five minutes on two cores:
// 100 tasks at 1,500 requests per minute and 50 ms latency (per-task
// figures are the same as at 300), 40 edits at the node's default poll,
// 1,000 tasks unthrottled for the overhead, 10,000 twins for the scale.
// The full sizes, --tasks 300 --edits 100, take about ten minutes.
func Defaults() Config {
	return Config{Tasks: 100, RateLimit: 1500, Latency: 50 * time.Millisecond, EngineTasks: 1000,
		Edits: 40, ScaleTwins: 10000, IdleConnections: 10, IdleWindow: time.Minute, IdleSamples: 3}
}

// Quick is a small, fast run for tests and smoke checks: ten tasks, a
// limit too high to bind, no latency, five edits polled every 200 ms, 200
// twins; three idle connections backing off to 800 ms, counted for 3 s.
func Quick() Config {
	return Config{Tasks: 10, RateLimit: 60000, EngineTasks: 10, Edits: 5, ScaleTwins: 200, Poll: 200 * time.Millisecond,
		IdleConnections: 3, IdleWindow: 3 * time.Second, IdleSamples: 2, PollMax: 800 * time.Millisecond}
}

// ParseSections reads a --sections value such as "1,2,4".
func ParseSections(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 1 || n > lastSection {
			return nil, fmt.Errorf("bench: --sections %q: %q is not a section (1 to 6)", s, part)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: --sections %q: no section", s)
	}
	return out, nil
}

// lastSection is the highest section number.
const lastSection = 6

// runs says whether the run includes section n.
func (c Config) runs(n int) bool {
	return (len(c.Sections) == 0 && n < 5) || slices.Contains(c.Sections, n)
}

// Report is everything a run measured. Sections not measured say why.
type Report struct {
	// Mode is ModeInProcess or ModeSubprocess.
	Mode    string        `json:"mode"`
	Machine Machine       `json:"machine"`
	Config  ConfigSummary `json:"config"`
	// Bulk is section 1, Latency 2, Engine 3, Scale 4, Idle 5; nil for a
	// section not run, with the reason in NotRun.
	Bulk    *Bulk     `json:"bulk_sync"`
	Latency *Latency  `json:"change_latency"`
	Engine  *Overhead `json:"engine_overhead"`
	Scale   *Scale    `json:"scale"`
	Idle    *Idle     `json:"idle"`
	// Replicas is section 6.
	Replicas *Replicas `json:"replicas"`
	// IdleHooks is section 5 again with webhooks.
	IdleHooks *Idle `json:"idle_webhooks"`
	// NotRun says, per section number, why it didn't run.
	NotRun map[string]string `json:"not_run,omitempty"`
	// NotMeasured says, per field, why a run couldn't measure it (or
	// measured it another way).
	NotMeasured map[string]string `json:"not_measured,omitempty"`
	// Targets are the targets, met or not.
	Targets []Target `json:"targets"`
	// TotalSeconds is the wall time of the whole run, seeding included.
	TotalSeconds float64 `json:"total_seconds"`
}

// ConfigSummary is the run's configuration as reported.
type ConfigSummary struct {
	Tasks       int     `json:"tasks"`
	RateLimit   int     `json:"rate_limit_per_minute"`
	LatencyMS   float64 `json:"latency_ms"`
	EngineTasks int     `json:"engine_tasks"`
	Edits       int     `json:"edits"`
	ScaleTwins  int     `json:"scale_twins"`
	PollMS      float64 `json:"poll_ms"`
	// Section 5's.
	IdleConnections int     `json:"idle_connections"`
	IdleWindowS     float64 `json:"idle_window_seconds"`
	IdleSamples     int     `json:"idle_samples"`
	PollMaxMS       float64 `json:"poll_max_ms"`
	Sections        []int   `json:"sections"`
	// ConnectionMode is the connections' configuration mode.
	ConnectionMode engine.Mode `json:"connection_mode"`
	// Database is where the nodes' databases were: "sqlite", or the
	// PostgreSQL server's URL without its password.
	Database string `json:"database"`
}

// Machine is where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
}

// notSelected is the reason given for a section left out by --sections.
const notSelected = "not selected (--sections)"

// Run runs the selected sections and computes the targets. Section 3 runs
// first, so the process's peak RSS is its own, then 4, then 1 and 2 on
// the same two nodes. With cfg.Subprocess the same sections run on child
// processes (see procPair); a failed run then keeps its dir, with
// the children's logs, and says where.
func Run(ctx context.Context, cfg Config) (r Report, err error) {
	if cfg.Tasks <= 0 {
		return Report{}, fmt.Errorf("bench: --tasks %d: need at least one task", cfg.Tasks)
	}
	if cfg.RateLimit <= 0 {
		return Report{}, fmt.Errorf("bench: --rate-limit %d: need a positive limit", cfg.RateLimit)
	}
	if cfg.Latency < 0 {
		return Report{}, fmt.Errorf("bench: --latency %v is negative", cfg.Latency)
	}
	if cfg.EngineTasks <= 0 {
		cfg.EngineTasks = cfg.Tasks
	}
	if cfg.Edits <= 0 && cfg.runs(2) {
		return Report{}, fmt.Errorf("bench: --edits %d: need at least one edit", cfg.Edits)
	}
	if cfg.ScaleTwins <= 0 && cfg.runs(4) {
		return Report{}, fmt.Errorf("bench: --scale-twins %d: need at least one twin", cfg.ScaleTwins)
	}
	if cfg.Poll < 0 {
		return Report{}, fmt.Errorf("bench: --poll %v is negative", cfg.Poll)
	}
	if cfg.runs(5) {
		switch {
		case cfg.IdleConnections <= 0:
			return Report{}, fmt.Errorf("bench: --idle-connections %d: need at least one connection", cfg.IdleConnections)
		case cfg.IdleWindow <= 0:
			return Report{}, fmt.Errorf("bench: --idle-window %v: need a positive window, e.g. 60s", cfg.IdleWindow)
		case cfg.IdleSamples <= 0:
			return Report{}, fmt.Errorf("bench: --idle-samples %d: need at least one sample", cfg.IdleSamples)
		case cfg.PollMax < 0 || (cfg.PollMax > 0 && cfg.PollMax < cfg.poll()):
			return Report{}, fmt.Errorf("bench: --poll-max %v: give at least --poll (%v)", cfg.PollMax, cfg.poll())
		}
	}
	if cfg.Subprocess != nil && cfg.CPUProfile != nil {
		return Report{}, errors.New("bench: --cpuprofile profiles this process; with --subprocess the engine runs in others")
	}
	if cfg.Database != "" && cfg.Subprocess == nil {
		return Report{}, errors.New("bench: --database (or TANDEM_DATABASE) puts `tandem serve` children on PostgreSQL: give --subprocess too")
	}
	if cfg.runs(6) && (cfg.Database == "" || cfg.Subprocess == nil) {
		return Report{}, errors.New("bench: section 6 (replicas) runs `tandem serve` replicas on one PostgreSQL database: give --subprocess and --database (or TANDEM_DATABASE)")
	}
	if cfg.Database != "" {
		pg, err := openPG(ctx, cfg.Database)
		if err != nil {
			return Report{}, err
		}
		cfg.pg = pg
		defer func() {
			if cerr := pg.close(ctx); cerr != nil && err == nil {
				err = fmt.Errorf("bench: dropping the nodes' databases: %w", cerr)
			}
		}()
	}
	began := time.Now()
	dir := cfg.Dir
	if dir == "" {
		d, mkErr := os.MkdirTemp("", "tandem-bench-")
		if mkErr != nil {
			return Report{}, fmt.Errorf("bench: a temporary dir: %w", mkErr)
		}
		// Child processes' logs are kept for a failed run.
		defer func() {
			if err == nil || cfg.Subprocess == nil {
				os.RemoveAll(d)
			}
		}()
		dir = d
	}
	if cfg.Subprocess != nil {
		defer func() {
			if err != nil {
				err = fmt.Errorf("%w; the children's logs and data dirs are kept in %s", err, dir)
			}
		}()
	}
	r = Report{
		Mode:    ModeInProcess,
		Machine: machine(),
		Config: ConfigSummary{Tasks: cfg.Tasks, RateLimit: cfg.RateLimit, LatencyMS: ms(cfg.Latency),
			EngineTasks: cfg.EngineTasks, Edits: cfg.Edits, ScaleTwins: cfg.ScaleTwins, PollMS: ms(cfg.poll()),
			IdleConnections: cfg.IdleConnections, IdleWindowS: cfg.IdleWindow.Seconds(), IdleSamples: cfg.IdleSamples,
			PollMaxMS: ms(cfg.pollMax()), ConnectionMode: cmp.Or(cfg.Mode, engine.ModeBasic), Database: "sqlite"},
		NotRun: map[string]string{},
	}
	if cfg.pg != nil {
		r.Config.Database = store.RedactURL(cfg.Database)
	}
	for n := 1; n <= lastSection; n++ {
		switch {
		case cfg.runs(n):
			r.Config.Sections = append(r.Config.Sections, n)
		case n == 5 && len(cfg.Sections) == 0:
			r.NotRun["5"] = "not run by default (it idles for minutes): --sections 5"
		case n == 6 && len(cfg.Sections) == 0:
			r.NotRun["6"] = "not run by default (it needs PostgreSQL): --sections 6 --subprocess --database URL"
		default:
			r.NotRun[strconv.Itoa(n)] = notSelected
		}
	}
	start := startDemoPair
	if cfg.Subprocess != nil {
		r.Mode, r.NotMeasured, start = ModeSubprocess, notMeasuredProc(cfg), startProcPair
	}
	if cfg.runs(3) {
		eng, err := runOverhead(ctx, cfg, start, filepath.Join(dir, "engine"))
		if err != nil {
			return Report{}, fmt.Errorf("bench: section 3 (engine overhead): %w", err)
		}
		r.Engine = &eng
	}
	if cfg.runs(4) {
		sc, err := runScale(ctx, cfg, start, filepath.Join(dir, "scale"))
		if err != nil {
			return Report{}, fmt.Errorf("bench: section 4 (scale): %w", err)
		}
		r.Scale = &sc
	}
	if cfg.runs(1) || cfg.runs(2) {
		if err := runBulkAndLatency(ctx, cfg, start, filepath.Join(dir, "bulk"), &r); err != nil {
			return Report{}, err
		}
	}
	if cfg.runs(5) {
		idle, err := runIdle(ctx, cfg, start, filepath.Join(dir, "idle"), false)
		if err != nil {
			return Report{}, fmt.Errorf("bench: section 5 (idle): %w", err)
		}
		r.Idle = &idle
		hooked, err := runIdle(ctx, cfg, start, filepath.Join(dir, "idle-webhooks"), true)
		if err != nil {
			return Report{}, fmt.Errorf("bench: section 5 (idle, webhooks): %w", err)
		}
		r.IdleHooks = &hooked
	}
	if cfg.runs(6) {
		rep, err := runReplicas(ctx, cfg, filepath.Join(dir, "replicas"))
		if err != nil {
			return Report{}, fmt.Errorf("bench: section 6 (replicas): %w", err)
		}
		r.Replicas = &rep
	}
	r.Targets = targets(r)
	r.TotalSeconds = time.Since(began).Seconds()
	return r, nil
}

// runBulkAndLatency runs sections 1 and 2 on one pair of nodes: section
// 2 edits the twins section 1 made (or, without section 1, a few synced
// for it).
func runBulkAndLatency(ctx context.Context, cfg Config, start startFunc, dir string, r *Report) error {
	tasks := cfg.Tasks
	if !cfg.runs(1) {
		tasks = min(tasks, latencySetupTasks)
	}
	spec := pairSpec{limit: cfg.RateLimit, latency: cfg.Latency, rpm: cfg.RateLimit, poll: cfg.poll(), count: true}
	p, connID, _, err := setUp(ctx, cfg, start, "bulk sync", dir, spec, tasks, true)
	if err != nil {
		return fmt.Errorf("bench: section 1 (bulk sync): %w", err)
	}
	defer p.close()
	bulk, twins, err := runBulk(ctx, cfg, p, connID)
	if err != nil {
		return fmt.Errorf("bench: section 1 (bulk sync): %w", err)
	}
	if cfg.runs(1) {
		r.Bulk = &bulk
	}
	if cfg.runs(2) {
		l, err := runLatency(ctx, cfg, p, connID, twins)
		if err != nil {
			return fmt.Errorf("bench: section 2 (change latency): %w", err)
		}
		r.Latency = &l
	}
	return nil
}

// poll is the nodes' change-detection interval, defaulted.
func (c Config) poll() time.Duration {
	if c.Poll == 0 {
		return engine.DefaultPoll
	}
	return c.Poll
}

// pollMax is section 5's longest poll interval, defaulted.
func (c Config) pollMax() time.Duration {
	if c.PollMax == 0 {
		return max(engine.DefaultPollMax, c.poll())
	}
	return c.PollMax
}

func (c Config) progress(format string, args ...any) {
	if c.Progress != nil {
		c.Progress(fmt.Sprintf(format, args...))
	}
}

// machine describes this machine from the runtime and /proc/cpuinfo.
func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// errStalled says a sync stopped making progress.
var errStalled = errors.New("the sync stopped making progress")
