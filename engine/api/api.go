// Package api is the node's HTTP listener: public instance info, the admin
// API behind the admin token, the peer API behind signed requests, /healthz
// and /metrics. It is a thin layer over package engine: it decodes, calls
// the engine and encodes; the engine decides.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// maxBody bounds JSON request bodies; nothing the API takes comes near it.
const maxBody = 1 << 20

// server holds what the handlers share.
type server struct {
	node     *engine.Node
	log      *slog.Logger
	requests *prometheus.CounterVec

	// What bounds callers: peer request slots and the bytes of their
	// bodies, the unauthenticated endpoints' rate per address, and the
	// refusals' log and counters.
	slots         *slots
	budget        *byteBudget
	perAddr       *addrLimiter
	publicSlots   *slots // unauthenticated requests in progress, by address
	refusals      *refusalLog
	peerRefusals  *prometheus.CounterVec
	otherRefusals *prometheus.CounterVec
}

// New returns the node's HTTP handler with the default limits. Metrics go
// to a registry of the handler's own, so two nodes in one process (the
// demo, tests) don't mix.
func New(node *engine.Node, log *slog.Logger) http.Handler {
	return NewWithLimits(node, log, Limits{})
}

// NewWithLimits is New with limits of the caller's (zero fields take the
// defaults).
func NewWithLimits(node *engine.Node, log *slog.Logger, lim Limits) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lim = lim.Defaults()
	reg := prometheus.NewRegistry()
	s := &server{node: node, log: log, requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tandem_http_requests_total", Help: "HTTP requests served, by route and status code.",
	}, []string{"route", "code"}),
		slots:       newSlots(lim.PeerPerConnection, lim.PeerTotal),
		budget:      newByteBudget(lim.PeerBodyBytes, lim.PeerBodyBytesPerConnection),
		perAddr:     newAddrLimiter(lim.PublicPerSecond, lim.PublicBurst, lim.PublicAddresses),
		publicSlots: newSlots(lim.PublicPerAddress, lim.PublicInFlight),
		refusals:    newRefusalLog(log, lim.RefusedLogEvery),
		peerRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_peer_refused_total", Help: "Peer API requests refused, by reason.",
		}, []string{"reason"}),
		otherRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_requests_refused_total", Help: "Admin and public API requests refused, by API and reason.",
		}, []string{"api", "reason"}),
	}
	reg.MustRegister(s.requests, connectionsCollector{node}, s.peerRefusals, s.otherRefusals)
	reg.MustRegister(hooksCollectors(node)...)

	mux := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.count(pattern, h)) }
	handle("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	handle("GET "+adminapi.PathInstance, s.public(0, s.instance))

	// The admin API: its paths and bodies are the contract in
	// engine/adminapi, which connectors/remote calls.
	conn := adminapi.PatternConnection + "/"
	handle("GET "+adminapi.PathConnections, s.admin(s.listConnections))
	handle("GET "+adminapi.PatternConnection, s.admin(s.getConnection))
	handle("POST "+conn+adminapi.ActionActivate, s.admin(s.setActive(true)))
	handle("POST "+conn+adminapi.ActionDeactivate, s.admin(s.setActive(false)))
	handle("DELETE "+adminapi.PatternConnection, s.admin(s.deleteConnection))
	handle("POST "+conn+adminapi.ActionTrigger, s.admin(s.setTrigger))
	handle("GET "+conn+adminapi.ActionStats, s.admin(s.connectionStats))
	handle("GET "+conn+adminapi.ActionEvents, s.admin(s.connectionEvents))
	handle("GET "+conn+adminapi.ActionRules, s.admin(s.connectionRules))
	handle("POST "+conn+adminapi.ActionUpgrade, s.admin(s.upgrade))
	handle("GET "+conn+adminapi.ActionScripts, s.admin(s.scripts))
	handle("PUT "+conn+adminapi.ActionScriptDraft, s.admin(s.saveDraft))
	handle("POST "+conn+adminapi.ActionScriptPublish, s.admin(s.publish))
	handle("GET "+conn+adminapi.ActionScriptVersions, s.admin(s.scriptVersions))
	handle("GET "+conn+adminapi.ActionScriptCompare, s.admin(s.compareScripts))
	handle("POST "+conn+adminapi.ActionScriptTest, s.admin(s.testRun))
	handle("POST "+conn+adminapi.ActionInvitation, s.admin(s.renewInvitation))
	handle("GET "+adminapi.PathProjects, s.admin(s.projects))
	handle("GET "+adminapi.PathItems, s.admin(s.recentItems))
	handle("POST "+adminapi.PathProbe, s.admin(s.probe))
	handle("POST "+adminapi.PathDestinationProjects, s.admin(s.destinationProjects))
	handle("POST "+adminapi.PathInvitations, s.admin(s.invite))
	handle("POST "+adminapi.PathPreviewInvitation, s.admin(s.previewInvitation))
	handle("POST "+adminapi.PathAccept, s.admin(s.accept))
	handle("POST "+adminapi.PathConnect, s.admin(s.connect))

	handle("POST "+adminapi.PathExalate, s.admin(s.exalate))
	handle("GET "+adminapi.PathStatus, s.admin(s.status))
	handle("GET "+adminapi.PatternSync, s.admin(s.syncStatus))
	handle("GET "+adminapi.PatternBulk, s.admin(s.bulk))
	handle("GET "+adminapi.PathEvents, s.admin(s.events))
	handle("POST "+adminapi.PathUnexalate, s.admin(s.unexalate))
	handle("POST "+adminapi.PathLink, s.admin(s.linkItems))
	handle("GET "+adminapi.PathHistory, s.admin(s.itemHistory))
	handle("GET "+adminapi.PathErrors, s.admin(s.syncErrors))
	handle("POST "+adminapi.PathRetry, s.admin(s.retry))
	handle("POST "+adminapi.PathRetryAll, s.admin(s.retryAll))
	handle("POST "+adminapi.PathResolve, s.admin(s.resolve))
	handle("GET "+adminapi.PathQueue, s.admin(s.syncQueue))

	handle("POST "+engine.PathRedeem, s.public(maxRedeemBody, s.redeem))
	handle("POST "+engine.PathCheckInvitation, s.public(maxCheckBody, s.checkInvitation))
	handle("POST "+engine.PathHooks+"{token}", s.public(engine.MaxHookBody, s.hook))
	handle("POST "+engine.PathPing, s.peer(s.ping))
	handle("POST "+engine.PathEvents, s.peer(s.receiveEvent))
	handle("POST "+engine.PathResults, s.peer(s.receiveResult))
	handle("POST "+engine.PathProgress, s.peer(s.receiveProgress))
	handle("GET "+engine.PathAttachments+"{id}", s.peer(s.attachment))
	handle("POST "+engine.PathDeleted, s.peer(s.receiveDeleted))
	handle("POST "+engine.PathUnexalate, s.peer(s.receiveUnexalate))
	handle("POST "+engine.PathLink, s.peer(s.receiveLink))
	return s.guard(mux)
}

