// Package apiclient is the tracker-neutral half of tandem's REST clients:
// one request sent inside a client-side budget and concurrency limits,
// retried with capped exponential backoff and jitter after a 429, a 5xx or
// a cut connection, every caller held off after a 429 for its Retry-After,
// answers read up to a bound, and every attempt counted. What a tracker
// means by its answers (error bodies, sentinels, URLs, pagination) stays in
// the tracker's package, which hands it in through Config and Request.
package apiclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// MaxResponseBytes bounds what one answer read whole may be, so a broken or
// hostile server can't make the client buffer without end.
const MaxResponseBytes = 64 << 20

// Retry defaults, for a Config that leaves them zero.
const (
	DefaultMaxRetries  = 6
	DefaultBackoffBase = 250 * time.Millisecond
	DefaultBackoffMax  = 30 * time.Second
)

// DecodeFunc turns a non-2xx answer into the tracker's error. unknown says
// the request was a create that failed with a server error after reaching
// the server, so it may have been applied; the error should match the
// tracker's outcome-unknown sentinel.
type DecodeFunc func(method, path string, status int, header http.Header, body []byte, unknown bool) error

// Config configures a Client. Name, Decode and ErrOutcomeUnknown are
// required.
type Config struct {
	// Name prefixes every error and log line, e.g. "asana".
	Name string
	// Authorization is the Authorization header's value; it is never
	// logged.
	Authorization string
	// PerMinute is the client-side budget in requests a minute, of which
	// the client spends Share (zero means all of it) with a burst of a
	// twentieth of PerMinute. Zero or negative turns the budget off.
	PerMinute int
	Share     float64
	// MaxReads and MaxWrites bound the requests in flight; zero means no
	// bound.
	MaxReads, MaxWrites int
	// MaxRetries is how many times a call is retried; zero means
	// DefaultMaxRetries, negative never.
	MaxRetries int
	// BackoffBase and BackoffMax shape the capped exponential backoff
	// between retries; zero means the defaults.
	BackoffBase, BackoffMax time.Duration
	// HTTPClient sends the requests; default DefaultHTTPClient(MaxReads).
	HTTPClient *http.Client
	// Logger receives one line per retry; default: discard.
	Logger *slog.Logger
	// Decode turns a non-2xx answer into the tracker's error.
	Decode DecodeFunc
	// ErrOutcomeUnknown is the tracker's sentinel for a create whose
	// connection broke after it reached the server.
	ErrOutcomeUnknown error
}

// Client sends requests for one tracker account. It is safe for concurrent
// use; limits apply across all goroutines using it.
type Client struct {
	name    string
	auth    string
	http    *http.Client
	log     *slog.Logger
	decode  DecodeFunc
	unknown error
	limiter *rate.Limiter // nil when the budget is off
	reads   chan struct{} // in-flight read slots; nil = unbounded
	writes  chan struct{} // in-flight write slots; nil = unbounded

	maxRetries              int
	backoffBase, backoffMax time.Duration

	holdMu    sync.Mutex
	holdUntil time.Time // after a 429 every caller waits until then

	stats counter
}

// New returns a client for cfg. It makes no request.
func New(cfg Config) *Client {
	c := &Client{
		name:        cfg.Name,
		auth:        cfg.Authorization,
		http:        cfg.HTTPClient,
		log:         cfg.Logger,
		decode:      cfg.Decode,
		unknown:     cfg.ErrOutcomeUnknown,
		maxRetries:  cfg.MaxRetries,
		backoffBase: cfg.BackoffBase,
		backoffMax:  cfg.BackoffMax,
	}
	if cfg.MaxReads > 0 {
		c.reads = make(chan struct{}, cfg.MaxReads)
	}
	if cfg.MaxWrites > 0 {
		c.writes = make(chan struct{}, cfg.MaxWrites)
	}
	if c.http == nil {
		c.http = DefaultHTTPClient(cfg.MaxReads)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.backoffBase <= 0 {
		c.backoffBase = DefaultBackoffBase
	}
	if c.backoffMax <= 0 {
		c.backoffMax = DefaultBackoffMax
	}
	if cfg.PerMinute > 0 {
		share := cfg.Share
		if share <= 0 {
			share = 1
		}
		c.limiter = rate.NewLimiter(rate.Limit(float64(cfg.PerMinute)*share/60), max(1, cfg.PerMinute/20))
	}
	return c
}

// DefaultHTTPClient is a client with sane timeouts that keeps up to
// idlePerHost connections open.
func DefaultHTTPClient(idlePerHost int) *http.Client {
	// No overall timeout: it would cut a large transfer that is still
	// streaming. Connecting and waiting for an answer are bounded;
	// callers bound the rest with their context.
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   idlePerHost,
		ForceAttemptHTTP2:     true,
	}}
}

