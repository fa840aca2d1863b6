// Package jira is tandem's client for the Jira Cloud platform REST API v3
// and its tracker.EntityTracker: the calls the sync engine needs, each with
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
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/apiclient"
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
	site *url.URL          // the site, no trailing slash
	root *url.URL          // site + APIPath
	api  *apiclient.Client // budget, limits, retries, statistics
	log  *slog.Logger
	gap  time.Duration // between writes to one issue; 0 = off

	writeMu   sync.Mutex
	nextWrite map[string]time.Time // issue → earliest next write
	written   map[int64]time.Time  // issue id → last write, for reconcileIssues

	tzMu sync.Mutex
	tz   *time.Location // the account's time zone
	tzAt time.Time      // when tz was read
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
	root := *site
	root.Path += APIPath
	c := &Client{
		site:      site,
		root:      &root,
		nextWrite: map[string]time.Time{},
		written:   map[int64]time.Time{},
	}
	perMin := cfg.RequestsPerMinute
	if perMin == 0 {
		perMin = DefaultRequestsPerMinute
	}
	if perMin > 0 {
		c.gap = writeGap
	}
	c.api = apiclient.New(apiclient.Config{
		Name:              "jira",
		Authorization:     "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Email+":"+cfg.Token)),
		PerMinute:         perMin,
		MaxReads:          MaxConcurrentReads,
		MaxWrites:         MaxConcurrentWrites,
		MaxRetries:        cfg.MaxRetries,
		BackoffBase:       cfg.BackoffBase,
		BackoffMax:        cfg.BackoffMax,
		HTTPClient:        c.httpClient(cfg.HTTPClient),
		Logger:            cfg.Logger,
		Decode:            decodeAnswer,
		ErrOutcomeUnknown: ErrOutcomeUnknown,
	})
	c.log = c.api.Logger()
	return c, nil
}

// httpClient returns a copy of hc (or a default client) whose redirects
// never carry the Authorization header to another host. Go's client already
// drops it for another domain, but not for another port of the same host;
// attachment downloads redirect to wherever the bytes live.
func (c *Client) httpClient(hc *http.Client) *http.Client {
	if hc == nil {
		hc = apiclient.DefaultHTTPClient(MaxConcurrentReads)
	}
	out := *hc
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
	open apiclient.OpenFunc
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
	if out == nil || len(bytes.TrimSpace(resp.Data)) == 0 && resp.Status == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		return fmt.Errorf("jira: %s %s: decoding the answer: %w", req.method, req.path, err)
	}
	return nil
}

// answer is a 2xx answer: its body read whole, or left open to stream.
type answer = apiclient.Answer

// send sends req, retrying as Jira asks, and returns the 2xx answer.
func (c *Client) send(ctx context.Context, req request) (answer, error) {
	u := *c.root
	u.Path += req.path
	u.RawQuery = req.query.Encode()
	r := apiclient.Request{
		Method: req.method, Path: req.path, URL: u.String(), Endpoint: req.endpoint,
		Body: req.body, Open: req.open, Header: req.header, Write: req.isWrite(), Stream: req.stream,
		// Creates are not idempotent: once one has reached Jira, a failure
		// may hide a success, and sending it again could make a duplicate.
		Create: req.method == http.MethodPost && req.isWrite(),
	}
	if req.method == http.MethodPut {
		// A conflicting update: someone else wrote the issue at the same
		// moment. Sending the same edit again is safe.
		r.RetryOn = []int{http.StatusConflict}
	}
	if r.Write && req.issue != "" {
		r.Wait = func(ctx context.Context) error { return c.spaceWrite(ctx, req.issue) }
	}
	return c.api.Send(ctx, r)
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
		return apiclient.Sleep(ctx, d)
	}
	return nil
}
