package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestBenchQuickJSON runs `tandem bench --quick --json` and checks the
// JSON carries the targets and both measured sections.
func TestBenchQuickJSON(t *testing.T) {
	skipShortBench(t)
	out, err := run(t, "bench", "--quick", "--json", "--data", t.TempDir())
	if err != nil {
		t.Fatalf("tandem bench --quick --json: %v", err)
	}
	var r struct {
		Targets []struct {
			Name string `json:"name"`
			Met  *bool  `json:"met"`
		} `json:"targets"`
		Bulk struct {
			Tasks        int     `json:"tasks"`
			Synchronized int     `json:"synchronized"`
			CallsPerTask float64 `json:"calls_per_task"`
		} `json:"bulk_sync"`
		Engine struct {
			Synchronized int `json:"synchronized"`
		} `json:"engine_overhead"`
		Latency struct {
			Edits        int `json:"edits"`
			Synchronized int `json:"synchronized"`
			Missed       int `json:"missed"`
		} `json:"change_latency"`
		Scale struct {
			Twins        int `json:"twins"`
			Synchronized int `json:"synchronized"`
		} `json:"scale"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("the output is not the JSON report: %v\n%s", err, out)
	}
	if len(r.Targets) == 0 || r.Targets[0].Name == "" || r.Targets[0].Met == nil {
		t.Errorf("targets: %+v", r.Targets)
	}
	if r.Bulk.Tasks != 10 || r.Bulk.Synchronized != 10 || r.Bulk.CallsPerTask <= 0 || r.Engine.Synchronized != 10 {
		t.Errorf("quick run: bulk %+v, engine %+v; want 10 tasks synchronized in each, calls per task > 0", r.Bulk, r.Engine)
	}
	if r.Latency.Edits != 5 || r.Latency.Synchronized+r.Latency.Missed != 5 || r.Scale.Twins != 200 || r.Scale.Synchronized != 200 {
		t.Errorf("quick run: change latency %+v, scale %+v; want 5 edits counted, 200 twins synchronized", r.Latency, r.Scale)
	}
}

// TestBenchSections checks --sections runs only what it names.
func TestBenchSections(t *testing.T) {
	out, err := run(t, "bench", "--quick", "--sections", "4", "--scale-twins", "20", "--data", t.TempDir())
	if err != nil {
		t.Fatalf("tandem bench --quick --sections 4: %v", err)
	}
	for _, s := range []string{"not run: not selected (--sections)", "4. Scale: 20 twins"} {
		if !strings.Contains(out, s) {
			t.Errorf("the table lacks %q:\n%s", s, out)
		}
	}
	if _, err := run(t, "bench", "--quick", "--sections", "7"); err == nil {
		t.Error("tandem bench --sections 7 succeeded; want an error")
	}
}

// TestBenchInScriptMode: --mode script runs the engine section over
// Script mode connections, every task synchronized, and says so; a mode
// that does not exist is refused.
func TestBenchInScriptMode(t *testing.T) {
	out, err := run(t, "bench", "--quick", "--sections", "3", "--mode", "script", "--data", t.TempDir())
	if err != nil {
		t.Fatalf("tandem bench --quick --sections 3 --mode script: %v", err)
	}
	if !strings.Contains(out, "connections in Script mode") || !regexp.MustCompile(`synchronized +10 of 10`).MatchString(out) {
		t.Errorf("the table does not say Script mode with 10 of 10 synchronized:\n%s", out)
	}
	if _, err := run(t, "bench", "--quick", "--mode", "turbo"); err == nil || !strings.Contains(err.Error(), "--mode") {
		t.Errorf("tandem bench --mode turbo: %v, want refused", err)
	}
}

// TestBenchRejectsBadFlags checks a nonsense flag fails with an error.
func TestBenchRejectsBadFlags(t *testing.T) {
	if _, err := run(t, "bench", "--tasks", "0"); err == nil {
		t.Error("tandem bench --tasks 0 succeeded; want an error")
	}
	// --database reaches the harness: in process it asks for --subprocess,
	// and a server nobody listens on fails the run without its password.
	if _, err := run(t, "bench", "--quick", "--sections", "3", "--database", "postgres://b:pw-s3cret@127.0.0.1:1/x"); err == nil ||
		!strings.Contains(err.Error(), "--subprocess") {
		t.Errorf("tandem bench --database without --subprocess: %v; want an error asking for it", err)
	}
	t.Setenv("TANDEM_DATABASE", "postgres://b:pw-s3cret@127.0.0.1:1/x?connect_timeout=2")
	if _, err := run(t, "bench", "--quick", "--sections", "3", "--subprocess"); err == nil ||
		!strings.Contains(err.Error(), "--database") || strings.Contains(err.Error(), "pw-s3cret") {
		t.Errorf("tandem bench --subprocess, TANDEM_DATABASE unreachable: %v; want an error naming --database, no password", err)
	}
}

// TestBenchSubprocessQuick runs `tandem bench --subprocess --quick` end to
// end: the sandboxes and nodes are this test binary re-run as tandem
// (childEnv), and the report must carry figures measured on them.
func TestBenchSubprocessQuick(t *testing.T) {
	skipShortBench(t)
	if runtime.GOOS != "linux" {
		t.Skip("section 3 reads the children's /proc")
	}
	t.Setenv(childEnv, "1")
	out, err := run(t, "bench", "--subprocess", "--quick", "--json", "--data", t.TempDir())
	if err != nil {
		t.Fatalf("tandem bench --subprocess --quick --json: %v", err)
	}
	type side struct {
		Reads           int64            `json:"reads"`
		Writes          int64            `json:"writes"`
		ByEndpoint      map[string]int64 `json:"by_endpoint"`
		SandboxRequests int64            `json:"sandbox_requests"`
	}
	var r struct {
		Mode    string `json:"mode"`
		Targets []struct {
			Name     string   `json:"name"`
			Measured *float64 `json:"measured"`
			Reason   string   `json:"reason"`
		} `json:"targets"`
		Bulk *struct {
			Tasks        int     `json:"tasks"`
			Synchronized int     `json:"synchronized"`
			CallsPerTask float64 `json:"calls_per_task"`
			Source       side    `json:"source"`
			Destination  side    `json:"destination"`
		} `json:"bulk_sync"`
		Latency *struct {
			Edits        int `json:"edits"`
			Synchronized int `json:"synchronized"`
			Missed       int `json:"missed"`
		} `json:"change_latency"`
		Engine *struct {
			Synchronized int     `json:"synchronized"`
			CPUMSPerTask float64 `json:"cpu_ms_per_task"`
			PeakRSSMB    float64 `json:"peak_rss_mb"`
			Counted      string  `json:"counted"`
			Processes    []struct {
				Name      string  `json:"name"`
				PID       int     `json:"pid"`
				CPUMS     float64 `json:"cpu_ms"`
				PeakRSSMB float64 `json:"peak_rss_mb"`
			} `json:"processes"`
		} `json:"engine_overhead"`
		Scale *struct {
			Synchronized int      `json:"synchronized"`
			SyncedItems  int      `json:"synced_items"`
			PeakRSSMB    float64  `json:"peak_rss_mb"`
			HeapMB       *float64 `json:"heap_mb"`
			Counted      string   `json:"counted"`
		} `json:"scale"`
		NotRun      map[string]string `json:"not_run"`
		NotMeasured map[string]string `json:"not_measured"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("the output is not the JSON report: %v\n%s", err, out)
	}
	if r.Mode != "subprocess" || len(r.NotRun) != 2 || r.NotRun["5"] == "" || r.NotRun["6"] == "" {
		t.Errorf("mode %q, not run %v; want subprocess with sections 1 to 4 run (5 and 6 only when named)", r.Mode, r.NotRun)
	}
	if b := r.Bulk; b == nil || b.Tasks != 10 || b.Synchronized != 10 || b.CallsPerTask <= 0 ||
		b.Source.Reads == 0 || b.Destination.Writes == 0 || b.Source.SandboxRequests < b.Source.Reads ||
		b.Destination.ByEndpoint["POST /tasks"] != 10 {
		t.Errorf("bulk sync: %+v; want 10 tasks synchronized, calls counted on both sides, 10 POST /tasks", b)
	}
	if l := r.Latency; l == nil || l.Edits != 5 || l.Synchronized+l.Missed != 5 || l.Synchronized == 0 {
		t.Errorf("change latency: %+v; want 5 edits counted, some synchronized", l)
	}
	e := r.Engine
	if e == nil || e.Synchronized != 10 || e.CPUMSPerTask <= 0 || e.PeakRSSMB <= 0 || len(e.Processes) != 2 ||
		!strings.Contains(e.Counted, "tandem serve") {
		t.Fatalf("engine overhead: %+v; want 10 tasks, CPU and RSS of the two node processes", e)
	}
	for _, p := range e.Processes {
		if p.PID <= 0 || p.PeakRSSMB <= 0 {
			t.Errorf("engine overhead process %+v: want a pid and a peak RSS", p)
		}
		// The children were waited for: their pids are gone.
		if err := syscall.Kill(p.PID, 0); err == nil {
			t.Errorf("%s (pid %d) still runs after the bench returned", p.Name, p.PID)
		}
	}
	if s := r.Scale; s == nil || s.Synchronized != 200 || s.SyncedItems != 200 || s.PeakRSSMB <= 0 || s.HeapMB != nil ||
		r.NotMeasured["scale.heap_mb"] == "" || !strings.Contains(s.Counted, "tandem serve") {
		t.Errorf("scale: %+v, not measured %v; want 200 twins, the node's RSS, the heap said not measured", s, r.NotMeasured)
	}
	want := []string{"api_calls_per_task", "bulk_rate_limit_share", "bulk_unrecovered_429s", "change_latency_p95",
		"engine_tasks_per_second", "engine_cpu_ms_per_task", "peak_rss_10000_twins",
		"idle_calls_per_connection_per_minute_polling", "first_change_after_idle_p95_polling",
		"idle_calls_per_connection_per_minute_webhooks", "change_latency_p95_webhooks",
		"replicas_throughput_3_to_1", "replicas_failover_seconds"}
	var got []string
	for i, tg := range r.Targets {
		got = append(got, tg.Name)
		// Sections 1 to 4 measure the first seven; section 5 didn't run.
		if measured := i < 7; (tg.Measured != nil) != measured {
			t.Errorf("target %s measured %v, want %v (%s)", tg.Name, tg.Measured != nil, measured, tg.Reason)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("targets %v, want %v", got, want)
	}
	for _, secret := range []string{"tdm_admin", "Token", "Bearer"} {
		if strings.Contains(out, secret) {
			t.Errorf("the report shows %q", secret)
		}
	}
}

// TestBenchSubprocessTable checks the table says which processes section
// 3 counted and why the sections left out didn't run.
func TestBenchSubprocessTable(t *testing.T) {
	skipShortBench(t)
	if runtime.GOOS != "linux" {
		t.Skip("section 3 reads the children's /proc")
	}
	t.Setenv(childEnv, "1")
	out, err := run(t, "bench", "--subprocess", "--quick", "--sections", "3", "--engine-tasks", "5")
	if err != nil {
		t.Fatalf("tandem bench --subprocess --sections 3: %v", err)
	}
	for _, s := range []string{"mode: subprocess", "the `tandem serve` processes (Acme pid ", "Globex node (pid ",
		"5 of 5", "not run: not selected (--sections)"} {
		if !strings.Contains(out, s) {
			t.Errorf("the table lacks %q:\n%s", s, out)
		}
	}
	if _, err := run(t, "bench", "--subprocess", "--cpuprofile", filepath.Join(t.TempDir(), "cpu.pprof")); err == nil {
		t.Error("--subprocess --cpuprofile succeeded; want an error (the engine isn't in this process)")
	}
}

// idleReport is the part of the JSON report section 5 fills.
type idleReport struct {
	Idle *struct {
		Connections                 int              `json:"connections"`
		PollMaxMS                   float64          `json:"poll_max_ms"`
		CallsPerConnectionPerMinute float64          `json:"calls_per_connection_per_minute"`
		ByEndpoint                  map[string]int64 `json:"by_endpoint"`
		Samples                     int              `json:"samples"`
		Synchronized                int              `json:"synchronized"`
		FirstChange                 struct {
			P95 float64 `json:"p95_ms"`
		} `json:"first_change"`
	} `json:"idle"`
	NotRun  map[string]string `json:"not_run"`
	Targets []struct {
		Name     string   `json:"name"`
		Measured *float64 `json:"measured"`
	} `json:"targets"`
}

// checkIdle checks a quick section 5 run of two connections with one
// sample: both measured, and backed off (fixed polling every 200 ms is
// about 600 calls per connection per minute, backed off to 800 ms about
// 150).
func checkIdle(t *testing.T, out string) {
	t.Helper()
	var r idleReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("the output is not the JSON report: %v\n%s", err, out)
	}
	d := r.Idle
	if d == nil || d.Connections != 2 || d.PollMaxMS != 800 || d.Samples != 1 || d.Synchronized != 1 || d.FirstChange.P95 <= 0 {
		t.Fatalf("idle section: %+v; want 2 connections at poll-max 800 ms, 1 first change synchronized", d)
	}
	if d.CallsPerConnectionPerMinute <= 0 || d.CallsPerConnectionPerMinute > 300 || d.ByEndpoint["GET /events"] == 0 {
		t.Errorf("idle calls: %.1f per connection per minute, by endpoint %v; want Events calls, backed off (about 150, not 600)",
			d.CallsPerConnectionPerMinute, d.ByEndpoint)
	}
	if r.NotRun["1"] == "" || r.NotRun["4"] == "" {
		t.Errorf("not run: %v; want sections 1 to 4 left out", r.NotRun)
	}
	measured := map[string]bool{}
	for _, tg := range r.Targets {
		measured[tg.Name] = tg.Measured != nil
	}
	if !measured["idle_calls_per_connection_per_minute_polling"] || !measured["first_change_after_idle_p95_polling"] {
		t.Errorf("the idle targets are not measured: %+v", r.Targets)
	}
}

