package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine/demo"
)

// Overhead is section 3: a Bulk Exalate with no rate limit and no
// latency, so what is left is the engine's own cost. The CPU and memory
// are the whole process's: both nodes and both sandboxes run in it, so
// they overstate the engine's share.
type Overhead struct {
	Tasks        int     `json:"tasks"`
	Synchronized int     `json:"synchronized"`
	WallSeconds  float64 `json:"wall_seconds"`
	TasksPerSec  float64 `json:"tasks_per_second"`
	// CPUMSPerTask is user+system CPU time per task (getrusage deltas;
	// with --subprocess, both node processes' /proc/<pid>/stat deltas).
	CPUMSPerTask float64 `json:"cpu_ms_per_task"`
	// PeakRSSMB is the process's peak resident set (getrusage maxrss) at
	// the end of the section; with --subprocess, the larger of the node
	// processes' VmHWM.
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// Counted says which processes CPU and RSS come from with
	// --subprocess, and Processes gives each one's figures.
	Counted   string    `json:"counted,omitempty"`
	Processes []Process `json:"processes,omitempty"`
	// SQLiteBytesPer1000Twins is the growth of each node's SQLite files
	// over the sync, per 1,000 twins.
	SQLiteBytesPer1000Twins map[string]int64 `json:"sqlite_bytes_per_1000_twins"`
}

// runOverhead is section 3.
func runOverhead(ctx context.Context, cfg Config, dir string) (Overhead, error) {
	cfg.progress("engine overhead: starting two nodes (no limit, no latency)")
	nodes, err := demo.Pair(ctx, dir, func(s *demo.Spec) {
		s.Sandbox = []sandbox.Option{sandbox.WithRateLimit(0), sandbox.WithLatency(0)}
		s.RequestsPerMinute = -1
	})
	if err != nil {
		return Overhead{}, err
	}
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	acme, globex := nodes[0], nodes[1]
	cfg.progress("engine overhead: seeding %d tasks on %s", cfg.EngineTasks, acme.Name)
	seeder, err := unthrottled(acme)
	if err != nil {
		return Overhead{}, err
	}
	if err := seed(ctx, seeder, acme, cfg.EngineTasks, true); err != nil {
		return Overhead{}, err
	}
	conn, err := connect(ctx, acme, globex)
	if err != nil {
		return Overhead{}, err
	}
	sizes := map[string]int64{}
	for _, n := range nodes {
		if sizes[n.Name], err = sqliteBytes(filepath.Join(dir, n.Name)); err != nil {
			return Overhead{}, err
		}
	}

	cfg.progress("engine overhead: Bulk Exalate of %d tasks", cfg.EngineTasks)
	runtime.GC()
	cpuBefore, err := cpuTime()
	if err != nil {
		return Overhead{}, err
	}
	if cfg.CPUProfile != nil {
		if err := pprof.StartCPUProfile(cfg.CPUProfile); err != nil {
			return Overhead{}, fmt.Errorf("starting the CPU profile: %w", err)
		}
	}
	began := time.Now()
	started, err := acme.ExalateAll(ctx, conn.ID)
	if err == nil {
		var done int
		done, err = waitSynced(ctx, acme, conn.ID, len(started))
		started = started[:min(done, len(started))]
	}
	wall := time.Since(began)
	if cfg.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return Overhead{}, err
	}
	cpuAfter, err := cpuTime()
	if err != nil {
		return Overhead{}, err
	}
	o := Overhead{Tasks: cfg.EngineTasks, Synchronized: len(started), WallSeconds: wall.Seconds(),
		SQLiteBytesPer1000Twins: map[string]int64{}}
	if n := len(started); n > 0 {
		o.TasksPerSec = float64(n) / wall.Seconds()
		o.CPUMSPerTask = ms(cpuAfter-cpuBefore) / float64(n)
		for _, node := range nodes {
			after, err := sqliteBytes(filepath.Join(dir, node.Name))
			if err != nil {
				return Overhead{}, err
			}
			o.SQLiteBytesPer1000Twins[node.Name] = (after - sizes[node.Name]) * 1000 / int64(n)
		}
	}
	if o.PeakRSSMB, err = peakRSSMB(); err != nil {
		return Overhead{}, err
	}
	return o, nil
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// peakRSSMB is the process's peak resident set in MB (maxrss is in KB on
// Linux).
func peakRSSMB() (float64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return float64(ru.Maxrss) / 1024, nil
}
