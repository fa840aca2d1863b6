package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/api"
	"github.com/tandem-sync/tandem/internal/demo"
)

// lockedLog is a log sink safe for concurrent handlers.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// serveWith serves node's API with lim on a loopback port of its own, and
// returns its URL and its log.
func serveWith(t *testing.T, node *demo.Node, lim api.Limits) (string, *lockedLog) {
	t.Helper()
	var log lockedLog
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewServer(api.NewWithLimits(node.Node, slog.New(slog.NewTextHandler(&log, nil)), lim), api.ServerOptions{})
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), &log
}

// metric reads one sample of url's /metrics, 0 when absent.
func metric(t *testing.T, url, sample string) int {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), sample+" "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

func do(t *testing.T, req *http.Request) (int, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestRefusalsAreCountedNotEachLogged: a flood of refused requests costs
// the log a line per reason, and each one is counted in /metrics.
func TestRefusalsAreCountedNotEachLogged(t *testing.T) {
	// An hour between lines: the test asserts one line for the flood,
	// however long a busy machine takes to send it.
	url, log := serveWith(t, startNode(t), api.Limits{RefusedLogEvery: time.Hour})
	const flood = 200
	for range flood {
		req, _ := http.NewRequest(http.MethodPost, url+engine.PathEvents, strings.NewReader("{}"))
		if st, _ := do(t, req); st != http.StatusUnauthorized {
			t.Fatalf("unsigned: %d", st)
		}
		req, _ = http.NewRequest(http.MethodGet, url+"/api/v1/admin/connections", nil)
		req.Header.Set("Authorization", "Bearer tdm_admin_wrong_wrong_wrong")
		if st, _ := do(t, req); st != http.StatusUnauthorized {
			t.Fatalf("wrong admin token: %d", st)
		}
	}
	if n := metric(t, url, `tandem_peer_refused_total{reason="unsigned"}`); n != flood {
		t.Errorf("unsigned refusals counted: %d, want %d", n, flood)
	}
	if n := metric(t, url, `tandem_requests_refused_total{api="admin",reason="admin_token"}`); n != flood {
		t.Errorf("admin token refusals counted: %d, want %d", n, flood)
	}
	logged := log.String()
	if n := strings.Count(logged, "peer request refused"); n != 1 {
		t.Errorf("%d log lines for %d unsigned requests, want 1:\n%s", n, flood, logged)
	}
	if n := strings.Count(logged, "admin request refused"); n != 1 {
		t.Errorf("%d log lines for %d wrong admin tokens, want 1:\n%s", n, flood, logged)
	}
}

// TestCancelledAdminCheckIsNotAWrongToken: a request that went away while
// its token was being checked is not logged as a wrong token.
func TestCancelledAdminCheckIsNotAWrongToken(t *testing.T) {
	n := startNode(t)
	var log lockedLog
	h := api.New(n.Node, slog.New(slog.NewTextHandler(&log, nil)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/v1/admin/connections", nil)
	req.Header.Set("Authorization", "Bearer "+n.AdminToken)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if strings.Contains(log.String(), "admin") {
		t.Errorf("a cancelled check was logged: %s", log.String())
	}
	// The same with the caller still there is a wrong token, logged.
	req = httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/v1/admin/connections", nil)
	req.Header.Set("Authorization", "Bearer tdm_admin_wrong_wrong_wrong")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(log.String(), "admin_token") {
		t.Errorf("a wrong token: %d, logged %q", rec.Code, log.String())
	}
}

// TestPublicEndpointsAreBounded: the unauthenticated endpoints take a
// small body, and a rate per client address past which they answer 429
// with Retry-After, without reading the body.
func TestPublicEndpointsAreBounded(t *testing.T) {
	url, _ := serveWith(t, startNode(t), api.Limits{PublicPerSecond: 0.01, PublicBurst: 3})
	big := strings.NewReader(`{"connection_id":"` + strings.Repeat("x", 20<<10) + `"}`)
	req, _ := http.NewRequest(http.MethodPost, url+engine.PathRedeem, big)
	if st, _ := do(t, req); st != http.StatusRequestEntityTooLarge {
		t.Errorf("a 20 KB redemption: %d, want 413", st)
	}
	for i := range 2 {
		req, _ := http.NewRequest(http.MethodGet, url+engine.PathInstance, nil)
		if st, _ := do(t, req); st != http.StatusOK {
			t.Errorf("instance %d: %d, want 200", i+2, st)
		}
	}
	req, _ = http.NewRequest(http.MethodPost, url+engine.PathCheckInvitation, strings.NewReader("{}"))
	st, h := do(t, req)
	if st != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Errorf("past the burst: %d, Retry-After %q; want 429 with one", st, h.Get("Retry-After"))
	}
	if n := metric(t, url, `tandem_requests_refused_total{api="public",reason="rate_limited"}`); n != 1 {
		t.Errorf("rate-limited requests counted: %d, want 1", n)
	}
}

// TestPeerSlotsBoundRequestsOfAConnection: requests naming a real
// connection (signed or not, that is known only after the body) take a
// slot while their body is read; past the connection's slots the answer
// is 503 with Retry-After, which the sender retries.
func TestPeerSlotsBoundRequestsOfAConnection(t *testing.T) {
	n := startNode(t)
	ctx := t.Context()
	c, err := n.Connect(ctx, engine.ConnectRequest{To: n.URL, Project: "Company", DestProject: "Test"})
	if err != nil {
		t.Fatal(err)
	}
	url, _ := serveWith(t, n, api.Limits{PeerPerConnection: 1})
	forged := func(body io.Reader) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+engine.PathEvents, body)
		req.Header.Set(engine.HeaderConnection, c.ID)
		req.Header.Set(engine.HeaderTimestamp, strconv.FormatInt(time.Now().UnixMilli(), 10))
		req.Header.Set(engine.HeaderIdempotency, "x")
		req.Header.Set(engine.HeaderSignature, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		return req
	}
	// The slow one: its body never ends until the test says so.
	pr, pw := io.Pipe()
	slow := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(forged(pr))
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	pw.Write([]byte("{"))
	busy := false
	deadline := time.Now().Add(5 * time.Second)
	for !busy && time.Now().Before(deadline) {
		st, h := do(t, forged(strings.NewReader("{}")))
		switch {
		case st == http.StatusServiceUnavailable && h.Get("Retry-After") != "":
			busy = true
		case st != http.StatusUnauthorized: // the slow one has no slot yet
			t.Fatalf("a second request: %d", st)
		}
	}
	if !busy {
		t.Error("a second request of the connection was never answered 503 while the first held its slot")
	}
	pw.Write([]byte("}"))
	pw.Close()
	if st := <-slow; st != http.StatusUnauthorized {
		t.Errorf("the slow forged request: %d, want 401 once its body was in", st)
	}
	// Its slot is free again.
	if st, _ := do(t, forged(strings.NewReader("{}"))); st != http.StatusUnauthorized {
		t.Errorf("after the slow one: %d, want 401", st)
	}
}

// TestOneConnectionCantTakeTheBodyBudget: a connection id travels in every
// request, so forgeries naming one are read before their MAC fails. While
// they hold that connection's share of the body budget, its next large
// body is answered 503, and another connection's is still read (and,
// forged too, refused 401 once in).
func TestOneConnectionCantTakeTheBodyBudget(t *testing.T) {
	n := startNode(t)
	ctx := t.Context()
	var conns []engine.Connection
	for range 2 {
		c, err := n.Connect(ctx, engine.ConnectRequest{To: n.URL, Project: "Company", DestProject: "Test"})
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// Room for four largest bodies in all, two of one connection.
	url, _ := serveWith(t, n, api.Limits{PeerBodyBytes: 4 * (engine.MaxPeerBody + 1)})
	forged := func(c engine.Connection, body io.Reader) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+engine.PathEvents, body)
		req.ContentLength = engine.MaxPeerBody
		req.Header.Set(engine.HeaderConnection, c.ID)
		req.Header.Set(engine.HeaderTimestamp, strconv.FormatInt(time.Now().UnixMilli(), 10))
		req.Header.Set(engine.HeaderIdempotency, "x")
		req.Header.Set(engine.HeaderSignature, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		return req
	}
	// Two slow ones of the first connection, their bodies never ending
	// until the test is over. One that arrived while a probe below held
	// part of the share was answered 503 (or cut): it comes again.
	done := make(chan struct{})
	var slow sync.WaitGroup
	t.Cleanup(func() { close(done); slow.Wait() })
	for range 2 {
		slow.Go(func() {
			for {
				pr, pw := io.Pipe()
				go pw.Write([]byte("{"))
				go func() { <-done; pw.CloseWithError(io.ErrUnexpectedEOF) }()
				resp, err := http.DefaultClient.Do(forged(conns[0], pr))
				if err == nil {
					resp.Body.Close()
				}
				pw.CloseWithError(io.ErrUnexpectedEOF)
				select {
				case <-done:
					return
				default:
				}
				// Answered 503 before its body was read, the request may
				// also end in an error (the server closed the connection
				// while the body was being written): it comes again too.
				if err == nil && resp.StatusCode != http.StatusServiceUnavailable {
					return
				}
			}
		})
	}
	busy := false
	deadline := time.Now().Add(10 * time.Second)
	for !busy && time.Now().Before(deadline) {
		switch st, _ := do(t, forged(conns[0], newLazyBody(engine.MaxPeerBody))); st {
		case http.StatusServiceUnavailable:
			busy = true
		case http.StatusUnauthorized: // the slow ones hold nothing yet
		default:
			t.Fatalf("a third large body of the first connection: %d", st)
		}
	}
	if !busy {
		t.Fatal("a third large body of the first connection was never answered 503 while two held its share")
	}
	if st, _ := do(t, forged(conns[1], newLazyBody(engine.MaxPeerBody))); st != http.StatusUnauthorized {
		t.Errorf("a large body of the other connection meanwhile: %d, want it read and refused 401", st)
	}
}

// TestFailingHealthIsLoggedInModeration: a probe every second on a broken
// node says "not ok" every time, and the log says why once in a while, not
// once per probe.
func TestFailingHealthIsLoggedInModeration(t *testing.T) {
	n := startNode(t)
	url, log := serveWith(t, n, api.Limits{RefusedLogEvery: time.Hour})
	if err := n.Node.Store().DB().Close(); err != nil { // the store gone: not ok
		t.Fatal(err)
	}
	const probes = 50
	for range probes {
		req, _ := http.NewRequest(http.MethodGet, url+"/healthz", nil)
		if st, _ := do(t, req); st != http.StatusServiceUnavailable {
			t.Fatalf("healthz with the store closed: %d, want 503", st)
		}
	}
	if n := strings.Count(log.String(), "health check failed"); n != 1 {
		t.Errorf("%d log lines for %d failing probes, want 1:\n%s", n, probes, log.String())
	}
}

// TestRateLimitedWebhookCallKeepsItsTokenOffTheLog: a webhook's URL
// carries its token (the webhook's address); a call refused by the public
// rate limit is logged without it, as the hook handler's own refusals are.
func TestRateLimitedWebhookCallKeepsItsTokenOffTheLog(t *testing.T) {
	url, log := serveWith(t, startNode(t), api.Limits{PublicPerSecond: 0.01, PublicBurst: 1, RefusedLogEvery: time.Nanosecond})
	const token = "tokentokentokentoken0123456789"
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, url+engine.PathHooks+token, strings.NewReader("{}"))
		do(t, req)
	}
	if n := metric(t, url, `tandem_requests_refused_total{api="public",reason="rate_limited"}`); n == 0 {
		t.Fatalf("no webhook call was rate-limited; log:\n%s", log)
	}
	if strings.Contains(log.String(), token) {
		t.Errorf("the log shows a webhook's token:\n%s", log)
	}
}
