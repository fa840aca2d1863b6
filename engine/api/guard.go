package api

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

const maxPeerBody = engine.MaxPeerBody

// Body bounds per endpoint, beside maxBody (the admin API's JSON). The
// unauthenticated endpoints take a few kilobytes: a redemption carries the
// acceptor's instance (name, URL, tracker, modes), ids, a secret, a nonce
// and a public key, well under 2 KB; a check, an id and a secret.
const (
	maxRedeemBody     = 16 << 10
	maxCheckBody      = 4 << 10
	maxSmallPeerBody  = 16 << 10 // ping, deleted and unexalate notices
	minBodyRate       = 1 << 20  // bytes a second a sender must keep up
	baseBodyTimeout   = 10 * time.Second
	defaultBodyWindow = 30 * time.Second
	// publicBodyWindow is the time an unauthenticated caller has to send
	// its few kilobytes.
	publicBodyWindow = 5 * time.Second
)

// peerBodyLimit is what a signed request to r's route may carry. A GET
// carries nothing; the pipeline's deliveries carry a replica and keep the
// limit the sender checks against (engine.MaxPeerBody); routes not listed
// here keep it too; a link offer carries an item's comments as a replica
// does, so it keeps it on purpose.
func peerBodyLimit(r *http.Request) int64 {
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		return 0
	case r.URL.Path == engine.PathPing || r.URL.Path == engine.PathDeleted || r.URL.Path == engine.PathUnexalate:
		return maxSmallPeerBody
	}
	return maxPeerBody
}

// bodyTimeout is how long a body of up to limit bytes may take to arrive.
func bodyTimeout(limit int64) time.Duration {
	return baseBodyTimeout + time.Duration(float64(limit)/minBodyRate*float64(time.Second))
}

// guard is the first thing every request meets. A request with a body
// gets a read deadline for it (http.Server's ReadTimeout would also cut
// the event stream and attachment downloads, which read nothing but run
// long); the deadline is lifted once the body is read to its end.
func (s *server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r = setBodyDeadline(w, r, defaultBodyWindow)
			if b, ok := r.Body.(*liftAtEOF); ok {
				w = &closeIfUnread{ResponseWriter: w, body: b}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// setBodyDeadline gives the caller d from now to send r's body, and
// returns the request to go on with. Reaching the body's end lifts the
// deadline: from then on the server's own read only watches for the client
// going away, and must not end the request. The server's own request is
// left as it is (a shallow copy gets the new body): the server looks at
// its body after the handler to tell whether it left part of it unread,
// and then closes the connection gently instead of resetting it.
func setBodyDeadline(w http.ResponseWriter, r *http.Request, d time.Duration) *http.Request {
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(d)) != nil {
		return r
	}
	body := r.Body
	if lb, ok := body.(*liftAtEOF); ok {
		body = lb.ReadCloser
	}
	r = r.WithContext(r.Context())
	r.Body = &liftAtEOF{ReadCloser: body, rc: rc}
	return r
}

// closeIfUnread answers a request whose handler did not read its body to
// the end (a refusal, a 404 or 405 from the router, a handler that needs
// no body) and closes the connection after the answer instead of reading
// the rest: Go's server would otherwise read up to 256 KB of it first, as
// slowly as the caller likes to send it, with the connection active all
// the while and beyond the connection cap's reach.
type closeIfUnread struct {
	http.ResponseWriter
	body    *liftAtEOF
	checked bool
}

func (w *closeIfUnread) check() {
	if w.checked {
		return
	}
	w.checked = true
	if !w.body.done {
		w.Header().Set("Connection", "close")
		_ = http.NewResponseController(w.ResponseWriter).SetReadDeadline(time.Now().Add(250 * time.Millisecond))
	}
}

func (w *closeIfUnread) WriteHeader(code int) { w.check(); w.ResponseWriter.WriteHeader(code) }

func (w *closeIfUnread) Write(p []byte) (int, error) { w.check(); return w.ResponseWriter.Write(p) }

// Flush passes streaming through.
func (w *closeIfUnread) Flush() { w.check(); _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the server's writer.
func (w *closeIfUnread) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type liftAtEOF struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *liftAtEOF) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// refuseUnread answers a request whose body was not (or not all) read,
// and closes the connection after the answer instead of reading the rest:
// Go's server would otherwise read up to 256 KB of it first, as slowly as
// the caller likes to send it.
func refuseUnread(w http.ResponseWriter, status int, retryAfter time.Duration, msg, code string) {
	w.Header().Set("Connection", "close")
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
	}
	// The server reads none of a declared body over 256 KB after the
	// handler, and says goodbye gently (FIN, then a pause) so the caller
	// gets the answer; of a smaller or undeclared one it tries to read the
	// rest: a short deadline lets a real peer's few kilobytes in and keeps
	// a slow caller from holding the connection.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(250 * time.Millisecond))
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}

