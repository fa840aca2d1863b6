package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchQuickJSON runs `tandem bench --quick --json` and checks the
// JSON carries the targets and both measured sections.
func TestBenchQuickJSON(t *testing.T) {
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

// TestBenchRejectsBadFlags checks a nonsense flag fails with an error.
func TestBenchRejectsBadFlags(t *testing.T) {
	if _, err := run(t, "bench", "--tasks", "0"); err == nil {
		t.Error("tandem bench --tasks 0 succeeded; want an error")
	}
}
