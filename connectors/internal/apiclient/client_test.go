package apiclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/apiclient"
)

var errUnknown = errors.New("test: outcome unknown")

// statusError is what the tests' Decode makes of a non-2xx answer.
type statusError struct {
	status  int
	unknown bool
}

func (e *statusError) Error() string {
	return fmt.Sprintf("status %d (unknown %v)", e.status, e.unknown)
}

func (e *statusError) Is(target error) bool { return target == errUnknown && e.unknown }

// serve runs h on loopback and returns a client of it with fast retries and
// no budget; mod adjusts the config.
func serve(t *testing.T, h http.HandlerFunc, mod func(*apiclient.Config)) (*apiclient.Client, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := apiclient.Config{
		Name:          "test",
		Authorization: "Bearer secret",
		MaxReads:      4,
		MaxWrites:     2,
		BackoffBase:   time.Millisecond,
		BackoffMax:    5 * time.Millisecond,
		Decode: func(method, path string, status int, header http.Header, body []byte, unknown bool) error {
			return &statusError{status: status, unknown: unknown}
		},
		ErrOutcomeUnknown: errUnknown,
	}
	if mod != nil {
		mod(&cfg)
	}
	return apiclient.New(cfg), srv.URL
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func get(url string) apiclient.Request {
	return apiclient.Request{Method: http.MethodGet, Path: "/x", URL: url + "/x", Endpoint: "/x"}
}

func create(url string) apiclient.Request {
	return apiclient.Request{Method: http.MethodPost, Path: "/x", URL: url + "/x", Endpoint: "/x",
		Body: []byte(`{}`), Write: true, Create: true}
}

// cut drops the connection without an answer.
func cut(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestRetriesServerErrorsAndCutConnections(t *testing.T) {
	var n atomic.Int32
	c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" || r.Header.Get("Accept") != "application/json" {
			t.Errorf("headers %v", r.Header)
		}
		switch n.Add(1) {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
		case 2:
			cut(w)
		case 3:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 4:
			w.WriteHeader(http.StatusBadGateway)
		default:
			io.WriteString(w, `{"ok":true}`)
		}
	}, func(c *apiclient.Config) {
		// A fresh connection each time: Go's transport itself resends a
		// GET cut on a reused one, and this test is about the client.
		c.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	})
	a, err := c.Send(ctx(t), get(url))
	if err != nil || string(a.Data) != `{"ok":true}` || a.Status != http.StatusOK {
		t.Fatalf("Send = %d %q, %v", a.Status, a.Data, err)
	}
	s := c.Stats()
	if s.Reads != 5 || s.Retries != 4 || s.ByEndpoint["GET /x"] != 5 || s.Writes != 0 {
		t.Errorf("stats = %+v, want 5 reads, 4 of them retries", s)
	}
}

func TestGivesUpAfterMaxRetries(t *testing.T) {
	var n atomic.Int32
	c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}, func(c *apiclient.Config) { c.MaxRetries = 2 })
	_, err := c.Send(ctx(t), get(url))
	var se *statusError
	if !errors.As(err, &se) || se.status != http.StatusServiceUnavailable || se.unknown {
		t.Fatalf("err = %v, want the decoded 503", err)
	}
	if n.Load() != 3 {
		t.Errorf("sent %d times, want 1 + 2 retries", n.Load())
	}
}

func TestCreatesAreNeverSentTwice(t *testing.T) {
	for _, tt := range []struct {
		name    string
		answer  func(http.ResponseWriter)
		decoded bool
	}{
		{"500", func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }, true},
		{"cut", cut, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				n.Add(1)
				tt.answer(w)
			}, nil)
			_, err := c.Send(ctx(t), create(url))
			if !errors.Is(err, errUnknown) {
				t.Errorf("err = %v, want the outcome-unknown sentinel", err)
			}
			var se *statusError
			if errors.As(err, &se) != tt.decoded {
				t.Errorf("err = %v: decoded %v, want %v", err, !tt.decoded, tt.decoded)
			}
			if n.Load() != 1 {
				t.Errorf("a create was sent %d times", n.Load())
			}
		})
	}
}

func TestRetryOnOnlyWhereAsked(t *testing.T) {
	var n atomic.Int32
	c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			w.WriteHeader(http.StatusConflict)
		}
	}, nil)
	if _, err := c.Send(ctx(t), get(url)); err == nil || n.Load() != 1 {
		t.Errorf("a 409 not in RetryOn: err %v after %d requests", err, n.Load())
	}
	req := get(url)
	req.RetryOn = []int{http.StatusConflict}
	if _, err := c.Send(ctx(t), req); err != nil || n.Load() != 3 {
		t.Errorf("a 409 in RetryOn: err %v after %d requests", err, n.Load())
	}
}

func TestRetryAfterHoldsEveryCaller(t *testing.T) {
	var (
		mu       sync.Mutex
		refused  time.Time
		arrivals []time.Time
	)
	c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if refused.IsZero() {
			refused = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		arrivals = append(arrivals, time.Now())
	}, nil)
	cx := ctx(t)
	if _, err := c.Send(cx, get(url)); err != nil {
		t.Fatal(err)
	}
	// A second caller, after the 429, is held off too.
	if _, err := c.Send(cx, get(url)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != 2 {
		t.Fatalf("%d requests after the 429, want 2", len(arrivals))
	}
	for i, at := range arrivals {
		if d := at.Sub(refused); d < time.Second {
			t.Errorf("request %d came %v after a 429 with Retry-After: 1", i+1, d)
		}
	}
	if s := c.Stats(); s.RateLimited != 1 || s.Retries != 1 || s.Reads != 3 {
		t.Errorf("stats = %+v", s)
	}
}

