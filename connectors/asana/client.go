// Package asana is tandem's client for the Asana REST API: the calls the
// sync engine needs, each with as few requests as Asana allows, inside
// Asana's rate limits, with Asana's errors turned into Go errors callers can
// branch on. It never prints; it logs retries through an optional slog.Logger
// and never logs the token.
package asana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// DefaultBaseURL is the real Asana API.
const DefaultBaseURL = "https://app.asana.com/api/1.0"

// Plan limits: requests per minute per token on Asana's free and paid plans.
const (
	FreePlanPerMinute = 150
	PaidPlanPerMinute = 1500
)

// budgetShare is the part of the plan's per-minute limit the client uses.
const budgetShare = 0.95

// Asana's concurrent request limits per token.
const (
	MaxConcurrentReads  = 50
	MaxConcurrentWrites = 15
)

// maxResponseBytes bounds what one JSON answer may be, so a broken or hostile
// server can't make the client buffer without end. Asana's largest pages
// (100 tasks with html_notes) are far below it.
const maxResponseBytes = 64 << 20

// Config configures a Client. Only Token is required.
type Config struct {
	// BaseURL is the API root; default DefaultBaseURL. A sandbox's is
	// http://HOST/api/1.0.
	BaseURL string
	// Token is the personal access token, sent as a Bearer token.
	Token string
	// RequestsPerMinute is the client-side budget, normally the plan's limit
	// (FreePlanPerMinute or PaidPlanPerMinute); the client keeps to 95% of
	// it. Zero means the free plan's 150; a negative value turns the budget
	// off (tests, unthrottled sandboxes).
	RequestsPerMinute int
	// MaxRetries is how many times a call is retried after a 429, a 5xx or a
	// cut connection; default 6. Negative means never retry.
	MaxRetries int
	// BackoffBase and BackoffMax shape the capped exponential backoff between
	// retries of 5xx and cut connections; defaults 250 ms and 30 s.
	BackoffBase, BackoffMax time.Duration
	// HTTPClient sends the requests; default a client with sane timeouts.
	HTTPClient *http.Client
	// Logger receives one line per retry; default: discard.
	Logger *slog.Logger
}

// Client talks to one Asana account with one token. It is safe for
// concurrent use; limits apply across all goroutines using it.
type Client struct {
	base    *url.URL
	token   string
	http    *http.Client
	log     *slog.Logger
	limiter *rate.Limiter // nil when the budget is off
	reads   chan struct{} // in-flight read slots
	writes  chan struct{} // in-flight write slots

	maxRetries              int
	backoffBase, backoffMax time.Duration

	holdMu    sync.Mutex
	holdUntil time.Time // after a 429 every caller waits until then

	stats stats
}

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("asana: a personal access token is required (Asana → My settings → Apps → Developer apps)")
	}
	raw := cfg.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("asana: base URL %q is not an http(s) URL such as %s", raw, DefaultBaseURL)
	}
	c := &Client{
		base:        base,
		token:       cfg.Token,
		http:        cfg.HTTPClient,
		log:         cfg.Logger,
		reads:       make(chan struct{}, MaxConcurrentReads),
		writes:      make(chan struct{}, MaxConcurrentWrites),
		maxRetries:  cfg.MaxRetries,
		backoffBase: cfg.BackoffBase,
		backoffMax:  cfg.BackoffMax,
	}
	if c.http == nil {
		// No overall timeout: it would cut a 100 MB transfer that is still
		// streaming. Connecting and waiting for an answer are bounded;
		// callers bound the rest with their context.
		c.http = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 2 * time.Minute,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   MaxConcurrentReads,
			ForceAttemptHTTP2:     true,
		}}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = 6
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.backoffBase <= 0 {
		c.backoffBase = 250 * time.Millisecond
	}
	if c.backoffMax <= 0 {
		c.backoffMax = 30 * time.Second
	}
	perMin := cfg.RequestsPerMinute
	if perMin == 0 {
		perMin = FreePlanPerMinute
	}
	if perMin > 0 {
		// Pacing at exactly the plan's rate ties with the server's own
		// bucket, and Asana counts refused requests too: one unlucky 429
		// puts the server in debt and every later request is refused. So
		// the client spends 95% of the rate, with a burst of a twentieth of
		// the minute's budget (Asana's window allows far more).
		c.limiter = rate.NewLimiter(rate.Limit(float64(perMin)*budgetShare/60), max(1, perMin/20))
	}
	return c, nil
}

// BaseURL is the API root the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// request is one API call before it is sent.
type request struct {
	method   string
	path     string // below the base URL, e.g. /tasks/123
	endpoint string // the path's template for statistics, e.g. /tasks/{gid}
	query    url.Values
	body     []byte // JSON body, or nil
	// open builds a streamed body (uploads) afresh for every attempt.
	open func() (body io.ReadCloser, length int64, contentType string, err error)
}