// count records every request in the requests counter, by route pattern.
func (s *server) count(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h(sw, r)
		s.requests.WithLabelValues(route, fmt.Sprint(sw.code)).Inc()
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }

// Unwrap lets http.ResponseController reach the connection (read
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes streaming (server-sent events) through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// admin requires the node's admin token as a Bearer token. A check that
// could not be made (the caller went away, the store failed) is not
// reported as a wrong token.
func (s *server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		err := engine.ErrAdminToken
		if strings.EqualFold(scheme, "Bearer") {
			err = s.node.VerifyAdminToken(r.Context(), strings.TrimSpace(token))
		}
		switch {
		case err == nil:
			h(w, r)
		case errors.Is(err, engine.ErrAdminToken):
			s.refused(r, "admin", "admin_token", "missing or wrong admin token")
			refuseUnread(w, http.StatusUnauthorized, 0,
				"the admin token is missing or wrong: pass the token printed at the node's first start (--admin-token or TANDEM_ADMIN_TOKEN)",
				"unauthorized")
		case r.Context().Err() != nil:
			// The caller is gone; there is no one to answer.
		default:
			s.refused(r, "admin", "store_failed", err.Error())
			refuseUnread(w, http.StatusServiceUnavailable, 5*time.Second,
				"this node can't check the admin token: its store failed; its log has the details", "store_failed")
		}
	}
}