func TestBudgetPacesRequests(t *testing.T) {
	for _, tt := range []struct {
		perMinute int
		share     float64
	}{{1200, 0}, {2400, 0.5}} {
		// 20 a second either way, with a burst of PerMinute/20: the first
		// burst goes at once, the next 20 take a second.
		var n atomic.Int32
		c, url := serve(t, func(w http.ResponseWriter, r *http.Request) { n.Add(1) },
			func(c *apiclient.Config) { c.PerMinute, c.Share = tt.perMinute, tt.share })
		burst := tt.perMinute / 20
		start := time.Now()
		var wg sync.WaitGroup
		for range burst + 20 {
			wg.Go(func() {
				if _, err := c.Send(ctx(t), get(url)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if d := time.Since(start); d < 900*time.Millisecond || d > 10*time.Second {
			t.Errorf("%d a minute at %v: %d requests took %v, want about 1s", tt.perMinute, tt.share, burst+20, d)
		}
		if int(n.Load()) != burst+20 {
			t.Errorf("server saw %d requests", n.Load())
		}
	}
}

func TestBudgetPastTheDeadlineIsNotRetried(t *testing.T) {
	c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {}, func(c *apiclient.Config) { c.PerMinute = 1 })
	cx := ctx(t)
	if _, err := c.Send(cx, get(url)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(cx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.Send(short, get(url)); err == nil || !strings.Contains(err.Error(), "test: GET /x") {
		t.Errorf("err = %v, want the budget's refusal", err)
	}
	if s := c.Stats(); s.Reads != 1 || s.Retries != 0 {
		t.Errorf("stats = %+v: a call the budget can't fit was sent or retried", s)
	}
}

func TestInFlightLimits(t *testing.T) {
	for _, write := range []bool{false, true} {
		limit := 4
		if write {
			limit = 2
		}
		var (
			mu            sync.Mutex
			inFlight, top int
		)
		arrived := make(chan struct{}, 20)
		release := make(chan struct{})
		c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			inFlight++
			top = max(top, inFlight)
			mu.Unlock()
			arrived <- struct{}{}
			<-release
			mu.Lock()
			inFlight--
			mu.Unlock()
		}, nil)
		req := get(url)
		req.Write = write
		var wg sync.WaitGroup
		for range 12 {
			wg.Go(func() {
				if _, err := c.Send(ctx(t), req); err != nil {
					t.Error(err)
				}
			})
		}
		// Let the first wave in, then one request out for each that
		// arrives: a client without limits would have all 12 in flight.
		for range limit {
			<-arrived
		}
		for range 12 - limit {
			release <- struct{}{}
			<-arrived
		}
		close(release)
		wg.Wait()
		if top != limit {
			t.Errorf("write %v: at most %d in flight, want %d", write, top, limit)
		}
	}
}

func TestAnswersAreBounded(t *testing.T) {
	c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 1<<20)
		for range apiclient.MaxResponseBytes>>20 + 1 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}, func(c *apiclient.Config) { c.MaxRetries = -1 })
	if _, err := c.Send(ctx(t), get(url)); err == nil || !strings.Contains(err.Error(), "answer over 64 MB") {
		t.Errorf("err = %v, want the answer refused for its size", err)
	}
}

func TestStreamLeavesTheBodyOpen(t *testing.T) {
	c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "*/*" {
			t.Errorf("Accept = %q", r.Header.Get("Accept"))
		}
		io.WriteString(w, "bytes")
	}, nil)
	req := get(url)
	req.Stream, req.Header = true, http.Header{"Accept": {"*/*"}}
	a, err := c.Send(ctx(t), req)
	if err != nil || a.Body == nil || a.Data != nil {
		t.Fatalf("Send = %+v, %v", a, err)
	}
	defer a.Body.Close()
	if b, _ := io.ReadAll(a.Body); string(b) != "bytes" {
		t.Errorf("body = %q", b)
	}
}

func TestWaitRunsBeforeEveryAttempt(t *testing.T) {
	var n atomic.Int32
	c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}, nil)
	var waits int
	req := get(url)
	req.Wait = func(context.Context) error { waits++; return nil }
	if _, err := c.Send(ctx(t), req); err != nil || waits != 2 {
		t.Errorf("err %v, Wait ran %d times, want 2", err, waits)
	}
	stop := errors.New("stop")
	req.Wait = func(context.Context) error { return stop }
	if _, err := c.Send(ctx(t), req); !errors.Is(err, stop) {
		t.Errorf("err = %v, want Wait's", err)
	}
}

func TestStatsSub(t *testing.T) {
	a := apiclient.Stats{Reads: 5, Writes: 2, Retries: 1, ByEndpoint: map[string]int64{"GET /x": 5, "POST /y": 2}}
	b := apiclient.Stats{Reads: 3, Writes: 2, ByEndpoint: map[string]int64{"GET /x": 3, "POST /y": 2}}
	d := a.Sub(b)
	if d.Reads != 2 || d.Writes != 0 || d.Retries != 1 || d.Total() != 2 || len(d.ByEndpoint) != 1 || d.ByEndpoint["GET /x"] != 2 {
		t.Errorf("Sub = %+v", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "7": 7 * time.Second, "0": 0, "-3": 0, "x": 0, "1.5": 0} {
		if got := apiclient.ParseRetryAfter(http.Header{"Retry-After": {v}}); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	if got := apiclient.ParseRetryAfter(http.Header{"Retry-After": {date}}); got < 80*time.Second || got > 91*time.Second {
		t.Errorf("Retry-After as a date 90 s ahead = %v", got)
	}
}
