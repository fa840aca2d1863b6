package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine/bench"
)

// TestQuickRunReportsEverySection runs the harness small and checks the
// report is complete and sane; it never judges speed (targets are the
// harness's business, not a unit test's).
func TestQuickRunReportsEverySection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := bench.Quick()
	cfg.Dir = t.TempDir()
	r, err := bench.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("quick run: %v", err)
	}
	b := r.Bulk
	if b == nil || b.Tasks != cfg.Tasks || b.Synchronized != cfg.Tasks || b.Unrecovered != 0 {
		t.Fatalf("bulk section: %+v; want all %d tasks synchronized", b, cfg.Tasks)
	}
	// The destination creates each task, its 3 comments and its attachment:
	// at least 5 writes per task, whatever else it does.
	if b.Source.ReadsPerTask <= 0 || b.Destination.WritesPerTask < 5 || b.CallsPerTask <= 0 {
		t.Errorf("calls per task: source %.2f reads, destination %.2f writes, total %.2f; want reads > 0, writes ≥ 5",
			b.Source.ReadsPerTask, b.Destination.WritesPerTask, b.CallsPerTask)
	}
	if b.MinimumCallsPerTask <= 0 || b.CallsPerTask < b.MinimumCallsPerTask {
		t.Errorf("measured %.2f calls per task, below the claimed minimum %.2f: the minimum is wrong", b.CallsPerTask, b.MinimumCallsPerTask)
	}
	if b.RateLimitBound <= 0 || b.TasksPerMinute <= 0 || b.Source.ByEndpoint["GET /tasks/{gid}/stories"] == 0 {
		t.Errorf("bulk figures missing: bound %.1f, tasks/min %.1f, endpoints %v", b.RateLimitBound, b.TasksPerMinute, b.Source.ByEndpoint)
	}
	e := r.Engine
	if e == nil || e.Synchronized != cfg.EngineTasks || e.TasksPerSec <= 0 || e.CPUMSPerTask <= 0 || e.PeakRSSMB <= 0 {
		t.Fatalf("engine section: %+v", e)
	}
	if len(e.SQLiteBytesPer1000Twins) != 2 {
		t.Errorf("SQLite sizes for %v; want both nodes", e.SQLiteBytesPer1000Twins)
	}

	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("encoding the report: %v", err)
	}
	var decoded struct {
		Targets []struct {
			Name     string   `json:"name"`
			Goal     string   `json:"goal"`
			Measured *float64 `json:"measured"`
			Met      *bool    `json:"met"`
			Reason   string   `json:"reason"`
		} `json:"targets"`
		Latency struct {
			Measured bool   `json:"measured"`
			Reason   string `json:"reason"`
		} `json:"change_latency"`
	}
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatalf("decoding the report: %v", err)
	}
	want := []string{"api_calls_per_task", "bulk_rate_limit_share", "bulk_unrecovered_429s", "change_latency_p95",
		"engine_tasks_per_second", "engine_cpu_ms_per_task", "peak_rss_10000_twins"}
	if len(decoded.Targets) != len(want) {
		t.Fatalf("%d targets in the JSON; want %d (%v)", len(decoded.Targets), len(want), want)
	}
	for i, tg := range decoded.Targets {
		if tg.Name != want[i] || tg.Goal == "" || tg.Met == nil {
			t.Errorf("target %d: %+v; want %s with a goal and met", i, tg, want[i])
		}
		if tg.Measured == nil && (tg.Reason == "" || *tg.Met) {
			t.Errorf("target %s is not measured but says met=%v, reason %q", tg.Name, *tg.Met, tg.Reason)
		}
	}
	if decoded.Latency.Measured || decoded.Latency.Reason == "" {
		t.Errorf("change latency section: %+v; want not measured, with a reason", decoded.Latency)
	}

	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatalf("writing the table: %v", err)
	}
	for _, s := range []string{"1. Bulk sync", "3. Engine overhead", "Targets", "api_calls_per_task", "not implemented yet"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("the table lacks %q:\n%s", s, table.String())
		}
	}
}

// TestMinimumFollowsTheTaskShape pins the minimum's derivation: the
// destination writes the task, each comment and each attachment; the
// source reads stories and one attachment list, plus its share of a
// 100-task listing page.
func TestMinimumFollowsTheTaskShape(t *testing.T) {
	for _, c := range []struct {
		comments, attachments int
		src, dst              float64
	}{{3, 1, 2.01, 5}, {0, 0, 1.01, 1}, {2, 4, 2.01, 7}} {
		src, dst := bench.Minimum(c.comments, c.attachments)
		if src != c.src || dst != c.dst {
			t.Errorf("Minimum(%d, %d) = %.2f, %.2f; want %.2f, %.2f", c.comments, c.attachments, src, dst, c.src, c.dst)
		}
	}
}

// TestRunRefusesBadConfig checks the harness says which setting is wrong.
func TestRunRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]bench.Config{
		"--tasks":      {Tasks: 0, RateLimit: 100},
		"--rate-limit": {Tasks: 1, RateLimit: 0},
		"--latency":    {Tasks: 1, RateLimit: 100, Latency: -time.Second},
	} {
		_, err := bench.Run(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("config %+v: error %v; want one naming %s", cfg, err, name)
		}
	}
}
