package engine

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/store"
)

func TestMedianStages(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mark := func(ev, stage string, ms int) store.StageMark {
		return store.StageMark{EventID: ev, Stage: stage, At: t0.Add(time.Duration(ms) * time.Millisecond)}
	}
	marks := []store.StageMark{
		// e1: a send that failed once (sending logged twice) before it
		// went through.
		mark("e1", StagePreparing, 0), mark("e1", StageSending, 10), mark("e1", StageSending, 500),
		mark("e1", StageWaiting, 1010), mark("e1", StageFinalizing, 1110), mark("e1", StageSynchronized, 1120),
		// e2: done quickly.
		mark("e2", StagePreparing, 0), mark("e2", StageSending, 30), mark("e2", StageWaiting, 60),
		mark("e2", StageFinalizing, 260), mark("e2", StageSynchronized, 262),
		// e3: still sending; its Sending has no end yet.
		mark("e3", StagePreparing, 0), mark("e3", StageSending, 20),
	}
	got := medianStages(marks)
	want := map[string]time.Duration{
		StagePreparing:  20 * time.Millisecond,  // 10, 20, 30
		StageSending:    515 * time.Millisecond, // 1000 and 30, averaged
		StageWaiting:    150 * time.Millisecond, // 100 and 200
		StageFinalizing: 6 * time.Millisecond,   // 10 and 2
	}
	if !maps.Equal(got, want) {
		t.Errorf("medianStages = %v, want %v", got, want)
	}
	if medianStages(nil) != nil {
		t.Error("no marks gave medians")
	}
}

func TestConnectionStatsJSON(t *testing.T) {
	in := ConnectionStats{ConnectionID: "c1", SyncedItems: 3, EventsOut: 4, EventsIn: 1, Synchronized: 4, Failing: 1,
		LastSync:    time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC),
		MedianStage: map[string]time.Duration{StagePreparing: 1234567, StageWaiting: 3 * time.Second}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(data); !strings.Contains(s, `"median_stage_ms":{"preparing":1.234567,"waiting":3000}`) || !strings.Contains(s, `"synced_items":3`) {
		t.Errorf("JSON: %s", s)
	}
	var out ConnectionStats
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(out.MedianStage, in.MedianStage) || !out.LastSync.Equal(in.LastSync) || out.SyncedItems != 3 || out.Failing != 1 {
		t.Errorf("round trip: %+v, want %+v", out, in)
	}
	empty, _ := json.Marshal(ConnectionStats{ConnectionID: "c2"})
	if strings.Contains(string(empty), "median_stage_ms") || strings.Contains(string(empty), "last_sync") {
		t.Errorf("empty stats JSON: %s", empty)
	}
}