// TestBenchIdle runs section 5 in process, small and quick; by default it
// doesn't run.
func TestBenchIdle(t *testing.T) {
	skipShortBench(t)
	out, err := run(t, "bench", "--quick", "--sections", "5", "--idle-connections", "2", "--idle-samples", "1",
		"--json", "--data", t.TempDir())
	if err != nil {
		t.Fatalf("tandem bench --quick --sections 5: %v", err)
	}
	checkIdle(t, out)
	if _, err := run(t, "bench", "--quick", "--sections", "5", "--idle-window", "0s"); err == nil ||
		!strings.Contains(err.Error(), "--idle-window") {
		t.Errorf("tandem bench --idle-window 0s: %v; want refused, naming the flag", err)
	}
}

// TestBenchSubprocessIdle runs section 5 on child processes: the
// sandboxes get the extra projects (--extra-projects) and the nodes
// --poll-max.
func TestBenchSubprocessIdle(t *testing.T) {
	skipShortBench(t)
	t.Setenv(childEnv, "1")
	out, err := run(t, "bench", "--subprocess", "--quick", "--sections", "5", "--idle-connections", "2",
		"--idle-samples", "1", "--json", "--data", t.TempDir())
	if err != nil {
		t.Fatalf("tandem bench --subprocess --quick --sections 5: %v", err)
	}
	checkIdle(t, out)
}

// skipShortBench leaves a whole bench run out of -short: tens of seconds
// each under the race detector, which finds nothing in them the engine's
// and the bench package's own race runs don't; the plain run covers them.
func skipShortBench(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("a whole bench run: left out of -short (the plain run covers it)")
	}
}