// refuseTooLarge answers a body over the route's limit, unread.
func refuseTooLarge(w http.ResponseWriter, limit int64) {
	refuseUnread(w, http.StatusRequestEntityTooLarge, 0,
		fmt.Sprintf("request refused: the body is over the %d bytes this endpoint takes", limit), "too_large")
}

// refuseBusy answers a request over a bound of requests at once: the
// caller may try again in a second.
func refuseBusy(w http.ResponseWriter) {
	refuseUnread(w, http.StatusServiceUnavailable, time.Second, "this node is busy with other requests; try again shortly", "busy")
}

// peer checks a signed request in two steps around its body: the headers
// (signed, fresh, naming a connection this node has) before a byte of the
// body is read, the MAC over the body's hash after it was read within the
// route's limit, hashing as it came. Unsigned, stale or unknown requests
// are refused with 401 and their bodies never read; only requests that
// name a real connection take a slot, and only as many at once as the
// limits allow.
func (s *server) peer(h peerHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.node.BeginPeer(r.Context(), r)
		if err != nil {
			s.refusePeer(w, r, err, false)
			return
		}
		limit := peerBodyLimit(r)
		if r.ContentLength > limit {
			s.peerRefused(r, "too_large", fmt.Errorf("the body is %d bytes, over the route's %d", r.ContentLength, limit))
			refuseTooLarge(w, limit)
			return
		}
		release, ok := s.slots.take(p.ConnectionID())
		if !ok {
			s.peerRefused(r, "busy", errors.New("too many requests of this connection, or in all, at once"))
			refuseBusy(w)
			return
		}
		defer func() { release() }()
		if limit > 0 {
			r = setBodyDeadline(w, r, bodyTimeout(limit))
		}
		sum := sha256.New()
		body, held, err := s.readPeerBody(p.ConnectionID(), r.Body, r.ContentLength, limit, sum)
		defer s.budget.give(p.ConnectionID(), held)
		switch {
		case errors.Is(err, errTooLarge):
			s.peerRefused(r, "too_large", err)
			refuseTooLarge(w, limit)
			return
		case errors.Is(err, errNoBudget):
			s.peerRefused(r, "busy", err)
			refuseBusy(w)
			return
		case err != nil:
			s.peerRefused(r, "body_unreadable", err)
			refuseUnread(w, http.StatusBadRequest, 0, "request refused: reading the body: "+err.Error(), "bad_request")
			return
		}
		c, err := p.Finish(r.Context(), sum.Sum(nil))
		if err != nil {
			s.refusePeer(w, r, err, true)
			return
		}
		if limit == 0 {
			// Nothing is held for a request without a body: an attachment
			// download streams for as long as it takes without keeping
			// the connection's deliveries out.
			release()
			release = func() {}
		}
		h(w, r, c, body)
	}
}

var (
	errTooLarge = errors.New("the body is over the route's limit")
	errNoBudget = errors.New("the bytes of bodies held at once are at their bound")
)

// bodyChunk is the first room a body of undeclared length gets; it grows
// by doubling, each step taken from the byte budget.
const bodyChunk = 64 << 10

// readPeerBody reads up to limit bytes of src through sum, taking the room
// it allocates from the byte budget first: all at once when the length was
// declared, doubling as it fills when not. held is what it took, to give
// back once the handler is done with the body.
func (s *server) readPeerBody(connID string, src io.Reader, declared, limit int64, sum hash.Hash) (body []byte, held int64, err error) {
	if limit == 0 {
		// Nothing may follow the headers; one byte says something did.
		var one [1]byte
		if n, _ := io.ReadFull(src, one[:]); n > 0 {
			return nil, 0, errTooLarge
		}
		return nil, 0, nil
	}
	in := io.TeeReader(io.LimitReader(src, limit+1), sum)
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			// One byte past the declared length, to see the end.
			size := min(max(int64(2*cap(buf)), bodyChunk), limit+1)
			if cap(buf) == 0 && declared >= 0 {
				size = declared + 1
			}
			if int64(len(buf)) >= size || !s.budget.take(connID, size-int64(cap(buf))) {
				if int64(len(buf)) > limit {
					return nil, held, errTooLarge
				}
				return nil, held, errNoBudget
			}
			held += size - int64(cap(buf))
			grown := make([]byte, len(buf), size)
			copy(grown, buf)
			buf = grown
		}
		n, err := in.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case int64(len(buf)) > limit:
			return nil, held, errTooLarge
		case err == io.EOF:
			return buf, held, nil
		case err != nil:
			return nil, held, err
		}
	}
}

