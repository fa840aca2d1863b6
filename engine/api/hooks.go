package api

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandem-sync/tandem/engine"
)

// hook serves the tracker's calls to a webhook (engine/webhooks.go): the
// handshake (X-Hook-Secret, echoed only while the node is establishing a
// webhook with that token) and deliveries, whose signature the engine
// checks over the bounded body before anything parses it. The answer goes
// out before change detection looks: a delivery only wakes it.
func (s *server) hook(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if secret := r.Header.Get("X-Hook-Secret"); secret != "" {
		if err := s.node.HookHandshake(token, secret); err != nil {
			s.hookRefused(r, "unknown", "a handshake for no webhook being established")
			refuseUnread(w, http.StatusNotFound, 0, "no webhook is being established here", "not_found")
			return
		}
		w.Header().Set("X-Hook-Secret", secret)
		w.WriteHeader(http.StatusOK)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.hookRefused(r, "too_large", "a delivery over the limit")
			refuseTooLarge(w, engine.MaxHookBody)
			return
		}
		s.hookRefused(r, "unreadable", "the delivery's body could not be read")
		refuseUnread(w, http.StatusBadRequest, 0, "the body could not be read", "bad_request")
		return
	}
	switch err := s.node.HookDelivery(token, r.Header.Get("X-Hook-Signature"), body); {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, engine.ErrHookSignature):
		// Never the body or the signature in the log: only that it came.
		s.hookRefused(r, "bad_signature", "a delivery whose X-Hook-Signature is missing or wrong")
		refuseUnread(w, http.StatusUnauthorized, 0, "the signature is missing or wrong", "unauthorized")
	default:
		// 410 Gone has Asana delete a webhook the node no longer has.
		s.hookRefused(r, "unknown", "a delivery for no webhook of this node")
		refuseUnread(w, http.StatusGone, 0, "no webhook here", "gone")
	}
}

// hookRefused counts and logs (at most every RefusedLogEvery per reason) a
// refused call to a webhook's URL, without the token in its path: it is
// not the secret, but it is the webhook's address, kept off the log.
func (s *server) hookRefused(r *http.Request, reason, detail string) {
	s.otherRefusals.WithLabelValues("hooks", reason).Inc()
	s.refusals.refused(time.Now(), "webhook request refused", "hooks_"+reason,
		"method", r.Method, "path", loggedPath(r), "remote", r.RemoteAddr, "detail", detail)
}

// hooksCollectors report the node's webhooks, and whether this replica
// upkeeps them (and detects changes), on /metrics.
func hooksCollectors(node *engine.Node) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tandem_webhooks_alive", Help: "Tracker projects whose webhook is established (their poll is a safety net).",
		}, func() float64 { return float64(node.Hooks().Alive) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tandem_leader", Help: "1 on the replica that runs change detection and webhook upkeep (the one process on SQLite), 0 on the others.",
		}, func() float64 {
			if node.Leads() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tandem_webhook_signatures_refused_total", Help: "Webhook deliveries refused for a missing or wrong X-Hook-Signature.",
		}, func() float64 { return float64(node.Hooks().Refused) }),
	}
}
