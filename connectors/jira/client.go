// Package jira is tandem's client for the Jira Cloud platform REST API v3
// and its engine.EntityTracker: the calls the sync engine needs, each with
// as few requests as Jira allows, inside a client-side budget, with Jira's
// errors turned into Go errors callers can branch on. It never prints; it
// logs retries through an optional slog.Logger and never logs the token or
// the Authorization header.
package jira

import (
	"bytes"
	"context"
	"encoding/base64"
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

// APIPath is where the REST API v3 lives below a site's URL.
const APIPath = "/rest/api/3"

// DefaultRequestsPerMinute is the client-side budget when Config leaves it
// zero. Atlassian publishes no fixed limit for API-token traffic (its
// limits are cost-based and its burst limits unpublished); 300 a minute,
// five a second, is far below what a site tolerates from one integration
// and still syncs a busy project comfortably.
const DefaultRequestsPerMinute = 300

// Concurrent request limits per client. Jira documents none; these keep one
// node from looking like a flood.
const (
	MaxConcurrentReads  = 20
	MaxConcurrentWrites = 5
)

// writeGap spaces writes to the same issue, as Atlassian asks: bursts of
// edits to one issue are what its burst limits punish first.
const writeGap = 200 * time.Millisecond

// maxResponseBytes bounds what one JSON answer may be, so a broken or
// hostile server can't make the client buffer without end.
const maxResponseBytes = 64 << 20

// Config configures a Client. BaseURL, Email and Token are required.
type Config struct {
	// BaseURL is the site, e.g. https://acme.atlassian.net; the client
	// appends /rest/api/3. A sandbox's is http://HOST.
	BaseURL string
	// Email and Token are the account's email and API token, sent with
	// basic auth.
	Email, Token string
	// RequestsPerMinute is the client-side budget; zero means
	// DefaultRequestsPerMinute, a negative value turns the budget (and the
	// spacing of writes to one issue) off, for tests.
	RequestsPerMinute int
	// MaxRetries is how many times a call is retried after a 429, a 409, a
	// 5xx or a cut connection; default 6. Negative means never retry.
	MaxRetries int
	// BackoffBase and BackoffMax shape the capped exponential backoff
	// between retries; defaults 250 ms and 30 s.
	BackoffBase, BackoffMax time.Duration
	// HTTPClient sends the requests; default a client with sane timeouts.
	// Its redirect policy is kept, after a check that drops the
	// Authorization header on any redirect to another host.
	HTTPClient *http.Client
	// Logger receives one line per retry; default: discard.
	Logger *slog.Logger
}

// Client talks to one Jira Cloud site as one account. It is safe for
// concurrent use; limits apply across all goroutines using it.
type Client struct {
	site    *url.URL // the site, no trailing slash
	api     *url.URL // site + APIPath
	auth    string   // the Authorization header's value; never logged
	http    *http.Client
	log     *slog.Logger
	limiter *rate.Limiter // nil when the budget is off
	reads   chan struct{}
	writes  chan struct{}
	gap     time.Duration // between writes to one issue; 0 = off

	maxRetries              int
	backoffBase, backoffMax time.Duration

	holdMu    sync.Mutex
	holdUntil time.Time // after a 429 every caller waits until then

	writeMu   sync.Mutex
	nextWrite map[string]time.Time // issue → earliest next write
	written   map[int64]time.Time  // issue id → last write, for reconcileIssues

	tzMu sync.Mutex
	tz   *time.Location // the account's time zone
	tzAt time.Time      // when tz was read

	stats stats
}

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Email) == "" || strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("jira: an account email and an API token are required (id.atlassian.com → Security → API tokens)")
	}
	raw := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	site, err := url.Parse(raw)
	if err != nil || (site.Scheme != "http" && site.Scheme != "https") || site.Host == "" || site.RawQuery != "" {
		return nil, fmt.Errorf("jira: site URL %q is not an http(s) URL such as https://acme.atlassian.net", cfg.BaseURL)
	}
	site.Path = strings.TrimSuffix(site.Path, APIPath)
	api := *site
	api.Path += APIPath
	c := &Client{
		site:        site,
		api:         &api,
		auth:        "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Email+":"+cfg.Token)),
		log:         cfg.Logger,
		reads:       make(chan struct{}, MaxConcurrentReads),
		writes:      make(chan struct{}, MaxConcurrentWrites),
		maxRetries:  cfg.MaxRetries,
		backoffBase: cfg.BackoffBase,
		backoffMax:  cfg.BackoffMax,
		nextWrite:   map[string]time.Time{},
		written:     map[int64]time.Time{},
	}
	c.http = c.httpClient(cfg.HTTPClient)
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
		perMin = DefaultRequestsPerMinute
	}
	if perMin > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(float64(perMin)/60), max(1, perMin/20))
		c.gap = writeGap
	}
	return c, nil
}

