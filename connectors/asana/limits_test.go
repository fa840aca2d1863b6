package asana_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
)

// wireLog records, on the client's side of the wire, when each request left
// and when each answer came back, so tests can see what the client did.
type wireLog struct {
	mu    sync.Mutex
	sent  []time.Time
	got   []time.Time
	after []time.Duration // Retry-After of each answer (0 if none)
	codes []int
}

func (w *wireLog) transport() http.RoundTripper {
	return roundTrip(func(r *http.Request) (*http.Response, error) {
		sent := time.Now()
		resp, err := http.DefaultTransport.RoundTrip(r)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.sent = append(w.sent, sent)
		w.got = append(w.got, time.Now())
		var ra time.Duration
		code := 0
		if err == nil {
			code = resp.StatusCode
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				ra = time.Duration(s) * time.Second
			}
		}
		w.after = append(w.after, ra)
		w.codes = append(w.codes, code)
		return resp, err
	})
}

func TestRetryAfterIsHonoured(t *testing.T) {
	var wl wireLog
	// 60 a minute with a burst of 6: the 7th quick request is refused with
	// Retry-After: 1.
	e := start(t, func(c *asana.Config) { c.HTTPClient = &http.Client{Transport: wl.transport()} },
		sandbox.WithRateLimit(60))
	c := ctx(t)
	for range 8 {
		if _, err := e.client.Me(c); err != nil {
			t.Fatal(err)
		}
	}
	wl.mu.Lock()
	defer wl.mu.Unlock()
	var refused int
	for i, code := range wl.codes {
		if code != http.StatusTooManyRequests {
			continue
		}
		refused++
		if wl.after[i] < time.Second {
			t.Errorf("429 #%d carried Retry-After %v, want at least 1s", refused, wl.after[i])
		}
		if i+1 >= len(wl.sent) {
			t.Fatalf("429 #%d was never retried", refused)
		}
		waited := wl.sent[i+1].Sub(wl.got[i])
		if waited < wl.after[i] {
			t.Errorf("retried %v after a 429 with Retry-After %v", waited, wl.after[i])
		}
		t.Logf("429 with Retry-After %v: retried after %v", wl.after[i], waited.Round(time.Millisecond))
	}
	if refused == 0 {
		t.Fatal("the sandbox never answered 429; the test proves nothing")
	}
	if s := e.client.Stats(); s.RateLimited != int64(refused) || s.Retries < int64(refused) {
		t.Errorf("stats = %+v, want %d rate-limited answers, each retried", s, refused)
	}
}

