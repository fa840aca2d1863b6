package engine

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/store"
)

// Webhooks as the wake-up. Where the node's URL is reachable by its
// tracker and the tracker calls back (tracker.Webhooks: Asana), the node
// holds one webhook per tracker project with a connection, shared by every
// connection on it as change detection is. A delivery only wakes change
// detection, which still reads what changed through the tracker's events
// (detect.go): a forged or lost delivery can't change what syncs, it can
// only make a look come sooner or later. While a project's webhook is
// alive its poll is a safety net, every HookPollMax; where the tracker
// can't reach the node (the handshake fails), the node polls as before
// and tries again every HookRetry.

// PathHooks is where the tracker delivers, below the node's base URL:
// PathHooks + an unguessable token per subscription.
const PathHooks = "/api/v1/hooks/"

// MaxHookBody bounds a delivery's body. An Asana event is about half a
// kilobyte and a delivery batches them: a few hundred fit. One over it is
// refused; the tracker retries, and the safety poll finds the change.
const MaxHookBody = 256 << 10

// DefaultHookPollMax is how long, at most, a project whose webhook is
// alive waits between two looks (the safety poll for a lost delivery). The
// idle budget is one call per connection per minute over both nodes: each
// node spends 1/5 call a minute on this poll and 1/10 on the webhook's
// check (DefaultHookCheck), 0.6 a minute for a connection's two ends, and
// a lost delivery delays its change by five minutes at worst.
const DefaultHookPollMax = 5 * time.Minute

// DefaultHookCheck is how long a webhook may go without a delivery before
// the node asks the tracker whether it is still there (GET). Asana's
// heartbeat comes every 8 hours, too seldom to notice a webhook Asana
// deleted (after failing deliveries for a day) in good time; a check
// every ten minutes costs 0.1 call a minute and re-establishes a dropped
// webhook within that, its changes found by the safety poll meanwhile.
const DefaultHookCheck = 10 * time.Minute

// DefaultHookRetry is how long the node polls after its tracker could not
// reach it (a failed handshake) before trying a webhook again.
const DefaultHookRetry = time.Hour

// hookSubscribeTimeout bounds the subscribe call, handshake included.
const hookSubscribeTimeout = 30 * time.Second

// Errors a delivery is refused with; the HTTP layer maps them.
var (
	// ErrHookUnknown is a delivery or handshake for a token the node has
	// no webhook (or pending handshake) for.
	ErrHookUnknown = errors.New("no webhook here")
	// ErrHookSignature is a delivery whose X-Hook-Signature is missing or
	// wrong: not from the tracker.
	ErrHookSignature = errors.New("the webhook signature is missing or wrong")
)

// hooks keeps the node's webhooks: it establishes one on each project the
// detector says has connections, checks it is still there, deletes it when
// the project's last connection goes, and turns deliveries into looks.
type hooks struct {
	st     *store.Store
	box    *secretBox
	log    *slog.Logger
	now    func() time.Time
	wh     tracker.Webhooks
	target string // the node's URL + PathHooks
	sched  *schedule
	kick   chan struct{} // the detector's
	// leads reports whether this replica leads (leader.go): only the
	// leader keeps the webhooks; any replica takes deliveries.
	leads func() bool
	check time.Duration
	retry time.Duration

	mu      sync.Mutex
	subs    map[string]*hookSub // by project
	tokens  map[string]*hookSub // by token, the pending ones too
	wanted  []string            // the projects with connections
	told    bool                // wanted was set: until then, nothing is known to be unwanted
	retryAt map[string]time.Time
	loaded  bool

	refused atomic.Int64 // deliveries with a bad signature
	checks  atomic.Int64 // looks at the tracker's record of a quiet webhook
	changed chan struct{}
	stop    context.CancelFunc
	running sync.WaitGroup
}

// hookSub is one webhook: established (trackerID set) or waiting for its
// handshake (pending).
type hookSub struct {
	project, token, trackerID string
	secret                    []byte
	pending                   bool
	// seen is the last valid delivery (or the establishment), checked
	// the last look at the tracker's record.
	seen, checked time.Time
}

// HookState is where a node's webhooks stand: how many projects have one
// alive, how many deliveries were refused for a bad signature, and how
// often the node asked its tracker whether a quiet webhook was still there.
type HookState struct {
	Alive   int   `json:"alive"`
	Refused int64 `json:"refused"`
	Checks  int64 `json:"checks"`
}

