package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana/asanatest"
)

func TestRateLimitOverHTTP(t *testing.T) {
	e := newEnv(t, WithRateLimit(30)) // 0.5 per second, burst 3
	var ok, limited int
	for i := 0; i < 20 && limited == 0; i++ {
		r := e.call("GET", "/users/me", nil)
		switch r.status {
		case 200:
			ok++
		case 429:
			limited++
			if n, _ := strconv.Atoi(r.header.Get("Retry-After")); n < 1 {
				t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
			}
			if r.errMessage() != "You have made too many requests recently. Please, be chill." {
				t.Errorf("429 message = %q", r.errMessage())
			}
		default:
			t.Fatalf("status %d", r.status)
		}
	}
	if limited != 1 || ok < 3 {
		t.Fatalf("%d served then %d limited", ok, limited)
	}
	if got := e.sb.RejectedRateLimited(); got != 1 {
		t.Errorf("RejectedRateLimited() = %d", got)
	}
	e.sb.SetRateLimit(0)
	for i := 0; i < 10; i++ {
		e.ok(200, "GET", "/users/me", nil)
	}
}

// TestRateLimitRetryAfter checks the budget arithmetic on a fake clock: a
// client that waits Retry-After is served; rejected requests count.
func TestRateLimitRetryAfter(t *testing.T) {
	l := newLimits(150) // 2.5 per second, burst 15
	t0 := time.Unix(1_000_000, 0)
	for i := 0; i < 15; i++ {
		if _, ok := l.allow("tok", t0); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	retry, ok := l.allow("tok", t0)
	if ok || retry != 1 { // 0.4 s of debt + 0.4 s for a fresh token
		t.Fatalf("past the burst: ok=%v retry=%d", ok, retry)
	}
	if _, ok := l.allow("tok", t0.Add(time.Duration(retry)*time.Second)); !ok {
		t.Fatalf("refused after waiting Retry-After")
	}
	// Hammering digs deeper: each rejection pushes Retry-After further.
	t1 := t0.Add(time.Duration(retry) * time.Second)
	var last int
	for i := 0; i < 10; i++ {
		r, ok := l.allow("tok", t1)
		if ok {
			t.Fatalf("request %d served while over budget", i)
		}
		if r < last {
			t.Fatalf("Retry-After went down from %d to %d", last, r)
		}
		last = r
	}
	if last < 4 {
		t.Errorf("after 10 rejected requests Retry-After is %d, want the debt counted", last)
	}
	if _, ok := l.allow("other", t1); !ok {
		t.Errorf("another token's budget was charged")
	}
}

// TestConcurrentReadLimit holds 50 reads in flight (a long latency keeps
// them there; the sandbox notices when their clients go away), then checks
// the next read is refused.
func TestConcurrentReadLimit(t *testing.T) {
	e := newEnv(t)
	e.sb.SetLatency(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < maxConcurrentReads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+apiPrefix+"/users/me", nil)
			req.Header.Set("Authorization", "Bearer "+e.sb.Token())
			if resp, err := e.hc.Do(req); err == nil {
				resp.Body.Close()
				t.Errorf("held read answered %d", resp.StatusCode)
			}
		}()
	}
	waitFor(t, "50 reads in flight", func() bool { r, _ := e.sb.lim.inFlight(); return r == maxConcurrentReads })
	e.sb.SetLatency(0)
	r := e.call("GET", "/users/me", nil)
	if r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("read beyond the limit: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// Writes have their own limit.
	e.ok(201, "POST", "/tasks", map[string]any{"name": "still fine", "workspace": e.sb.st.ws.gid})
	cancel()
	wg.Wait()
	waitFor(t, "read slots released", func() bool { r, _ := e.sb.lim.inFlight(); return r == 0 })
	e.ok(200, "GET", "/users/me", nil)
	if got := e.sb.RejectedRateLimited(); got != 1 {
		t.Errorf("RejectedRateLimited() = %d, want 1", got)
	}
}

