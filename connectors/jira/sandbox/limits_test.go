package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	e := newEnv(t, []Option{WithRateLimit(60)})
	e.pin(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	for i := range 6 { // the burst: a tenth of the minute's budget
		e.ok(200, "GET", "/myself", nil)
		_ = i
	}
	r := e.fails(429, "Rate limit exceeded", req{method: "GET", path: "/myself"})
	h := r.header
	if h.Get("Retry-After") != "2" || h.Get("X-RateLimit-Limit") != "60" || h.Get("X-RateLimit-Remaining") != "0" ||
		h.Get("RateLimit-Reason") != "jira-quota-tenant-based" || h.Get("X-RateLimit-Reset") != "2026-06-01T12:00:02Z" {
		t.Errorf("429 headers: %v", h)
	}
	if r.obj()["status"] != 429.0 {
		t.Errorf("429 body %s", r.raw)
	}
	// Hammering digs deeper: rejected requests count against the budget.
	r = e.do(req{method: "GET", path: "/myself"})
	if r.status != 429 || r.header.Get("Retry-After") != "3" {
		t.Errorf("second rejection: %d Retry-After %s", r.status, r.header.Get("Retry-After"))
	}
	if n := e.sb.RejectedRateLimited(); n != 2 {
		t.Errorf("RejectedRateLimited %d, want 2", n)
	}
	// Waiting Retry-After is enough.
	e.sb.clk.advance(3 * time.Second)
	e.ok(200, "GET", "/myself", nil)
	// Unauthenticated requests are refused before they reach the budget.
	e.fails(401, "Client must be authenticated", req{method: "GET", path: "/myself", user: "a@b.c", pass: "x"})
	e.sb.SetRateLimit(0)
	for range 20 {
		e.ok(200, "GET", "/serverInfo", nil)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t, []Option{WithFaultRate(1)})
	seen := map[string]int{}
	for i := range 30 {
		r, err := http.NewRequest("POST", e.srv.URL+apiPrefix+"/issue", strings.NewReader(
			fmt.Sprintf(`{"fields":{"project":{"key":"OPS"},"issuetype":{"name":"Task"},"summary":"fault %d"}}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		r.SetBasicAuth(e.sb.Email(), e.sb.Token())
		r.Header.Set("Content-Type", "application/json")
		resp, err := e.hc.Do(r)
		if err != nil {
			seen["cut"]++
			continue
		}
		resp.Body.Close()
		seen[fmt.Sprint(resp.StatusCode)]++
		if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}
	if seen["500"] == 0 || seen["503"] == 0 || seen["cut"] == 0 || seen["500"]+seen["503"]+seen["cut"] != 30 {
		t.Errorf("faults seen %v", seen)
	}
	if n := e.sb.Requests(); n != 30 {
		t.Errorf("Requests() = %d, want 30", n)
	}
	// Nothing was written.
	e.sb.SetFaultRate(0)
	if got := e.search(`project = OPS AND summary ~ "fault"`, nil); len(got) != 0 {
		t.Errorf("a faulted request wrote: %v", got)
	}
}

func TestLatency(t *testing.T) {
	e := newEnv(t, nil)
	e.sb.SetLatency(30 * time.Millisecond)
	start := time.Now()
	e.ok(200, "GET", "/serverInfo", nil)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("answer after %v, want at least 30ms", d)
	}
}

func TestConcurrentWrites(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	const n = 20
	keys := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, keys[i] = e.create("KAN", "Task", fmt.Sprintf("parallel %d", i), nil)
			e.ok(201, "POST", "/issue/"+keys[i]+"/comment", map[string]any{"body": doc("hi")})
		})
	}
	wg.Wait()
	uniq := map[string]bool{}
	for _, k := range keys {
		uniq[k] = true
	}
	if len(uniq) != n {
		t.Errorf("keys not unique: %v", keys)
	}
	r := e.ok(200, "POST", "/search/jql", map[string]any{"jql": "project = KAN ORDER BY updated ASC", "fields": []string{"updated"}})
	var prev time.Time
	for _, is := range r.list("issues") {
		u := mustTime(t, is["fields"].(map[string]any)["updated"])
		if !u.After(prev) {
			t.Errorf("updated %v not after %v: timestamps must never repeat", u, prev)
		}
		prev = u
	}
}