// startHooks starts the webhooks where the tracker has them and the node a
// URL; nothing otherwise (the node polls).
func (n *Node) startHooks(d *detector, every time.Duration) {
	wh, ok := n.cfg.Tracker.(tracker.Webhooks)
	if !ok || !n.cfg.Webhooks || n.inst.URL == "" || d == nil {
		return
	}
	h := &hooks{st: n.st, box: n.box, log: n.log, now: n.now, wh: wh,
		target: strings.TrimRight(n.inst.URL, "/") + PathHooks, sched: d.sched, kick: make(chan struct{}, 1), leads: d.leader.leads,
		check: orDefault(n.cfg.HookCheck, DefaultHookCheck), retry: orDefault(n.cfg.HookRetry, DefaultHookRetry),
		subs: map[string]*hookSub{}, tokens: map[string]*hookSub{}, retryAt: map[string]time.Time{},
		changed: make(chan struct{}, 1)}
	d.sched.hookTicks = max(int(orDefault(n.cfg.HookPollMax, DefaultHookPollMax)/every), 1)
	// The stored webhooks are known before the listener answers: a
	// delivery for one of them answered Gone would have Asana delete it.
	if err := h.load(context.Background()); err != nil {
		n.log.Error("webhooks: reading the stored ones; will try again", "err", err)
	}
	d.kick, d.want = h.kick, h.want
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	h.running.Go(func() { h.run(ctx, every) })
	if n.st.Shared() {
		h.running.Go(func() { h.listen(ctx) }) // webhookreplicas.go
	}
	n.hooks = h
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// want is the detector telling which projects have connections, every
// tick; a change of them wakes the upkeep.
func (h *hooks) want(projects []string) {
	h.mu.Lock()
	same := h.told && slicesEqual(h.wanted, projects)
	h.wanted, h.told = append(h.wanted[:0], projects...), true
	h.mu.Unlock()
	if !same {
		select {
		case h.changed <- struct{}{}:
		default:
		}
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// run keeps the webhooks until ctx ends: on a change of the projects and
// every tick it subscribes, checks and unsubscribes as needed.
func (h *hooks) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.changed:
		}
		h.upkeep(ctx)
	}
}

// upkeep is one pass over the webhooks. The tracker calls are made here,
// one at a time, never in change detection's way.
func (h *hooks) upkeep(ctx context.Context) {
	if !h.leads() {
		return
	}
	h.mu.Lock()
	loaded := h.loaded
	h.mu.Unlock()
	if !loaded {
		if err := h.load(ctx); err != nil {
			if ctx.Err() == nil {
				h.log.Error("webhooks: reading the stored ones", "err", err)
			}
			return
		}
	}
	h.mu.Lock()
	if !h.told {
		// Before change detection's first round a stored webhook is
		// not known to be unwanted.
		h.mu.Unlock()
		return
	}
	wanted := map[string]bool{}
	for _, p := range h.wanted {
		wanted[p] = true
	}
	var gone, missing, stale []string
	now := h.now()
	for p, s := range h.subs {
		switch {
		case !wanted[p]:
			gone = append(gone, p)
		case now.Sub(s.seen) >= h.check && now.Sub(s.checked) >= h.check:
			stale = append(stale, p)
		}
	}
	for _, p := range h.wanted {
		if h.subs[p] == nil && !now.Before(h.retryAt[p]) {
			missing = append(missing, p)
		}
	}
	h.mu.Unlock()
	for _, p := range gone {
		h.unsubscribe(ctx, p)
	}
	for _, p := range stale {
		h.recheck(ctx, p)
	}
	for _, p := range missing {
		if ctx.Err() != nil {
			return
		}
		h.subscribe(ctx, p)
	}
}

