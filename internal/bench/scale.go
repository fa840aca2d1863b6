package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tandem-sync/tandem/internal/heapprof"
)

// Scale is section 4: a node with Twins twins, made by a real Bulk Exalate
// of bare tasks (no comments, no attachments) with no limit and no
// latency, then its memory and the time to load what the console shows.
type Scale struct {
	Twins int `json:"twins"`
	// Synchronized is the outgoing syncs that reached Synchronized;
	// SyncedItems the twins Acme's connection list reports.
	Synchronized int `json:"synchronized"`
	SyncedItems  int `json:"synced_items"`
	// SeedSeconds is the creation of the tasks in the sandbox,
	// SyncSeconds the Bulk Exalate that twinned them.
	SeedSeconds float64 `json:"seed_seconds"`
	SyncSeconds float64 `json:"sync_seconds"`
	// PeakRSSMB is the process's peak resident set (getrusage maxrss) so
	// far: both nodes and sandboxes, and every section run before.
	// RSSMB is the resident set at the end, HeapMB the Go heap in use
	// after a GC (nil with --subprocess, where Counted says whose RSS it
	// is).
	PeakRSSMB float64  `json:"peak_rss_mb"`
	RSSMB     float64  `json:"rss_mb"`
	HeapMB    *float64 `json:"heap_mb"`
	Counted   string   `json:"counted,omitempty"`
	// ConnectionsMS and StatsMS are the medians of Calls calls of
	// node.Connections and node.Stats on Acme.
	Calls         int     `json:"calls"`
	ConnectionsMS float64 `json:"connections_median_ms"`
	StatsMS       float64 `json:"stats_median_ms"`
}

// scaleCalls is how many times section 4 times each load.
const scaleCalls = 20

// runScale is section 4 on a pair start makes under dir.
func runScale(ctx context.Context, cfg Config, start startFunc, dir string) (Scale, error) {
	s := Scale{Twins: cfg.ScaleTwins, Calls: scaleCalls}
	spec := unthrottled()
	if cfg.Subprocess != nil {
		spec.memprofile = cfg.MemProfile
	}
	p, connID, seeded, err := setUp(ctx, cfg, start, "scale", dir, spec, cfg.ScaleTwins, false)
	if err != nil {
		return s, err
	}
	defer p.close()
	s.SeedSeconds = seeded.Seconds()
	cfg.progress("scale: Bulk Exalate of %d tasks (seeded in %.1f s)", cfg.ScaleTwins, s.SeedSeconds)
	var peak *heapprof.Watcher
	if cfg.MemProfile != "" && cfg.Subprocess == nil {
		peak = heapprof.Watch(cfg.MemProfile)
	}
	_, done, wall, err := exalate(ctx, p, connID)
	if peak != nil {
		if perr := peak.Stop(); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		return s, err
	}
	s.Synchronized, s.SyncSeconds = done, wall.Seconds()

	cfg.progress("scale: %d twins in %.1f s; timing the connections list and the statistics", s.Synchronized, s.SyncSeconds)
	src, _ := p.names()
	var list, stats []time.Duration
	for range scaleCalls {
		t := time.Now()
		cs, err := p.connections(ctx)
		if err != nil {
			return s, fmt.Errorf("listing %s's connections: %w", src, err)
		}
		list = append(list, time.Since(t))
		for _, c := range cs {
			if c.ID == connID {
				s.SyncedItems = c.SyncedItems
			}
		}
		t = time.Now()
		if _, err := p.stats(ctx, connID); err != nil {
			return s, fmt.Errorf("%s's statistics of %s: %w", src, connID, err)
		}
		stats = append(stats, time.Since(t))
	}
	s.ConnectionsMS, s.StatsMS = median(list), median(stats)
	return s, p.memory(&s)
}

// median of ds in milliseconds; zero for none.
func median(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	return ms(s[(len(s)-1)/2])
}