// HTTP is the client that sends the requests, for fetches outside Send.
func (c *Client) HTTP() *http.Client { return c.http }

// Logger is the logger retries go to; never nil.
func (c *Client) Logger() *slog.Logger { return c.log }

// MaxRetries is how many times a call is retried.
func (c *Client) MaxRetries() int { return c.maxRetries }

// OpenFunc builds a streamed request body afresh for every attempt.
type OpenFunc func() (body io.ReadCloser, length int64, contentType string, err error)

// Request is one call before it is sent.
type Request struct {
	// Method and Path name the call in errors and logs (Path without the
	// API root or the query); URL is where it goes.
	Method, Path, URL string
	// Endpoint is the path's template for statistics, e.g. /tasks/{gid}.
	Endpoint string
	// Body is a JSON body, or nil; Open, if set, streams one instead.
	Body []byte
	Open OpenFunc
	// Header is added to every attempt; Accept defaults to
	// application/json.
	Header http.Header
	// Write says the request changes something: it takes a write slot and
	// counts as a write.
	Write bool
	// Create says the request is not idempotent: once it may have reached
	// the server, a failure may hide a success, so it is never sent again.
	Create bool
	// RetryOn lists further statuses after which this request is safe to
	// send again, with backoff.
	RetryOn []int
	// Wait, if set, is waited on before the budget on every attempt.
	Wait func(context.Context) error
	// Stream leaves a 2xx answer's body open for the caller.
	Stream bool
}

// Answer is a 2xx answer: its body read whole, or left open to stream.
type Answer struct {
	Status int
	Header http.Header
	Data   []byte
	Body   io.ReadCloser // Stream requests only
}

// Send sends req, retrying as the server asks, and returns the 2xx answer.
// A non-2xx answer that is not retried, or still refused after every retry,
// becomes the Decode error.
func (c *Client) Send(ctx context.Context, req Request) (Answer, error) {
	for attempt := 0; ; attempt++ {
		a, wrote, err := c.attempt(ctx, req)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return Answer{}, fmt.Errorf("%s: %s %s: %w", c.name, req.Method, req.Path, ctx.Err())
			}
			if fe := (*finalError)(nil); errors.As(err, &fe) {
				return Answer{}, fmt.Errorf("%s: %s %s: %w", c.name, req.Method, req.Path, fe)
			}
			if req.Create && wrote {
				return Answer{}, fmt.Errorf("%s: %s %s: %w: %v", c.name, req.Method, req.Path, c.unknown, err)
			}
			err = fmt.Errorf("%s: %s %s: %w", c.name, req.Method, req.Path, err)
			wait = c.Backoff(attempt)
		case a.Status >= 200 && a.Status < 300:
			return a, nil
		case a.Status == http.StatusTooManyRequests:
			err = c.decodeAnswer(req, a, false)
			wait = ParseRetryAfter(a.Header)
			if wait <= 0 {
				wait = c.Backoff(attempt)
			}
			// Refused requests count too: make every caller of this
			// client hold off, not just this one.
			wait += jitter(wait)
			c.hold(wait)
		case a.Status == http.StatusServiceUnavailable:
			// Unavailable: turned away before any work, safe to repeat.
			err = c.decodeAnswer(req, a, false)
			wait = max(ParseRetryAfter(a.Header), c.Backoff(attempt))
		case a.Status == http.StatusInternalServerError || a.Status == http.StatusBadGateway ||
			a.Status == http.StatusGatewayTimeout:
			if req.Create {
				return Answer{}, c.decodeAnswer(req, a, true)
			}
			err = c.decodeAnswer(req, a, false)
			wait = max(ParseRetryAfter(a.Header), c.Backoff(attempt))
		case slices.Contains(req.RetryOn, a.Status):
			err = c.decodeAnswer(req, a, false)
			wait = c.Backoff(attempt)
		default:
			return Answer{}, c.decodeAnswer(req, a, false)
		}
		if attempt >= c.maxRetries {
			return Answer{}, err
		}
		c.CountRetry()
		c.log.Info(c.name+": retrying", "method", req.Method, "path", req.Path,
			"attempt", attempt+1, "wait", wait, "err", err)
		if err := Sleep(ctx, wait); err != nil {
			return Answer{}, fmt.Errorf("%s: %s %s: %w", c.name, req.Method, req.Path, err)
		}
	}
}