// peerHandler handles a verified signed request from the connection's
// other end. body is the request's body, read in full (within the route's
// limit) before the signature over it was checked.
type peerHandler func(w http.ResponseWriter, r *http.Request, c engine.Connection, body []byte)

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	// Not ok is one line saying what is wrong ("disk full"), for the
	// operator's probe. /healthz needs no token, so the details (the data
	// dir, the free space) go to the log and the syncs' errors, not here.
	if err := s.node.Health(ctx); err != nil {
		what := "store unavailable"
		if errors.Is(err, engine.ErrDiskFull) {
			what = "disk full"
		}
		// A probe every second on a full disk must not fill the log:
		// one line per kind of trouble in a while, with the count left out.
		s.refusals.refused(time.Now(), "health check failed", "health_"+strings.ReplaceAll(what, " ", "_"), "err", err.Error())
		http.Error(w, "not ok: "+what+"; the node's log says more", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

func (s *server) instance(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.node.Info())
}

// decode reads a JSON body into v, refusing unknown fields so a typo in a
// script is an error rather than silently ignored.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeObject(http.MaxBytesReader(w, r.Body, maxBody), v)
}

// decodeObject reads exactly one JSON object into v. What else a lenient
// decoder would take, it refuses: unknown fields, a body that is null or
// not an object (which would leave v empty and look like a request with
// every field blank), and anything after the object.
func decodeObject(src io.Reader, v any) error {
	dec := json.NewDecoder(src)
	var raw json.RawMessage
	err := dec.Decode(&raw)
	switch {
	case err != nil:
	case raw[0] != '{':
		err = errors.New("the body is not a JSON object")
	default:
		if _, after := dec.Token(); after != io.EOF {
			err = errors.New("something follows the JSON object")
			break
		}
		strict := json.NewDecoder(bytes.NewReader(raw))
		strict.DisallowUnknownFields()
		err = strict.Decode(v)
	}
	if err != nil {
		return engine.Errorf(engine.ErrBadRequest, "the body is not the JSON this endpoint takes: %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the engine's code and status for err. What the
// engine does not classify is an internal error: its details go to the
// log, not to a caller who may not even be authenticated.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, status := engine.ErrorCode(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error on " + s.node.Info().Name + "; its log has the details"
	}
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}

// connectionsCollector reports connections by status at scrape time, so
// the gauge can never drift from the store.
type connectionsCollector struct{ node *engine.Node }

var connectionsDesc = prometheus.NewDesc("tandem_connections", "Connections by status.", []string{"status"}, nil)

func (connectionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- connectionsDesc }

func (c connectionsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cs, err := c.node.Connections(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(connectionsDesc, err)
		return
	}
	counts := map[string]int{}
	for _, st := range []string{engine.StatusPending, engine.StatusActive, engine.StatusDeactivated, engine.StatusError} {
		counts[st] = 0
	}
	for _, conn := range cs {
		counts[conn.Status]++
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(n), st)
	}
}

// decodeBytes decodes a body a peer handler already read (it had to, to
// check the signature).
func decodeBytes(body []byte, v any) error {
	return decodeObject(bytes.NewReader(body), v)
}
