package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestErrorCodesRoundTrip: every code the node answers with maps back to
// the sentinel that made it, so errors.Is holds across the API.
func TestErrorCodesRoundTrip(t *testing.T) {
	for _, e := range errorCodes() {
		wrapped := fmt.Errorf("context: %w", e.err)
		code, status := ErrorCode(wrapped)
		if code != e.code || status != e.status {
			t.Errorf("ErrorCode(%v) = %q %d, want %q %d", e.err, code, status, e.code, e.status)
		}
		if got := ErrorForCode(code); got != e.err {
			t.Errorf("ErrorForCode(%q) = %v, want %v", code, got, e.err)
		}
	}
	if code, status := ErrorCode(errors.New("something else")); code != "internal" || status != http.StatusInternalServerError {
		t.Errorf("an unknown error is %q %d, want internal 500", code, status)
	}
	if ErrorForCode("internal") != nil || ErrorForCode("") != nil {
		t.Error("a code with no sentinel maps to one")
	}
}

// TestPathsEscape: an id or ref with a slash or a query character stays
// one path segment or one query value.
func TestPathsEscape(t *testing.T) {
	for got, want := range map[string]string{
		ConnectionPath("a/b"):                                   "/api/v1/admin/connections/a%2Fb",
		ConnectionActionPath("c 1", ActionStats):                "/api/v1/admin/connections/c%201/stats",
		ConnectionActionPath("a/b", ActionRules):                "/api/v1/admin/connections/a%2Fb/rules",
		SyncPath("c?1", "e#2"):                                  "/api/v1/admin/syncs/c%3F1/e%232",
		BulkPath("c/1", "b 2", 0):                               "/api/v1/admin/bulks/c%2F1/b%202",
		BulkPath("c", "b", 10):                                  "/api/v1/admin/bulks/c/b?events=10",
		StatusPath("OPS-1&x", ""):                               "/api/v1/admin/status?ref=OPS-1%26x",
		StatusPath("1", "conn"):                                 "/api/v1/admin/status?connection=conn&ref=1",
		ItemsPath("p", 0):                                       "/api/v1/admin/items?project=p",
		ItemsPath("p", 5):                                       "/api/v1/admin/items?limit=5&project=p",
		ConnectionActionPath("c", ActionEvents) + LimitQuery(0): "/api/v1/admin/connections/c/events",
		ConnectionActionPath("c", ActionEvents) + LimitQuery(3): "/api/v1/admin/connections/c/events?limit=3",
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

// TestConnectionStatsJSON: the medians travel in milliseconds and come
// back as the same durations.
func TestConnectionStatsJSON(t *testing.T) {
	in := ConnectionStats{ConnectionID: "c", Synchronized: 2, MedianStage: map[string]time.Duration{StageSending: 1500 * time.Microsecond}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if ms := raw["median_stage_ms"].(map[string]any)[StageSending]; ms != 1.5 {
		t.Errorf("median_stage_ms.sending = %v, want 1.5 in %s", ms, data)
	}
	var out ConnectionStats
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.ConnectionID != "c" || out.Synchronized != 2 || out.MedianStage[StageSending] != in.MedianStage[StageSending] {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}
}

// TestParseMode: a mode as an admin types it; "" is Basic, and an unknown
// one gets one line listing the modes.
func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeBasic, "basic": ModeBasic, " Script ": ModeScript} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseMode("fancy")
	if !errors.Is(err, ErrBadRequest) || err.Error() != `unknown mode "fancy": the modes are basic, script` {
		t.Errorf("ParseMode(fancy): err = %v", err)
	}
	if ModeBasic.Name() != "Basic" || ModeScript.Name() != "Script" {
		t.Errorf("names: %q %q", ModeBasic.Name(), ModeScript.Name())
	}
}

// TestSpan: an age or a wait in a few cells, never negative.
func TestSpan(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {45 * time.Second, "45s"}, {12 * time.Minute, "12m"},
		{3 * time.Hour, "3h"}, {47 * time.Hour, "47h"}, {72 * time.Hour, "3d"},
	} {
		if got := Span(tc.d); got != tc.want {
			t.Errorf("Span(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
