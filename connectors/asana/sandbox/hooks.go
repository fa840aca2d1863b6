package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Webhook deliveries, as Asana makes them (developers.asana.com, "Webhooks
// guide"):
//
//   - The handshake: in the middle of POST /webhooks the sandbox POSTs an
//     empty body to the target with an X-Hook-Secret header (32 random bytes
//     in hex); the target must answer 200 or 204 echoing that header within
//     the timeout, or the webhook is not created (400).
//   - Deliveries: every event GET /events would report on the webhook's
//     resource (the same log, see events.go) that passes its filters is
//     POSTed as {"events":[...]} with X-Hook-Signature, the lowercase hex
//     HMAC-SHA256 of the raw body keyed with the secret. Events within the
//     batch window go in one delivery (at most 100). One webhook has one
//     delivery in flight at a time, in event order.
//   - Failures: a non-2xx answer, a redirect, a timeout or a connection
//     error is retried with exponential backoff from the retry base, the
//     same delivery first, so order holds; the webhook shows
//     last_failure_at, last_failure_content, delivery_retry_count,
//     next_attempt_after and failure_deletion_timestamp meanwhile. Failing
//     for the whole deletion window deletes the webhook. A success resets
//     the count.
//   - Heartbeats: an empty {"events":[]}, signed, every heartbeat interval,
//     through the same queue.
//
// Unlike Asana, the sandbox accepts http:// and loopback targets (Asana
// demands HTTPS and refuses hosts like localhost with a 403), so a node on
// 127.0.0.1 can be tested. The sandbox only ever POSTs to the target given:
// redirects are not followed (a 3xx is a failure). It logs nothing: what a
// target answered is kept, truncated, in last_failure_content and only
// served back through the API as a JSON string. Deliveries are outgoing and
// charge no rate-limit budget.

// Webhook defaults: Asana's, except the batch window and retry base, which
// Asana does not publish.
const (
	DefaultWebhookTimeout        = 10 * time.Second
	DefaultWebhookBatchWindow    = 100 * time.Millisecond
	DefaultWebhookRetryBase      = 2 * time.Second
	DefaultWebhookDeletionWindow = 24 * time.Hour
	DefaultWebhookHeartbeat      = 8 * time.Hour
)

const (
	hookMaxEvents     = 100       // events per delivery
	hookMaxBackoff    = time.Hour // longest wait between two attempts
	hookMaxFailure    = 1024      // bytes of a failed answer kept
	handshakeFailText = "Could not complete activation handshake with target URL. Please ensure that the " +
		"receiving server is accepting connections and supports SSL"
)

// hookConfig is the webhook part of config.
type hookConfig struct {
	timeout, batch, retryBase, deletion, heartbeat time.Duration
}

func defaultHookConfig() hookConfig {
	return hookConfig{timeout: DefaultWebhookTimeout, batch: DefaultWebhookBatchWindow,
		retryBase: DefaultWebhookRetryBase, deletion: DefaultWebhookDeletionWindow, heartbeat: DefaultWebhookHeartbeat}
}

func (h hookConfig) check() error {
	for _, x := range []struct {
		name string
		d    time.Duration
	}{{"webhook timeout", h.timeout}, {"webhook batch window", h.batch}, {"webhook retry base", h.retryBase},
		{"webhook deletion window", h.deletion}, {"webhook heartbeat", h.heartbeat}} {
		if x.d <= 0 {
			return fmt.Errorf("%s: %v is not positive", x.name, x.d)
		}
	}
	return nil
}

// WithWebhookTimeout sets how long a target has to answer the handshake or a
// delivery (Asana: 10 s, DefaultWebhookTimeout).
func WithWebhookTimeout(d time.Duration) Option { return func(c *config) { c.hooks.timeout = d } }

// WithWebhookBatchWindow sets how long the sandbox waits after an event for
// more before delivering them together (default 100 ms).
func WithWebhookBatchWindow(d time.Duration) Option { return func(c *config) { c.hooks.batch = d } }

// WithWebhookRetryBase sets the first wait after a failed delivery; each
// further failure doubles it, up to an hour (default 2 s).
func WithWebhookRetryBase(d time.Duration) Option { return func(c *config) { c.hooks.retryBase = d } }

// WithWebhookDeletionWindow sets how long deliveries to a webhook may keep
// failing before the sandbox deletes it (Asana: 24 h). A short window lets a
// test see a webhook dropped and re-established.
func WithWebhookDeletionWindow(d time.Duration) Option {
	return func(c *config) { c.hooks.deletion = d }
}

// WithWebhookHeartbeat sets the interval between heartbeats, empty signed
// deliveries (Asana: 8 h).
func WithWebhookHeartbeat(d time.Duration) Option { return func(c *config) { c.hooks.heartbeat = d } }

// hooks runs the deliveries of every webhook: one goroutine per webhook,
// stopped by deleting it or by Close.
type hooks struct {
	cfg    hookConfig
	client *http.Client
	ctx    context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
	loops  atomic.Int64 // delivery loops running, for tests
}

func newHooks(cfg hookConfig) *hooks {
	ctx, stop := context.WithCancel(context.Background())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &hooks{cfg: cfg, ctx: ctx, stop: stop, client: &http.Client{
		Transport: tr,
		Timeout:   cfg.timeout,
		// Only the target given: a redirect is the target's answer, a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Close stops every webhook delivery and heartbeat and waits for them; a
// delivery in flight is abandoned. The API goes on answering, but webhooks
// created afterwards deliver nothing. Close is safe to call more than once.
func (s *Sandbox) Close() error {
	s.hooks.stop()
	s.hooks.wg.Wait()
	s.hooks.client.CloseIdleConnections()
	return nil
}

// newHookSecret makes a handshake secret: 32 random bytes in hex, from the
// system's secure source even under WithRandSeed, since it keys signatures.
func newHookSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Sign returns the X-Hook-Signature of a delivery body: the lowercase hex
// HMAC-SHA256 of body keyed with the webhook's secret, as Asana computes it.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// handshake POSTs the X-Hook-Secret to target and reports whether it was
// echoed with a 200 or 204 in time.
func (h *hooks) handshake(ctx context.Context, target, secret string) bool {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, http.NoBody)
	if err != nil {
		return false
	}
	req.Header.Set("X-Hook-Secret", secret)
	resp, err := h.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return false
	}
	return hmac.Equal([]byte(resp.Header.Get("X-Hook-Secret")), []byte(secret))
}

// startHook starts w's delivery loop, reading events from the end of the log
// on. Callers hold the write lock.
func (s *Sandbox) startHook(w *webhook) {
	if s.hooks.ctx.Err() != nil {
		return // closed: the record stays, nothing is delivered
	}
	ctx, cancel := context.WithCancel(s.hooks.ctx)
	w.kick = make(chan struct{}, 1)
	w.stop = cancel
	w.pos = s.st.firstSeq + int64(len(s.st.events))
	s.hooks.wg.Add(1)
	go s.runHook(ctx, w)
}

// kickHooks tells every webhook that sees e that there is something to
// deliver. Callers hold the write lock.
func (st *store) kickHooks(e *event) {
	for _, w := range st.webhooks {
		if w.kick != nil && e.sees(w.resource.gid) {
			select {
			case w.kick <- struct{}{}:
			default:
			}
		}
	}
}

// runHook is w's delivery loop: one delivery at a time, heartbeats between.
func (s *Sandbox) runHook(ctx context.Context, w *webhook) {
	defer s.hooks.wg.Done()
	s.hooks.loops.Add(1)
	defer s.hooks.loops.Add(-1)
	heartbeat := time.NewTimer(s.hooks.cfg.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			if !s.deliver(ctx, w, []byte(`{"events":[]}`)) {
				return
			}
			heartbeat.Reset(s.hooks.cfg.heartbeat)
		case <-w.kick:
			if !wait(ctx, s.hooks.cfg.batch) {
				return
			}
			body := s.collect(w)
			if body != nil && !s.deliver(ctx, w, body) {
				return
			}
		}
	}
}

// wait waits d or until ctx ends, and reports whether it waited d.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// collect takes the events w has not delivered yet, up to hookMaxEvents,
// and encodes them as a delivery body; nil when there are none.
func (s *Sandbox) collect(w *webhook) []byte {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	end := st.firstSeq + int64(len(st.events))
	from := max(w.pos, st.firstSeq) // events that fell off the log are lost, as in Asana
	rc := &renderCtx{s: s, st: st, now: time.Now()}
	var out []any
	w.pos = end
	for _, e := range st.events[from-st.firstSeq:] {
		if !e.sees(w.resource.gid) || !w.passes(e) {
			continue
		}
		if len(out) == hookMaxEvents {
			w.pos = e.seq
			select { // the rest goes in the next delivery
			case w.kick <- struct{}{}:
			default:
			}
			break
		}
		out = append(out, rc.render(s.schema.event, e, nil, s.schema.event.full))
	}
	if len(out) == 0 {
		return nil
	}
	body := &object{}
	body.Set("events", out)
	b, err := json.Marshal(body)
	if err != nil {
		return nil
	}
	return b
}

// passes reports whether e passes w's filters: any of them, or all events
// when there are none.
func (w *webhook) passes(e *event) bool {
	if len(w.filters) == 0 {
		return true
	}
	for _, f := range w.filters {
		if f.resourceType != "" && f.resourceType != e.resource.typ {
			continue
		}
		if f.resourceSubtype != "" && f.resourceSubtype != e.resource.subtype {
			continue
		}
		if f.action != "" && f.action != e.action {
			continue
		}
		if len(f.fields) > 0 && (e.change == nil || !slices.Contains(f.fields, e.change.field)) {
			continue
		}
		return true
	}
	return false
}

// deliver POSTs body to w's target until it is accepted, retrying with
// backoff. It reports false when w is gone (deleted, dropped after failing
// for the deletion window, or the sandbox closed).
func (s *Sandbox) deliver(ctx context.Context, w *webhook, body []byte) bool {
	sig := Sign(w.secret, body)
	for {
		if ctx.Err() != nil {
			return false
		}
		failure := s.post(ctx, w.target, body, sig)
		if ctx.Err() != nil {
			return false
		}
		next, ok := s.record(w, failure)
		if !ok {
			return false
		}
		if failure == "" {
			return true
		}
		if !wait(ctx, time.Until(next)) {
			return false
		}
	}
}

// post makes one delivery attempt and returns "" on a 2xx, else what went
// wrong, as last_failure_content shows it.
func (s *Sandbox) post(ctx context.Context, target string, body []byte, sig string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return "Invalid target URL"
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("X-Hook-Signature", sig)
	resp, err := s.hooks.client.Do(req)
	if err != nil {
		// The error names the target; the content doesn't need to.
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return "Timeout"
		}
		return "Connection error"
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, hookMaxFailure))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return ""
	}
	content := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if len(got) > 0 {
		content += "\n\n" + strings.ToValidUTF8(string(got), "\uFFFD")
	}
	return content
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// record notes the outcome of an attempt on w (failure "" is a success) and
// returns when to try again. ok is false when w is gone, including when
// this failure ended the deletion window and deleted it.
func (s *Sandbox) record(w *webhook, failure string) (next time.Time, ok bool) {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.webhook(w.gid) != w {
		return time.Time{}, false
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if failure == "" {
		w.lastSuccessAt = now
		w.retryCount = 0
		w.failingSince, w.nextAttemptAfter, w.failureDeletionAt = time.Time{}, time.Time{}, time.Time{}
		return time.Time{}, true
	}
	w.lastFailureAt, w.lastFailureContent = now, failure
	if w.failingSince.IsZero() {
		w.failingSince = now
	}
	w.failureDeletionAt = w.failingSince.Add(s.hooks.cfg.deletion)
	if !now.Before(w.failureDeletionAt) {
		_ = st.deleteWebhook(w)
		return time.Time{}, false
	}
	w.retryCount++
	backoff := s.hooks.cfg.retryBase
	for i := 1; i < w.retryCount && backoff < hookMaxBackoff; i++ {
		backoff *= 2
	}
	backoff = min(backoff, max(hookMaxBackoff, s.hooks.cfg.retryBase))
	next = now.Add(backoff)
	if next.After(w.failureDeletionAt) {
		next = w.failureDeletionAt // one last attempt when the window closes
	}
	w.nextAttemptAfter = next
	return next, true
}