func (r request) isWrite() bool { return r.method != http.MethodGet }

// do sends req, retrying as Asana asks, and decodes a 2xx JSON answer into
// out (if not nil). A non-2xx answer that is not retried becomes an *Error.
func (c *Client) do(ctx context.Context, req request, out any) error {
	u := *c.base
	u.Path += req.path
	u.RawQuery = req.query.Encode()
	// Creates are not idempotent: once one has reached Asana, a failure
	// may hide a success, and sending it again could make a duplicate.
	create := req.method == http.MethodPost
	for attempt := 0; ; attempt++ {
		status, header, body, wrote, err := c.attempt(ctx, req, u.String())
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return fmt.Errorf("asana: %s %s: %w", req.method, req.path, ctx.Err())
			}
			if fe := (*finalError)(nil); errors.As(err, &fe) {
				return fmt.Errorf("asana: %s %s: %w", req.method, req.path, fe)
			}
			if create && wrote {
				return fmt.Errorf("asana: %s %s: %w: %v", req.method, req.path, ErrOutcomeUnknown, err)
			}
			err = fmt.Errorf("asana: %s %s: %w", req.method, req.path, err)
			wait = c.backoff(attempt)
		case status >= 200 && status < 300:
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("asana: %s %s: decoding the answer: %w", req.method, req.path, err)
			}
			return nil
		case status == http.StatusTooManyRequests:
			e := decodeError(req.method, req.path, status, header, body)
			err = e
			wait = e.RetryAfter
			if wait <= 0 {
				wait = c.backoff(attempt)
			}
			// Asana counts refused requests too: make every caller of
			// this client hold off, not just this one.
			wait += jitter(wait)
			c.hold(wait)
		case status == http.StatusServiceUnavailable:
			// Unavailable: turned away before any work, safe to repeat.
			e := decodeError(req.method, req.path, status, header, body)
			err = e
			wait = max(e.RetryAfter, c.backoff(attempt))
		case status == http.StatusInternalServerError || status == http.StatusBadGateway ||
			status == http.StatusGatewayTimeout:
			e := decodeError(req.method, req.path, status, header, body)
			if create {
				e.OutcomeUnknown = true
				return e
			}
			err = e
			wait = max(e.RetryAfter, c.backoff(attempt))
		default:
			return decodeError(req.method, req.path, status, header, body)
		}
		if attempt >= c.maxRetries {
			return err
		}
		c.stats.retry()
		c.log.Info("asana: retrying", "method", req.method, "path", req.path,
			"attempt", attempt+1, "wait", wait, "err", err)
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("asana: %s %s: %w", req.method, req.path, err)
		}
	}
}

// attempt sends one request inside the budget and the concurrency limits and
// reads the whole answer. wrote says the request reached the wire whole, so
// a failure after it may hide a success.
func (c *Client) attempt(ctx context.Context, req request, target string) (status int, header http.Header, data []byte, wrote bool, err error) {
	if err := c.waitHold(ctx); err != nil {
		return 0, nil, nil, false, err
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			// The budget can't be met before the deadline: waiting and
			// trying again can't either.
			return 0, nil, nil, false, &finalError{err}
		}
	}
	slots := c.reads
	if req.isWrite() {
		slots = c.writes
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return 0, nil, nil, false, ctx.Err()
	}
	defer func() { <-slots }()

	var body io.Reader
	var length int64
	contentType := ""
	if req.body != nil {
		body, length, contentType = bytes.NewReader(req.body), int64(len(req.body)), "application/json"
	}
	if req.open != nil {
		rc, n, ct, err := req.open()
		if err != nil {
			return 0, nil, nil, false, err
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
	hr, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), req.method, target, body)
	if err != nil {
		return 0, nil, nil, false, err
	}
	if body != nil {
		hr.ContentLength = length
		hr.Header.Set("Content-Type", contentType)
	}
	hr.Header.Set("Authorization", "Bearer "+c.token)
	hr.Header.Set("Accept", "application/json")
	c.stats.count(req.method+" "+req.endpoint, req.isWrite())
	resp, err := c.http.Do(hr)
	if err != nil {
		return 0, nil, nil, written.Load(), err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests {
		c.stats.rateLimited()
	}
	data, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return 0, nil, nil, true, fmt.Errorf("reading the answer: %w", err)
	}
	if len(data) > maxResponseBytes {
		return 0, nil, nil, true, fmt.Errorf("answer over %d MB", maxResponseBytes>>20)
	}
	return resp.StatusCode, resp.Header, data, true, nil
}

// backoff is the capped exponential wait before retry number attempt+1,
// with full jitter so that many clients retrying together spread out.
func (c *Client) backoff(attempt int) time.Duration {
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
	return sleep(ctx, d)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