// load reads the webhooks established by a previous run, or by the
// replica that led before this one, in place of those known; each is
// checked on the first pass (its deliveries may have failed while the
// node was down).
func (h *hooks) load(ctx context.Context) error {
	stored, err := h.st.Webhooks(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	subs, tokens := map[string]*hookSub{}, map[string]*hookSub{}
	for t, s := range h.tokens {
		if s.pending {
			tokens[t] = s
		}
	}
	for _, w := range stored {
		secret, err := h.box.open(w.Secret)
		if err != nil {
			h.log.Warn("webhooks: a stored secret does not open; that webhook is established again", "project", w.Project)
			continue
		}
		s := &hookSub{project: w.Project, token: w.Token, trackerID: w.TrackerID, secret: secret}
		subs[w.Project], tokens[w.Token] = s, s
		h.sched.hook(w.Project, true)
	}
	for p := range h.subs {
		if subs[p] == nil {
			h.sched.hook(p, false)
		}
	}
	h.subs, h.tokens, h.loaded = subs, tokens, true
	return nil
}

// reload has the next upkeep read the webhooks again: this replica took
// the lead, and the one that led before may have changed them.
func (h *hooks) reload(context.Context) {
	h.mu.Lock()
	h.loaded = false
	var hooked []string
	for p := range h.subs {
		hooked = append(hooked, p)
	}
	h.mu.Unlock()
	if h.st.Shared() {
		// Deliveries while no replica led woke nobody: one look each.
		for _, p := range hooked {
			h.sched.wake(p)
		}
	}
}

// subscribe establishes a webhook on project. Leftovers of an earlier try
// (established at the tracker, lost here by a crash) are deleted first.
// When the tracker can't reach the node, one line says so and the project
// is polled until the next try.
func (h *hooks) subscribe(ctx context.Context, project string) {
	fail := func(msg string, err error) {
		h.mu.Lock()
		h.retryAt[project] = h.now().Add(h.retry)
		h.mu.Unlock()
		if ctx.Err() == nil {
			h.log.Warn("webhooks: "+msg+"; polling instead, trying again later", "project", project, "retry_in", h.retry.String(), "err", err)
		}
	}
	old, err := h.wh.Hooks(ctx, project)
	if err != nil {
		fail("listing the project's webhooks failed", err)
		return
	}
	for _, w := range old {
		if strings.HasPrefix(w.Target, h.target) {
			if err := h.wh.Unsubscribe(ctx, w.ID); err != nil {
				fail("deleting a leftover webhook failed", err)
				return
			}
		}
	}
	s := &hookSub{project: project, token: newToken(""), pending: true}
	// On PostgreSQL the handshake may reach another replica, which finds
	// the token in the database (webhookreplicas.go).
	end, err := h.beginShared(ctx, s.token, project)
	if err != nil {
		fail("recording the webhook being established failed", err)
		return
	}
	defer end()
	h.mu.Lock()
	h.tokens[s.token] = s
	h.mu.Unlock()
	sctx, cancel := context.WithTimeout(ctx, hookSubscribeTimeout)
	w, err := h.wh.Subscribe(sctx, project, h.target+s.token)
	cancel()
	h.mu.Lock()
	secret := s.secret
	h.mu.Unlock()
	if err == nil && secret == nil {
		secret = h.sharedSecret(ctx, s)
	}
	h.mu.Lock()
	if err != nil || secret == nil {
		delete(h.tokens, s.token)
	}
	h.mu.Unlock()
	if err != nil {
		fail("the tracker could not establish a webhook (can it reach this node's --url?)", err)
		return
	}
	if secret == nil {
		_ = h.wh.Unsubscribe(ctx, w.ID)
		fail("the tracker established a webhook without a handshake", errors.New("no X-Hook-Secret reached this node"))
		return
	}
	now := h.now()
	if err := h.st.PutWebhook(ctx, store.Webhook{Project: project, Token: s.token, TrackerID: w.ID,
		Secret: h.box.seal(secret), CreatedAt: now}); err != nil {
		_ = h.wh.Unsubscribe(ctx, w.ID)
		h.mu.Lock()
		delete(h.tokens, s.token)
		h.mu.Unlock()
		fail("recording the webhook failed", err)
		return
	}
	h.mu.Lock()
	s.trackerID, s.pending, s.seen, s.checked = w.ID, false, now, now
	h.subs[project] = s
	delete(h.retryAt, project)
	h.mu.Unlock()
	h.sched.hook(project, true)
	h.log.Info("webhooks: established; the project is polled as a safety net only", "project", project)
}

// recheck asks the tracker whether a quiet webhook is still there and
// active; one dropped is forgotten and established again.
func (h *hooks) recheck(ctx context.Context, project string) {
	h.mu.Lock()
	s := h.subs[project]
	h.mu.Unlock()
	if s == nil {
		return
	}
	h.checks.Add(1)
	w, err := h.wh.Hook(ctx, s.trackerID)
	switch {
	case err == nil && w.Active:
		h.mu.Lock()
		s.checked = h.now()
		h.mu.Unlock()
	case err == nil || errors.Is(err, tracker.ErrNotFound):
		h.log.Warn("webhooks: the tracker dropped this project's webhook; establishing it again", "project", project)
		h.unsubscribe(ctx, project)
		h.subscribe(ctx, project)
	default:
		if ctx.Err() == nil {
			h.log.Warn("webhooks: checking a webhook failed; will check again", "project", project, "err", err)
		}
		h.mu.Lock()
		s.checked = h.now()
		h.mu.Unlock()
	}
}

// unsubscribe deletes project's webhook at the tracker and here; the
// project is polled meanwhile.
func (h *hooks) unsubscribe(ctx context.Context, project string) {
	h.mu.Lock()
	s := h.subs[project]
	h.mu.Unlock()
	if s == nil {
		return
	}
	h.sched.hook(project, false)
	if err := h.wh.Unsubscribe(ctx, s.trackerID); err != nil {
		if ctx.Err() == nil {
			h.log.Warn("webhooks: deleting a webhook failed; will try again", "project", project, "err", err)
		}
		return
	}
	if err := h.st.DeleteWebhook(ctx, project); err != nil {
		if ctx.Err() == nil {
			h.log.Error("webhooks: forgetting a deleted webhook", "project", project, "err", err)
		}
		return
	}
	h.mu.Lock()
	delete(h.subs, project)
	delete(h.tokens, s.token)
	h.mu.Unlock()
}

// handshake takes the tracker's X-Hook-Secret for token: only while the
// node is establishing a webhook with that token, and only once. A token
// this replica is not establishing may be another's (sharedHandshake).
func (h *hooks) handshake(token, secret string) error {
	if secret == "" {
		return ErrHookUnknown
	}
	h.mu.Lock()
	s := h.tokens[token]
	switch {
	case s == nil:
		h.mu.Unlock()
		return h.sharedHandshake(token, secret)
	case !s.pending || s.secret != nil:
		h.mu.Unlock()
		return ErrHookUnknown
	}
	s.secret = []byte(secret)
	h.mu.Unlock()
	return nil
}

// deliver checks a delivery's signature over body before anything reads
// it; a valid one keeps its webhook alive and, if it carries events, has
// change detection look at the project now.
func (h *hooks) deliver(token, signature string, body []byte) error {
	h.mu.Lock()
	s := h.tokens[token]
	var secret []byte
	if s != nil {
		secret = s.secret
	}
	h.mu.Unlock()
	if s == nil || secret == nil {
		var found *hookSub
		switch {
		case s == nil:
			found = h.lookup(token)
		case h.st.Shared():
			// Being established here, its handshake taken by another
			// replica: the secret is in the database until the webhook
			// is recorded.
			ctx, cancel := context.WithTimeout(context.Background(), hookDBTimeout)
			found = h.lookupPending(ctx, token)
			cancel()
		}
		if found != nil {
			h.mu.Lock()
			s, secret = found, found.secret
			h.mu.Unlock()
		}
	}
	if s == nil || secret == nil {
		return ErrHookUnknown
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	got, err := hex.DecodeString(strings.TrimSpace(signature))
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		h.refused.Add(1)
		return ErrHookSignature
	}
	h.mu.Lock()
	s.seen = h.now()
	h.mu.Unlock()
	var d struct {
		Events []json.RawMessage `json:"events"`
	}
	// A signed body that doesn't parse is the tracker's still: a look
	// costs little, and reads only what the tracker says changed.
	if json.Unmarshal(body, &d) != nil || len(d.Events) > 0 {
		h.wake(s.project)
		return nil
	}
	h.heartbeat(s.project)
	return nil
}

func (h *hooks) state() HookState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return HookState{Alive: len(h.subs), Refused: h.refused.Load(), Checks: h.checks.Load()}
}

func (h *hooks) close() {
	h.stop()
	h.running.Wait()
}

// HookHandshake answers the tracker's handshake for a webhook the node is
// establishing: nil when secret is taken (the caller echoes it),
// ErrHookUnknown when the node is establishing none with that token.
func (n *Node) HookHandshake(token, secret string) error {
	if n.hooks == nil {
		return ErrHookUnknown
	}
	return n.hooks.handshake(token, secret)
}

// HookDelivery takes a webhook delivery: ErrHookUnknown for a token with
// no webhook, ErrHookSignature for a bad signature (counted), nil when
// it was the tracker's.
func (n *Node) HookDelivery(token, signature string, body []byte) error {
	if n.hooks == nil {
		return ErrHookUnknown
	}
	return n.hooks.deliver(token, signature, body)
}

// Hooks is where the node's webhooks stand; zero without webhooks.
func (n *Node) Hooks() HookState {
	if n.hooks == nil {
		return HookState{}
	}
	return n.hooks.state()
}
