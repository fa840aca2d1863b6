package bench

import (
	"context"
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

// runOverhead is section 3 on a pair start makes under dir.
func runOverhead(ctx context.Context, cfg Config, start startFunc, dir string) (Overhead, error) {
	p, connID, _, err := setUp(ctx, cfg, start, "engine overhead", dir, unthrottled(), cfg.EngineTasks, true)
	if err != nil {
		return Overhead{}, err
	}
	defer p.close()
	dirs := p.dataDirs()
	sizes := map[string]int64{}
	for name, d := range dirs {
		if sizes[name], err = sqliteBytes(d); err != nil {
			return Overhead{}, err
		}
	}

	cfg.progress("engine overhead: Bulk Exalate of %d tasks", cfg.EngineTasks)
	end, err := p.measure(cfg)
	if err != nil {
		return Overhead{}, err
	}
	started, done, wall, err := exalate(ctx, p, connID)
	o := Overhead{Tasks: cfg.EngineTasks, Synchronized: min(done, started.Started), WallSeconds: wall.Seconds(),
		SQLiteBytesPer1000Twins: map[string]int64{}}
	// end runs even after a failed sync: it stops the CPU profile.
	cpu, endErr := end(&o)
	if err != nil {
		return Overhead{}, err
	}
	if endErr != nil {
		return Overhead{}, endErr
	}
	if n := o.Synchronized; n > 0 {
		o.TasksPerSec = float64(n) / wall.Seconds()
		o.CPUMSPerTask = ms(cpu) / float64(n)
		for name, d := range dirs {
			after, err := sqliteBytes(d)
			if err != nil {
				return Overhead{}, err
			}
			o.SQLiteBytesPer1000Twins[name] = (after - sizes[name]) * 1000 / int64(n)
		}
	}
	return o, nil
}