// TestConcurrentWriteLimit holds 15 writes in flight by streaming their
// bodies slowly, then checks the 16th is refused.
func TestConcurrentWriteLimit(t *testing.T) {
	e := newEnv(t)
	ws := e.sb.st.ws.gid
	var wg sync.WaitGroup
	pipes := make([]*io.PipeWriter, maxConcurrentWrites)
	statuses := make([]int, maxConcurrentWrites)
	for i := range pipes {
		pr, pw := io.Pipe()
		pipes[i] = pw
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", e.srv.URL+apiPrefix+"/tasks", pr)
			req.Header.Set(asanatest.ExpectHeader, asanatest.ExpectStreamedBody)
			req.Header.Set("Authorization", "Bearer "+e.sb.Token())
			req.Header.Set("Content-Type", "application/json")
			resp, err := e.hc.Do(req)
			if err != nil {
				t.Errorf("held write: %v", err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	waitFor(t, "15 writes in flight", func() bool { _, w := e.sb.lim.inFlight(); return w == maxConcurrentWrites })
	r := e.call("POST", "/tasks", map[string]any{"name": "one too many", "workspace": ws})
	if r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("write beyond the limit: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	e.ok(200, "GET", "/users/me", nil) // reads have their own limit
	for _, pw := range pipes {
		_, _ = pw.Write([]byte(`{"data":{"name":"held","workspace":"` + ws + `","assignee":"me"}}`))
		_ = pw.Close()
	}
	wg.Wait()
	for i, st := range statuses {
		if st != 201 {
			t.Errorf("held write %d answered %d", i, st)
		}
	}
	// The held writes were applied once released; the refused one was not.
	if n := len(e.ok(200, "GET", "/tasks?assignee=me&workspace="+ws, nil).list()); n != 4+maxConcurrentWrites {
		t.Errorf("%d tasks assigned to me, want %d", n, 4+maxConcurrentWrites)
	}
}

// outcome of one request under fault injection.
func faultOutcome(t *testing.T, e *env, project string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"data": map[string]any{"name": "faulty", "projects": []string{project}}})
	req, _ := http.NewRequest("POST", e.srv.URL+apiPrefix+"/tasks", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.sb.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.hc.Do(req)
	if err != nil {
		return "cut"
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 500 {
		var b struct {
			Errors []struct{ Phrase string } `json:"errors"`
		}
		if json.Unmarshal(raw, &b) != nil || len(b.Errors) == 0 || b.Errors[0].Phrase == "" {
			t.Errorf("500 without a phrase: %s", raw)
		}
	}
	return strconv.Itoa(resp.StatusCode)
}

func TestFaultInjection(t *testing.T) {
	run := func() []string {
		e := newEnv(t, WithFaultRate(0.5), WithRandSeed(42))
		e.sb.SetFaultRate(0) // setup without faults
		test := e.project("Test")
		e.sb.SetFaultRate(0.5)
		var out []string
		counts := map[string]int{}
		for i := 0; i < 60; i++ {
			o := faultOutcome(t, e, test)
			out = append(out, o)
			counts[o]++
		}
		for _, k := range []string{"201", "500", "503", "cut"} {
			if counts[k] == 0 {
				t.Errorf("no %s among 60 requests: %v", k, counts)
			}
		}
		e.sb.SetFaultRate(0)
		// Faults happen before the request is applied: only the 201s
		// created tasks.
		if n := len(e.ok(200, "GET", "/projects/"+test+"/tasks", nil).list()); n != 3+counts["201"] {
			t.Errorf("project has %d tasks after %d successful creates", n, counts["201"])
		}
		if got := e.sb.Requests(); got < 60 {
			t.Errorf("Requests() = %d", got)
		}
		return out
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same rand seed, different faults at request %d: %s vs %s", i, a[i], b[i])
		}
	}
}

func TestLatency(t *testing.T) {
	e := newEnv(t, WithLatency(150*time.Millisecond))
	start := time.Now()
	e.ok(200, "GET", "/users/me", nil)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answer after %v with 150ms latency", d)
	}
	// The latency respects the client going away.
	e.sb.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+apiPrefix+"/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+e.sb.Token())
	if _, err := e.hc.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	waitFor(t, "the abandoned request to leave", func() bool { r, _ := e.sb.lim.inFlight(); return r == 0 })
	e.sb.SetLatency(0)
	e.ok(200, "GET", "/users/me", nil)
}

// TestRefuseWrites: a sandbox refusing writes answers each with a 403 in
// Asana's error body and changes nothing; reads go on; writes work again
// once it is turned off.
func TestRefuseWrites(t *testing.T) {
	e := newEnv(t)
	test := e.project("Test")
	before := len(e.ok(200, "GET", "/projects/"+test+"/tasks", nil).list())
	e.sb.SetRefuseWrites(true)
	e.fails(403, "may read the workspace but not write", "POST", "/tasks", map[string]any{"name": "refused", "projects": []string{test}})
	task := e.ok(200, "GET", "/projects/"+test+"/tasks", nil).list()[0]["gid"].(string)
	e.fails(403, "not write", "PUT", "/tasks/"+task, map[string]any{"name": "renamed"})
	if n := len(e.ok(200, "GET", "/projects/"+test+"/tasks", nil).list()); n != before {
		t.Errorf("%d tasks after refused writes, want %d", n, before)
	}
	e.sb.SetRefuseWrites(false)
	e.ok(201, "POST", "/tasks", map[string]any{"name": "allowed", "projects": []string{test}})
}