// httpClient returns a copy of hc (or a default client) whose redirects
// never carry the Authorization header to another host. Go's client already
// drops it for another domain, but not for another port of the same host;
// attachment downloads redirect to wherever the bytes live.
func (c *Client) httpClient(hc *http.Client) *http.Client {
	var out http.Client
	if hc != nil {
		out = *hc
	} else {
		// No overall timeout: it would cut a large transfer that is still
		// streaming. Connecting and waiting for an answer are bounded;
		// callers bound the rest with their context.
		out.Transport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 2 * time.Minute,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   MaxConcurrentReads,
			ForceAttemptHTTP2:     true,
		}
	}
	next := out.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !strings.EqualFold(req.URL.Host, c.site.Host) || req.URL.Scheme != c.site.Scheme {
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &out
}

// BaseURL is the site the client talks to (without /rest/api/3).
func (c *Client) BaseURL() string { return c.site.String() }

// request is one API call before it is sent.
type request struct {
	method   string
	path     string // below the API root, e.g. /issue/10004
	endpoint string // the path's template for statistics, e.g. /issue/{id}
	query    url.Values
	body     []byte // JSON body, or nil
	// open builds a streamed body (uploads) afresh for every attempt.
	open func() (body io.ReadCloser, length int64, contentType string, err error)
	// issue is the issue a write changes, for spacing writes to it.
	issue string
	// header adds headers (X-Atlassian-Token on uploads).
	header http.Header
	// stream leaves a 2xx answer's body open for the caller (downloads).
	stream bool
}

// isWrite says the request changes something. A search is a POST that
// only reads.
func (r request) isWrite() bool { return r.method != http.MethodGet && r.path != searchPath }

// do sends req, retrying as Jira asks, and decodes a 2xx JSON answer into
// out (if not nil). A non-2xx answer that is not retried becomes an *Error.
func (c *Client) do(ctx context.Context, req request, out any) error {
	resp, err := c.send(ctx, req)
	if err != nil {
		return err
	}
	if out == nil || len(bytes.TrimSpace(resp.data)) == 0 && resp.status == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(resp.data, out); err != nil {
		return fmt.Errorf("jira: %s %s: decoding the answer: %w", req.method, req.path, err)
	}
	return nil
}

// answer is a 2xx answer: its body read whole, or left open to stream.
type answer struct {
	status int
	header http.Header
	data   []byte
	body   io.ReadCloser // stream requests only
}

