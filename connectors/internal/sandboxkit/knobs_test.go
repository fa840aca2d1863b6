package sandboxkit

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCheckKnobs(t *testing.T) {
	if err := CheckKnobs(0, 0, 0); err != nil {
		t.Errorf("zero knobs: %v", err)
	}
	if err := CheckKnobs(1500, time.Second, 1); err != nil {
		t.Errorf("valid knobs: %v", err)
	}
	for name, err := range map[string]error{
		"rate limit":  CheckKnobs(-1, 0, 0),
		"latency":     CheckKnobs(0, -1, 0),
		"fault rate":  CheckKnobs(0, 0, 1.5),
		"fault rate ": CheckKnobs(0, 0, math.NaN()),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), strings.TrimSpace(name)) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

// faultServer answers 200 unless the knobs inject a fault, which it writes
// as "fault <status>".
func faultServer(t *testing.T, k *Knobs, rng *Rand) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k.InjectFault(w, rng, func(w http.ResponseWriter, status int) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, "fault")
		}) {
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestInjectFault(t *testing.T) {
	var k Knobs
	srv := faultServer(t, &k, NewRand(7))
	hc := srv.Client()
	get := func() string {
		resp, err := hc.Get(srv.URL)
		if err != nil {
			return "cut"
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return http.StatusText(resp.StatusCode) + " " + string(b)
	}
	for range 20 {
		if got := get(); got != "OK ok" {
			t.Fatalf("fault with a zero rate: %s", got)
		}
	}
	k.SetFaultRate(7) // clamped to 1
	seen := map[string]int{}
	for range 60 {
		seen[get()]++
	}
	want := []string{"Internal Server Error fault", "Service Unavailable fault", "cut"}
	total := 0
	for _, w := range want {
		if seen[w] == 0 {
			t.Errorf("never saw %q in %v", w, seen)
		}
		total += seen[w]
	}
	if total != 60 {
		t.Errorf("a request escaped the faults at rate 1: %v", seen)
	}
	k.SetFaultRate(math.NaN())
	if got := get(); got != "OK ok" {
		t.Errorf("NaN rate is not 0: %s", got)
	}
}

// TestCutWithoutHijack: a writer that cannot be hijacked aborts the
// handler, which net/http turns into a reset.
func TestCutWithoutHijack(t *testing.T) {
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	Cut(httptest.NewRecorder())
	t.Error("Cut returned")
}

func TestWait(t *testing.T) {
	var k Knobs
	r := httptest.NewRequest("GET", "/", nil)
	if !k.Wait(r) {
		t.Error("no latency, live client: Wait false")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	gone := r.WithContext(ctx)
	if k.Wait(gone) {
		t.Error("no latency, client gone: Wait true")
	}
	// A latency far beyond the test's life: Wait must return as soon as the
	// client goes, not when the timer fires.
	k.SetLatency(time.Hour)
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { done <- k.Wait(r.WithContext(ctx)) }()
	cancel()
	select {
	case ok := <-done:
		if ok {
			t.Error("client went away during the latency: Wait true")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait ignored the client going away")
	}
	k.SetLatency(-time.Second) // clamped to 0
	if !k.Wait(r) {
		t.Error("negative latency is not 0")
	}
	k.SetLatency(time.Millisecond)
	if !k.Wait(r) {
		t.Error("short latency, live client: Wait false")
	}
}

func TestCounters(t *testing.T) {
	var k Knobs
	for range 3 {
		k.CountRequest()
	}
	k.CountRejected()
	if k.Requests() != 3 || k.Rejected() != 1 {
		t.Errorf("Requests %d Rejected %d, want 3 and 1", k.Requests(), k.Rejected())
	}
}
