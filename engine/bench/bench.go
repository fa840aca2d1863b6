// Package bench is the benchmark harness behind `tandem bench` (issue 6).
// It starts two nodes, each in front of its own in-process Asana sandbox on
// loopback (engine/demo), seeds tasks, runs Bulk Exalate and measures what
// the targets are about: API calls per task against the Basic
// rules' minimum, use of the rate-limit budget, and the engine's own cost.
//
// The harness reports; it never fails a run for missing a target. Tests
// check that a report is complete, never how fast it was.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
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
	// Dir holds the nodes' data dirs; "" means a temporary dir, removed at
	// the end.
	Dir string
	// CPUProfile, if set, gets a CPU profile of section 3's bulk sync.
	CPUProfile io.Writer
	// Progress, if set, is told what the harness is doing (one line each).
	Progress func(string)
}

// Defaults is the default run: 300 tasks at 1,500 requests per
// minute and 50 ms latency; 1,000 tasks unthrottled for the overhead.
func Defaults() Config {
	return Config{Tasks: 300, RateLimit: 1500, Latency: 50 * time.Millisecond, EngineTasks: 1000}
}

// Quick is a small, fast run for tests and smoke checks: ten tasks, a
// limit too high to bind, no latency.
func Quick() Config {
	return Config{Tasks: 10, RateLimit: 60000, EngineTasks: 10}
}

// Report is everything a run measured. Sections not measured say why.
type Report struct {
	Machine Machine       `json:"machine"`
	Config  ConfigSummary `json:"config"`
	// Bulk is section 1, Engine section 3.
	Bulk   *Bulk     `json:"bulk_sync"`
	Engine *Overhead `json:"engine_overhead"`
	// Latency (section 2) and Scale (section 4) are not implemented yet.
	Latency NotMeasured `json:"change_latency"`
	Scale   NotMeasured `json:"scale"`
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
}

// Machine is where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
}

// NotMeasured stands for a section this version of the harness skips.
type NotMeasured struct {
	Measured bool   `json:"measured"`
	Reason   string `json:"reason"`
}

// notImplemented is the reason given for the sections not built yet.
const notImplemented = "not implemented yet"

// Run runs sections 1 and 3 and computes the targets.
func Run(ctx context.Context, cfg Config) (Report, error) {
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
	began := time.Now()
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "tandem-bench-")
		if err != nil {
			return Report{}, fmt.Errorf("bench: a temporary dir: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	r := Report{
		Machine: machine(),
		Config: ConfigSummary{Tasks: cfg.Tasks, RateLimit: cfg.RateLimit,
			LatencyMS: ms(cfg.Latency), EngineTasks: cfg.EngineTasks},
		Latency: NotMeasured{Reason: notImplemented},
		Scale:   NotMeasured{Reason: notImplemented},
	}
	// The overhead section runs first, so the process's peak RSS is its own
	// and not the bulk section's.
	eng, err := runOverhead(ctx, cfg, dir+"/engine")
	if err != nil {
		return Report{}, fmt.Errorf("bench: section 3 (engine overhead): %w", err)
	}
	r.Engine = &eng
	bulk, err := runBulk(ctx, cfg, dir+"/bulk")
	if err != nil {
		return Report{}, fmt.Errorf("bench: section 1 (bulk sync): %w", err)
	}
	r.Bulk = &bulk
	r.Targets = targets(r)
	r.TotalSeconds = time.Since(began).Seconds()
	return r, nil
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