// send sends req, retrying as Jira asks, and returns the 2xx answer.
func (c *Client) send(ctx context.Context, req request) (answer, error) {
	u := *c.api
	u.Path += req.path
	u.RawQuery = req.query.Encode()
	// Creates are not idempotent: once one has reached Jira, a failure may
	// hide a success, and sending it again could make a duplicate.
	create := req.method == http.MethodPost && req.isWrite()
	for attempt := 0; ; attempt++ {
		a, wrote, err := c.attempt(ctx, req, u.String())
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return answer{}, fmt.Errorf("jira: %s %s: %w", req.method, req.path, ctx.Err())
			}
			if fe := (*finalError)(nil); errors.As(err, &fe) {
				return answer{}, fmt.Errorf("jira: %s %s: %w", req.method, req.path, fe)
			}
			if create && wrote {
				return answer{}, fmt.Errorf("jira: %s %s: %w: %v", req.method, req.path, ErrOutcomeUnknown, err)
			}
			err = fmt.Errorf("jira: %s %s: %w", req.method, req.path, err)
			wait = c.backoff(attempt)
		case a.status >= 200 && a.status < 300:
			return a, nil
		case a.status == http.StatusTooManyRequests:
			e := decodeError(req.method, req.path, a.status, a.header, a.data)
			err = e
			wait = e.RetryAfter
			if wait <= 0 {
				wait = c.backoff(attempt)
			}
			// Refused requests count too: make every caller of this
			// client hold off, not just this one.
			wait += jitter(wait)
			c.hold(wait)
		case a.status == http.StatusConflict && req.method == http.MethodPut:
			// A conflicting update: someone else wrote the issue at the
			// same moment. Sending the same edit again is safe.
			err = decodeError(req.method, req.path, a.status, a.header, a.data)
			wait = c.backoff(attempt)
		case a.status == http.StatusServiceUnavailable:
			// Unavailable: turned away before any work, safe to repeat.
			e := decodeError(req.method, req.path, a.status, a.header, a.data)
			err = e
			wait = max(e.RetryAfter, c.backoff(attempt))
		case a.status == http.StatusInternalServerError || a.status == http.StatusBadGateway ||
			a.status == http.StatusGatewayTimeout:
			e := decodeError(req.method, req.path, a.status, a.header, a.data)
			if create {
				e.OutcomeUnknown = true
				return answer{}, e
			}
			err = e
			wait = max(e.RetryAfter, c.backoff(attempt))
		default:
			return answer{}, decodeError(req.method, req.path, a.status, a.header, a.data)
		}
		if attempt >= c.maxRetries {
			return answer{}, err
		}
		c.stats.retry()
		c.log.Info("jira: retrying", "method", req.method, "path", req.path,
			"attempt", attempt+1, "wait", wait, "err", err)
		if err := sleep(ctx, wait); err != nil {
			return answer{}, fmt.Errorf("jira: %s %s: %w", req.method, req.path, err)
		}
	}
}

// attempt sends one request inside the budget and the concurrency limits.
// A non-2xx answer, and a 2xx one unless req.stream, is read whole. wrote
// says the request reached the wire whole, so a failure after it may hide a
// success.
func (c *Client) attempt(ctx context.Context, req request, target string) (a answer, wrote bool, err error) {
	if err := c.waitHold(ctx); err != nil {
		return a, false, err
	}
	if req.isWrite() && req.issue != "" {
		if err := c.spaceWrite(ctx, req.issue); err != nil {
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
	if req.isWrite() {
		slots = c.writes
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return a, false, ctx.Err()
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
	hr, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), req.method, target, body)
	if err != nil {
		return a, false, err
	}
	if body != nil {
		hr.ContentLength = length
		hr.Header.Set("Content-Type", contentType)
	}
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	hr.Header.Set("Authorization", c.auth)
	if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", "application/json")
	}
	c.stats.count(req.method+" "+req.endpoint, req.isWrite())
	resp, err := c.http.Do(hr)
	if err != nil {
		return a, written.Load(), err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.stats.rateLimited()
	}
	a.status, a.header = resp.StatusCode, resp.Header
	if req.stream && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The caller reads the bytes; the slot is given back on return,
		// since a slow reader must not starve other calls.
		a.body = resp.Body
		return a, true, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return answer{}, true, fmt.Errorf("reading the answer: %w", err)
	}
	if len(data) > maxResponseBytes {
		return answer{}, true, fmt.Errorf("answer over %d MB", maxResponseBytes>>20)
	}
	a.data = data
	return a, true, nil
}

// spaceWrite waits until issue may be written again, and books the next
// slot, so writes to one issue are writeGap apart.
func (c *Client) spaceWrite(ctx context.Context, issue string) error {
	if c.gap <= 0 {
		return nil
	}
	c.writeMu.Lock()
	now := time.Now()
	at := c.nextWrite[issue]
	if at.Before(now) {
		at = now
	}
	c.nextWrite[issue] = at.Add(c.gap)
	for k, t := range c.nextWrite {
		if t.Before(now) {
			delete(c.nextWrite, k) // bounded by the issues written lately
		}
	}
	c.writeMu.Unlock()
	if d := time.Until(at); d > 0 {
		return sleep(ctx, d)
	}
	return nil
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

// finalError is a failure that sending again would repeat (the caller's
// file, the caller's deadline), so it is never retried.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }
