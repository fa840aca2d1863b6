package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine/demo"
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

// runScale is section 4.
func runScale(ctx context.Context, cfg Config, dir string) (Scale, error) {
	s := Scale{Twins: cfg.ScaleTwins, Calls: scaleCalls}
	cfg.progress("scale: starting two nodes (no limit, no latency)")
	nodes, err := demo.Pair(ctx, dir, func(sp *demo.Spec) {
		sp.Sandbox = []sandbox.Option{sandbox.WithRateLimit(0), sandbox.WithLatency(0)}
		sp.RequestsPerMinute = -1
	})
	if err != nil {
		return s, err
	}
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	acme, globex := nodes[0], nodes[1]
	cfg.progress("scale: seeding %d bare tasks on %s", cfg.ScaleTwins, acme.Name)
	began := time.Now()
	seeder, err := unthrottled(acme)
	if err != nil {
		return s, err
	}
	if err := seed(ctx, seeder, acme, cfg.ScaleTwins, false); err != nil {
		return s, err
	}
	s.SeedSeconds = time.Since(began).Seconds()
	conn, err := connect(ctx, acme, globex)
	if err != nil {
		return s, err
	}
	cfg.progress("scale: Bulk Exalate of %d tasks (seeded in %.1f s)", cfg.ScaleTwins, s.SeedSeconds)
	began = time.Now()
	started, err := acme.ExalateAll(ctx, conn.ID)
	if err != nil {
		return s, fmt.Errorf("bulk exalate after %d tasks: %w", len(started), err)
	}
	if s.Synchronized, err = waitSynced(ctx, acme, conn.ID, len(started)); err != nil {
		return s, err
	}
	s.SyncSeconds = time.Since(began).Seconds()

	cfg.progress("scale: %d twins in %.1f s; timing the connections list and the statistics", s.Synchronized, s.SyncSeconds)
	var list, stats []time.Duration
	for range scaleCalls {
		t := time.Now()
		cs, err := acme.Connections(ctx)
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
		if _, err := acme.Stats(ctx, conn.ID); err != nil {
			return s, fmt.Errorf("%s's statistics of %s: %w", acme.Name, conn.ID, err)
		}
		stats = append(stats, time.Since(t))
	}
	s.ConnectionsMS, s.StatsMS = median(list), median(stats)
	if s.PeakRSSMB, err = peakRSSMB(); err != nil {
		return s, err
	}
	// maxrss and /proc's resident set are counted apart: read just after
	// the peak, "now" can come out a page or two above it.
	s.RSSMB = rssMB()
	s.PeakRSSMB = max(s.PeakRSSMB, s.RSSMB)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	heap := float64(m.HeapAlloc) / (1 << 20)
	s.HeapMB = &heap
	return s, nil
}

// median of ds in milliseconds; zero for none.
func median(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	return ms(s[(len(s)-1)/2])
}

// rssMB is the process's resident set now (VmRSS in /proc/self/status), 0
// where that isn't available.
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