// refusePeer answers a peer request its verification refused: 401 when
// the request is at fault (saying no more than that, whatever the reason),
// 503 with the truth when this node's store is. afterMAC says the MAC held,
// so the caller is the peer and may read what failed.
func (s *server) refusePeer(w http.ResponseWriter, r *http.Request, err error, afterMAC bool) {
	if r.Context().Err() != nil {
		return // the caller went away mid-check: nothing failed, no one to answer
	}
	reason := peerReason(err)
	s.peerRefused(r, reason, err)
	switch {
	case reason != "store_failed":
		refuseUnread(w, http.StatusUnauthorized, 0, "request refused: not signed by this connection", "unauthorized")
	case afterMAC:
		refuseUnread(w, http.StatusServiceUnavailable, 5*time.Second,
			"this node can't record the request: its store failed: "+
				strings.TrimPrefix(err.Error(), engine.ErrStoreFailed.Error()+": "), "store_failed")
	default:
		refuseUnread(w, http.StatusServiceUnavailable, 5*time.Second,
			"this node can't check the request: its store failed; its log has the details", "store_failed")
	}
}

// peerReason names a refusal for the log and the refusal counter.
func peerReason(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{engine.ErrStoreFailed, "store_failed"},
		{engine.ErrUnsigned, "unsigned"},
		{engine.ErrUnknownPeer, "unknown_connection"},
		{engine.ErrStale, "stale"},
		{engine.ErrBadSignature, "bad_signature"},
		{engine.ErrReplayed, "replayed"},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "other"
}

// peerRefused counts a refused peer request and logs it, at most once in a
// while per reason. The reason is for the operator; the caller learns only
// that it was refused.
func (s *server) peerRefused(r *http.Request, reason string, err error) {
	s.peerRefusals.WithLabelValues(reason).Inc()
	level := "peer request refused"
	if reason == "store_failed" {
		// Not the caller's fault: every one is worth the operator's eye,
		// but a full disk answers hundreds a minute, so it is bounded too.
		level = "peer request not handled: this node's store failed"
	}
	s.refusals.refused(time.Now(), level, "peer_"+reason, "path", loggedPath(r), "remote", r.RemoteAddr,
		"connection", r.Header.Get(engine.HeaderConnection), "err", err.Error())
}

// public bounds an unauthenticated endpoint: a rate per client address
// (429 with Retry-After past it, the body unread) and a small body.
func (s *server) public(limit int64, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ok, wait := s.perAddr.allow(clientAddr(r), time.Now())
		if !ok {
			s.refused(r, "public", "rate_limited", "too many requests from this address")
			refuseUnread(w, http.StatusTooManyRequests, max(wait, time.Second),
				"too many requests from this address; try again shortly", "rate_limited")
			return
		}
		if r.ContentLength > limit {
			s.refused(r, "public", "too_large", fmt.Sprintf("a body of %d bytes", r.ContentLength))
			refuseTooLarge(w, limit)
			return
		}
		release, ok := s.publicSlots.take(clientAddr(r))
		if !ok {
			s.refused(r, "public", "busy", "too many requests in progress, from this address or in all")
			refuseBusy(w)
			return
		}
		defer release()
		if limit == 0 {
			r.Body = http.NoBody
		} else {
			r = setBodyDeadline(w, r, publicBodyWindow)
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		h(w, r)
	}
}

// clientAddr is the address a rate is kept for: the peer's IP (no port,
// which changes with every connection), or its /64 for IPv6. Forwarding
// headers are not trusted: anyone can write them, so behind a reverse
// proxy every caller shares the proxy's rate.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	// One IPv6 host has a /64 to pick addresses from: it is one client.
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return strings.ToLower(host)
}

// refused counts and logs (in moderation) a refused admin or public
// request.
func (s *server) refused(r *http.Request, api, reason, detail string) {
	s.otherRefusals.WithLabelValues(api, reason).Inc()
	s.refusals.refused(time.Now(), api+" request refused", api+"_"+reason,
		"method", r.Method, "path", loggedPath(r), "remote", r.RemoteAddr, "detail", detail)
}

// loggedPath is r's path as the log may show it: a webhook's URL without
// its token, which is the webhook's address (hookRefused).
func loggedPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, engine.PathHooks) {
		return engine.PathHooks + "…"
	}
	return r.URL.Path
}