func TestBudgetKeepsUnderTheServersLimit(t *testing.T) {
	// Client and server share a limit of 1,200 a minute; 150 calls must go
	// through without a single 429, the budget pacing the client.
	e := start(t, func(c *asana.Config) { c.RequestsPerMinute = 1200 }, sandbox.WithRateLimit(1200))
	c := ctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 150)
	for range 150 {
		wg.Go(func() {
			if _, err := e.client.Me(c); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := e.client.Stats(); s.RateLimited != 0 || s.Reads != 150 {
		t.Errorf("stats = %+v, want 150 reads and no 429", s)
	}
}

func TestInFlightLimits(t *testing.T) {
	// The sandbox refuses a 51st read or a 16th write in flight with a 429;
	// with 50 ms of latency and 120 concurrent callers the client must queue
	// instead.
	e := start(t, nil, sandbox.WithLatency(50*time.Millisecond))
	c := ctx(t)
	test := e.project(t, "Test")
	var wg sync.WaitGroup
	errs := make(chan error, 160)
	for i := range 120 {
		wg.Go(func() {
			if _, err := e.client.Me(c); err != nil {
				errs <- err
			}
		})
		if i < 40 {
			wg.Go(func() {
				if _, err := e.client.CreateTask(c, asana.NewTask{Project: test.GID, Name: fmt.Sprint("parallel ", i)}); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := e.client.Stats(); s.RateLimited != 0 {
		t.Errorf("%d answers were 429: the client let too many requests fly at once", s.RateLimited)
	}
}

func TestFaultsAreRetriedToSuccess(t *testing.T) {
	e := start(t, func(c *asana.Config) { c.MaxRetries = 12 }, sandbox.WithFaultRate(0.3), sandbox.WithRandSeed(7))
	c := ctx(t)
	test := e.project(t, "Test")
	before, err := e.client.ProjectTasks(c, test.GID, asana.TaskQuery{})
	if err != nil {
		t.Fatal(err)
	}
	const creates = 40
	var created, unknown int
	for i := range creates {
		task, err := e.client.CreateTask(c, asana.NewTask{Project: test.GID, Name: fmt.Sprint("faulty ", i)})
		if errors.Is(err, asana.ErrOutcomeUnknown) {
			// A create that reached the server and failed is not sent
			// again: the caller must look before creating twice.
			unknown++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		created++
		// Reads and updates are idempotent: retried until they succeed.
		if _, err := e.client.Task(c, task.GID); err != nil {
			t.Fatal(err)
		}
		name := task.Name + " (edited)"
		if _, err := e.client.UpdateTask(c, task.GID, asana.TaskUpdate{Name: &name}); err != nil {
			t.Fatal(err)
		}
	}
	after, err := e.client.ProjectTasks(c, test.GID, asana.TaskQuery{})
	if err != nil {
		t.Fatal(err)
	}
	// The sandbox faults before applying anything, so exactly the creates
	// that succeeded exist: none was doubled by a retry.
	if got, want := len(after), len(before)+created; got != want {
		t.Errorf("%d tasks after %d successful creates under faults, want %d", got, created, want)
	}
	s := e.client.Stats()
	if s.Retries == 0 || unknown == 0 || created == 0 {
		t.Errorf("retries %d, creates with unknown outcome %d, created %d: the faults did not bite", s.Retries, unknown, created)
	}
	t.Logf("%d creates: %d succeeded, %d with unknown outcome; %d retries over %d requests", creates, created, unknown, s.Retries, s.Total())
}

// TestCreatesAreNotRepeated: a server that applies a create and then fails
// (a 500, or a connection cut after the request arrived) must see it once.
func TestCreatesAreNotRepeated(t *testing.T) {
	for _, mode := range []string{"500", "cut"} {
		var posts, gets atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				gets.Add(1)
			} else {
				posts.Add(1)
			}
			io.Copy(io.Discard, r.Body)
			if mode == "cut" {
				conn, _, _ := http.NewResponseController(w).Hijack()
				conn.Close()
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"errors":[{"message":"Server Error","phrase":"x y z"}]}`)
		}))
		c, err := asana.New(asana.Config{BaseURL: srv.URL + "/api/1.0", Token: "t", RequestsPerMinute: -1,
			BackoffBase: time.Millisecond, BackoffMax: time.Millisecond, MaxRetries: 3})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateTask(ctx(t), asana.NewTask{Project: "1", Name: "once"})
		if !errors.Is(err, asana.ErrOutcomeUnknown) {
			t.Errorf("%s: err = %v, want ErrOutcomeUnknown", mode, err)
		}
		_, err = c.Task(ctx(t), "1")
		srv.Close()
		if posts.Load() != 1 {
			t.Errorf("%s: the create was sent %d times, want once", mode, posts.Load())
		}
		if gets.Load() != 4 || err == nil {
			t.Errorf("%s: a failing read was sent %d times (err %v), want 1 + 3 retries", mode, gets.Load(), err)
		}
	}
}

func TestFaultsExhaustRetries(t *testing.T) {
	e := start(t, func(c *asana.Config) { c.MaxRetries = 2 }, sandbox.WithFaultRate(1))
	_, err := e.client.Me(ctx(t))
	if err == nil {
		t.Fatal("every request faulted, yet Me succeeded")
	}
	if s := e.client.Stats(); s.Reads != 3 {
		t.Errorf("sent %d requests, want 1 + 2 retries", s.Reads)
	}
}

func TestContextCancellation(t *testing.T) {
	e := start(t, nil, sandbox.WithLatency(10*time.Second))
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := e.client.Me(c)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("a cancelled call took %v to return", took)
	}
}

func TestTypedErrors(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)

	wrong, err := asana.New(asana.Config{BaseURL: e.base, Token: "0/wrong", RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Me(c)
	var ae *asana.Error
	if !errors.Is(err, asana.ErrUnauthorized) || !errors.As(err, &ae) || ae.Status != 401 || len(ae.Messages) == 0 {
		t.Errorf("wrong token: err = %#v, want a 401 *Error with Asana's message", err)
	}

	_, err = e.client.Task(c, "1")
	if !errors.Is(err, asana.ErrNotFound) || errors.Is(err, asana.ErrUnauthorized) {
		t.Errorf("unknown task: err = %v, want ErrNotFound only", err)
	}

	_, err = e.client.Events(c, "1", "")
	if !errors.Is(err, asana.ErrNotFound) {
		t.Errorf("events on an unknown resource: err = %v, want ErrNotFound", err)
	}

	// A 400 carries Asana's own explanation to the caller.
	task, err := e.client.CreateTask(c, asana.NewTask{Project: e.project(t, "Test").GID, Name: "talk"})
	if err != nil {
		t.Fatal(err)
	}
	story, err := e.client.AddComment(c, task.GID, "<body>hi</body>")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Events(c, story.GID, "")
	if !errors.Is(err, asana.ErrInvalidRequest) || !errors.As(err, &ae) || len(ae.Messages) == 0 || !strings.Contains(ae.Messages[0], "resource") {
		t.Errorf("events on a story: err = %v, want a 400 whose message names the resource parameter", err)
	}

	for _, bad := range []string{"", "12a", "https://app.asana.com/0/1/2", "../users/me"} {
		before := e.sb.Requests()
		if _, err := e.client.Task(c, bad); err == nil {
			t.Errorf("Task(%q) succeeded", bad)
		}
		if e.sb.Requests() != before {
			t.Errorf("Task(%q) reached the server", bad)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []asana.Config{
		{},
		{Token: "  "},
		{Token: "t", BaseURL: "app.asana.com"},
		{Token: "t", BaseURL: "ftp://x/api"},
	} {
		if _, err := asana.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	c, err := asana.New(asana.Config{Token: "t"})
	if err != nil || c.BaseURL() != asana.DefaultBaseURL {
		t.Errorf("default base URL = %v, %v", c, err)
	}
}
