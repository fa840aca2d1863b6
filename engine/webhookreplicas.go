package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/store"
)

// Webhooks on any replica. On PostgreSQL a node's replicas sit behind one
// URL, and the tracker's calls to a webhook reach whichever replica the
// load balancer picks, while only the leader (leader.go) subscribes and
// detects changes. Two things cross between replicas, both through the
// database:
//
//   - The handshake. The leader records the token it subscribes with
//     (webhook_pending) before its subscribe call; the replica the
//     handshake reaches, finding the token there without a secret, stores
//     the secret, sealed with the node key, and echoes it; the leader reads
//     it when its call returns. The tracker answers the subscribe call only
//     after the echo (tracker.Webhooks.Subscribe: the handshake happens
//     while the call is in flight, and the call fails when it did), and the
//     replica commits before it echoes, so one read after the call is
//     enough: there is nothing to wait for.
//   - A delivery's wake-up. A follower checks the signature as the leader
//     would, then tells the leader with NOTIFY on hookChannel, the
//     project as payload; the leader, listening, wakes its change detection
//     for that project as a delivery of its own does. A listener that lost
//     its connection may have missed some: when it listens again, the
//     leader looks at every hooked project once.
//   - A heartbeat (a delivery without events) on a follower is told to
//     the leader too, as hookAlive and the project: it keeps the leader's
//     record of the webhook alive, so the webhook is not checked as a
//     quiet one, and wakes nothing.
//
// On SQLite one process subscribes, takes every call and detects: none of
// this runs.

// hookChannel is the notification channel a follower wakes the leader on.
const hookChannel = "tandem_hook"

// hookAlive prefixes the project of a heartbeat a follower tells the
// leader of (a project id has no space).
const hookAlive = "alive "

// hookPendingStale is how old a pending handshake must be to be taken as
// left by a leader that died while subscribing (the call is bounded by
// hookSubscribeTimeout).
const hookPendingStale = 10 * hookSubscribeTimeout

// hookDBTimeout bounds the database work a webhook call does while the
// tracker waits for the answer.
const hookDBTimeout = 5 * time.Second

// beginShared records, on PostgreSQL, that the node is establishing a
// webhook with token, so any replica may take its handshake; end forgets
// it once the subscribe call is done. On SQLite both do nothing.
func (h *hooks) beginShared(ctx context.Context, token, project string) (end func(), err error) {
	if !h.st.Shared() {
		return func() {}, nil
	}
	now := h.now()
	if err := h.st.BeginWebhook(ctx, token, project, now, now.Add(-hookPendingStale)); err != nil {
		return nil, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hookDBTimeout)
		defer cancel()
		if err := h.st.EndWebhook(ctx, token); err != nil {
			// Left, the row is deleted as stale by a later subscribe.
			h.log.Warn("webhooks: forgetting a finished handshake", "project", project, "err", err)
		}
	}, nil
}

// sharedSecret is the handshake's secret for s another replica took, read
// once the subscribe call returned; nil if none came.
func (h *hooks) sharedSecret(ctx context.Context, s *hookSub) []byte {
	if !h.st.Shared() {
		return nil
	}
	_, sealed, err := h.st.PendingWebhook(ctx, s.token)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
			h.log.Warn("webhooks: reading the handshake another replica took", "project", s.project, "err", err)
		}
		return nil
	}
	secret, err := h.box.open(sealed)
	if err != nil {
		h.log.Warn("webhooks: the handshake another replica took does not open", "project", s.project)
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.secret == nil {
		s.secret = secret
	}
	return s.secret
}

// sharedHandshake takes a handshake for a webhook another replica is
// establishing: stored (sealed) if the token is pending without a secret
// yet; ErrHookUnknown otherwise, and on SQLite.
func (h *hooks) sharedHandshake(token, secret string) error {
	if !h.st.Shared() {
		return ErrHookUnknown
	}
	ctx, cancel := context.WithTimeout(context.Background(), hookDBTimeout)
	defer cancel()
	took, err := h.st.WebhookHandshake(ctx, token, h.box.seal([]byte(secret)))
	if err != nil {
		h.log.Warn("webhooks: storing a handshake for the replica establishing the webhook", "err", err)
		return ErrHookUnknown
	}
	if !took {
		return ErrHookUnknown
	}
	return nil
}

