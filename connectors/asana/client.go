// Package asana is tandem's client for the Asana REST API: the calls the
// sync engine needs, each with as few requests as Asana allows, inside
// Asana's rate limits, with Asana's errors turned into Go errors callers can
// branch on. It never prints; it logs retries through an optional slog.Logger
// and never logs the token.
package asana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/apiclient"
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
	base *url.URL
	api  *apiclient.Client // budget, limits, retries, statistics
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
	perMin := cfg.RequestsPerMinute
	if perMin == 0 {
		perMin = FreePlanPerMinute
	}
	// Pacing at exactly the plan's rate ties with the server's own bucket,
	// and Asana counts refused requests too: one unlucky 429 puts the
	// server in debt and every later request is refused. So the client
	// spends 95% of the rate, with a burst of a twentieth of the minute's
	// budget (Asana's window allows far more).
	api := apiclient.New(apiclient.Config{
		Name:              "asana",
		Authorization:     "Bearer " + cfg.Token,
		PerMinute:         perMin,
		Share:             budgetShare,
		MaxReads:          MaxConcurrentReads,
		MaxWrites:         MaxConcurrentWrites,
		MaxRetries:        cfg.MaxRetries,
		BackoffBase:       cfg.BackoffBase,
		BackoffMax:        cfg.BackoffMax,
		HTTPClient:        cfg.HTTPClient,
		Logger:            cfg.Logger,
		Decode:            decodeAnswer,
		ErrOutcomeUnknown: ErrOutcomeUnknown,
	})
	return &Client{base: base, api: api}, nil
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
	open apiclient.OpenFunc
}

func (r request) isWrite() bool { return r.method != http.MethodGet }

// do sends req, retrying as Asana asks, and decodes a 2xx JSON answer into
// out (if not nil). A non-2xx answer that is not retried becomes an *Error.
func (c *Client) do(ctx context.Context, req request, out any) error {
	u := *c.base
	u.Path += req.path
	u.RawQuery = req.query.Encode()
	a, err := c.api.Send(ctx, apiclient.Request{
		Method: req.method, Path: req.path, URL: u.String(), Endpoint: req.endpoint,
		Body: req.body, Open: req.open, Write: req.isWrite(),
		// Creates are not idempotent: once one has reached Asana, a
		// failure may hide a success, and sending it again could make a
		// duplicate.
		Create: req.method == http.MethodPost,
	})
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(a.Data, out); err != nil {
		return fmt.Errorf("asana: %s %s: decoding the answer: %w", req.method, req.path, err)
	}
	return nil
}