func (c *Client) decodeAnswer(req Request, a Answer, unknown bool) error {
	return c.decode(req.Method, req.Path, a.Status, a.Header, a.Data, unknown)
}

// attempt sends one request inside the budget and the concurrency limits.
// A non-2xx answer, and a 2xx one unless req.Stream, is read whole. wrote
// says the request reached the wire whole, so a failure after it may hide a
// success.
func (c *Client) attempt(ctx context.Context, req Request) (a Answer, wrote bool, err error) {
	if err := c.waitHold(ctx); err != nil {
		return a, false, err
	}
	if req.Wait != nil {
		if err := req.Wait(ctx); err != nil {
			return a, false, err
		}
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			// The budget can't be met before the deadline: waiting and
			// trying again can't either.
			return a, false, &finalError{err}
		}
	}
	slots := c.reads
	if req.Write {
		slots = c.writes
	}
	if slots != nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return a, false, ctx.Err()
		}
		defer func() { <-slots }()
	}

	var body io.Reader
	var length int64
	contentType := ""
	if req.Body != nil {
		body, length, contentType = bytes.NewReader(req.Body), int64(len(req.Body)), "application/json"
	}
	if req.Open != nil {
		rc, n, ct, err := req.Open()
		if err != nil {
			return a, false, err
		}
		defer rc.Close()
		body, length, contentType = rc, n, ct
	}
	// The hook runs on the transport's writer goroutine, which may still be
	// busy when an early answer (or error) comes back.
	var written atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			written.Store(true)
		}
	}}
	hr, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), req.Method, req.URL, body)
	if err != nil {
		return a, false, err
	}
	if body != nil {
		hr.ContentLength = length
		hr.Header.Set("Content-Type", contentType)
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	hr.Header.Set("Authorization", c.auth)
	if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", "application/json")
	}
	c.stats.count(req.Method+" "+req.Endpoint, req.Write)
	resp, err := c.http.Do(hr)
	if err != nil {
		return a, written.Load(), err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.stats.add(func(s *Stats) { s.RateLimited++ })
	}
	a.Status, a.Header = resp.StatusCode, resp.Header
	if req.Stream && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The caller reads the bytes; the slot is given back on return,
		// since a slow reader must not starve other calls.
		a.Body = resp.Body
		return a, true, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return Answer{}, true, fmt.Errorf("reading the answer: %w", err)
	}
	if len(data) > MaxResponseBytes {
		return Answer{}, true, fmt.Errorf("answer over %d MB", MaxResponseBytes>>20)
	}
	a.Data = data
	return a, true, nil
}

// Backoff is the capped exponential wait before retry number attempt+1,
// with full jitter so that many clients retrying together spread out.
func (c *Client) Backoff(attempt int) time.Duration {
	d := c.backoffBase << min(attempt, 16)
	if d <= 0 || d > c.backoffMax {
		d = c.backoffMax
	}
	return d/2 + rand.N(d/2+1)
}

// jitter adds up to a tenth of d (at most 500 ms) so that callers released
// by the same Retry-After don't arrive in one burst.
func jitter(d time.Duration) time.Duration {
	return rand.N(min(d/10, 500*time.Millisecond) + 1)
}

func (c *Client) hold(d time.Duration) {
	c.holdMu.Lock()
	defer c.holdMu.Unlock()
	if until := time.Now().Add(d); until.After(c.holdUntil) {
		c.holdUntil = until
	}
}

func (c *Client) waitHold(ctx context.Context) error {
	c.holdMu.Lock()
	d := time.Until(c.holdUntil)
	c.holdMu.Unlock()
	if d <= 0 {
		return nil
	}
	return Sleep(ctx, d)
}