// lookup finds a token this replica does not know in the database, on
// PostgreSQL: the replica leading may have established its webhook after
// this one read them, and a delivery answered ErrHookUnknown (410 Gone)
// would have the tracker delete a live webhook. Found, it is known from
// then on. On SQLite the one process knows every webhook.
func (h *hooks) lookup(token string) *hookSub {
	if !h.st.Shared() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The leader keeps the row of one being established until its
	// webhook row is committed: read in this order, a token established
	// is in one or the other.
	if s := h.lookupPending(ctx, token); s != nil {
		return s
	}
	w, err := h.st.WebhookByToken(ctx, token)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.log.Warn("webhooks: looking up a delivery's token", "err", err)
		}
		return nil
	}
	secret, err := h.box.open(w.Secret)
	if err != nil {
		return nil
	}
	s := &hookSub{project: w.Project, token: w.Token, trackerID: w.TrackerID, secret: secret}
	h.mu.Lock()
	defer h.mu.Unlock()
	if known := h.tokens[token]; known != nil {
		return known
	}
	h.tokens[token] = s
	return s
}

// lookupPending finds a token being established (its handshake taken),
// for a delivery that comes between the leader's subscribe call returning
// and its webhook row committed: answered Gone, the tracker would delete
// the webhook. Not kept: the webhook row follows (lookup). nil if none.
func (h *hooks) lookupPending(ctx context.Context, token string) *hookSub {
	project, sealed, err := h.st.PendingWebhook(ctx, token)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.log.Warn("webhooks: looking up a delivery's token among those being established", "err", err)
		}
		return nil
	}
	secret, err := h.box.open(sealed)
	if err != nil {
		return nil
	}
	return &hookSub{project: project, token: token, secret: secret}
}

// heartbeat notes a delivery without events: here the caller has marked
// the webhook alive; a follower tells the leader, whose record counts.
func (h *hooks) heartbeat(project string) {
	if h.st.Shared() && !h.leads() {
		h.tellLeader(hookAlive + project)
	}
}

// wake has change detection look at project now: here when this replica
// detects (it leads, or the node is one process), by telling the leader
// otherwise.
func (h *hooks) wake(project string) {
	if h.st.Shared() && !h.leads() {
		h.tellLeader(project)
		return
	}
	h.lookNow(project)
}

// lookNow marks project for a look before the next tick and kicks the
// detector.
func (h *hooks) lookNow(project string) {
	h.sched.lookNow(project)
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// tellLeader notifies the replicas that a delivery for project came (or,
// prefixed with hookAlive, a heartbeat); the leader hears it (listen). Its own transaction, outside the store's
// writer lock: it writes nothing, and the tracker waits for the answer.
func (h *hooks) tellLeader(project string) {
	ctx, cancel := context.WithTimeout(context.Background(), hookDBTimeout)
	defer cancel()
	err := func() error {
		tx, err := h.st.DB().BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		if err := h.st.Notify(ctx, tx, hookChannel, project); err != nil {
			return err
		}
		return tx.Commit()
	}()
	if err != nil {
		h.log.Warn("webhooks: telling the leader of a delivery failed; its safety poll will find the change", "project", project, "err", err)
	}
}

// listen hears the followers' deliveries until ctx ends (PostgreSQL only):
// the leader wakes change detection for each, and, when it listens again
// after its connection failed, looks once at every hooked project, whose
// deliveries it may have missed meanwhile. A replica that does not lead
// ignores them: the leader hears them too.
func (h *hooks) listen(ctx context.Context) {
	started := false
	ready := func() {
		if !started {
			// Before the first, the detector's own first rounds look
			// at every project.
			started = true
			return
		}
		if !h.leads() {
			return
		}
		h.mu.Lock()
		projects := make([]string, 0, len(h.subs))
		for p := range h.subs {
			projects = append(projects, p)
		}
		h.mu.Unlock()
		h.log.Info("webhooks: listening to the other replicas again; looking at the hooked projects once", "projects", len(projects))
		for _, p := range projects {
			h.lookNow(p)
		}
	}
	heard := func(n store.Notification) {
		if !h.leads() {
			return
		}
		project, beat := strings.CutPrefix(n.Payload, hookAlive)
		h.mu.Lock()
		if s := h.subs[project]; s != nil {
			// A valid delivery on another replica keeps the webhook
			// alive as one here does.
			s.seen = h.now()
		}
		h.mu.Unlock()
		if !beat {
			h.lookNow(project)
		}
	}
	if err := h.st.Listen(ctx, hookChannel, ready, heard); err != nil && ctx.Err() == nil {
		h.log.Error("webhooks: listening to the other replicas' deliveries stopped", "err", err)
	}
}
