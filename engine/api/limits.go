package api

import (
	"container/list"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bound what a caller can make the node spend. The zero value of a
// field takes its default; tests set small ones.
type Limits struct {
	// PeerPerConnection and PeerTotal bound the signed requests with a
	// body that are read or handled at once, per connection and in all.
	// The sender runs at most a handful of jobs at a time, so more than
	// that from one connection is a fault or an attack; over the bound the
	// answer is 503 with Retry-After, which the sender retries.
	PeerPerConnection, PeerTotal int
	// PeerBodyBytes bounds the bytes of peer request bodies held in memory
	// at once, across all requests, and PeerBodyBytesPerConnection those of
	// one connection (each at least engine.MaxPeerBody, so one largest
	// replica always fits).
	PeerBodyBytes, PeerBodyBytesPerConnection int64
	// PublicPerSecond and PublicBurst are the rate of the unauthenticated
	// endpoints (instance, invitation check, redeem) per client address.
	PublicPerSecond float64
	PublicBurst     int
	// PublicInFlight and PublicPerAddress bound the unauthenticated
	// requests being handled at once, in all and from one address: their
	// small bodies may still be arriving, slowly, and each holds a
	// connection the cap can't shed while it does.
	PublicInFlight, PublicPerAddress int
	// PublicAddresses bounds how many client addresses are remembered for
	// that rate; the least recently seen is forgotten first.
	PublicAddresses int
	// RefusedLogEvery is the least time between two log lines for one
	// reason of refusal; those in between are counted, not logged.
	RefusedLogEvery time.Duration
}

// Defaults returns l with every zero field set to its default.
func (l Limits) Defaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	// Twice the sender's workers (8): room for retries whose first try
	// is still being handled here.
	def(&l.PeerPerConnection, 16)
	def(&l.PeerTotal, 32)
	def(&l.PublicBurst, 100)
	def(&l.PublicInFlight, 64)
	def(&l.PublicPerAddress, 8)
	def(&l.PublicAddresses, 10_000)
	if l.PeerBodyBytes <= 0 {
		l.PeerBodyBytes = 4 * maxPeerBody
	}
	// One largest replica always fits, with the byte past it that shows
	// its end.
	l.PeerBodyBytes = max(l.PeerBodyBytes, maxPeerBody+1)
	if l.PeerBodyBytesPerConnection <= 0 {
		l.PeerBodyBytesPerConnection = l.PeerBodyBytes / 2
	}
	l.PeerBodyBytesPerConnection = min(max(l.PeerBodyBytesPerConnection, maxPeerBody+1), l.PeerBodyBytes)
	if l.PublicPerSecond <= 0 {
		l.PublicPerSecond = 20
	}
	if l.RefusedLogEvery <= 0 {
		l.RefusedLogEvery = 10 * time.Second
	}
	return l
}

// slots counts the peer requests in progress, per connection and in all.
// Taking one never waits: a request over the bound is answered at once, so
// a flood can't queue up goroutines and connections behind the bound.
type slots struct {
	perConn, total int

	mu     sync.Mutex
	inUse  int
	byConn map[string]int
}

func newSlots(perConn, total int) *slots {
	return &slots{perConn: perConn, total: total, byConn: map[string]int{}}
}

// take reserves a slot for connID; ok is false when none is free.
func (s *slots) take(connID string) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inUse >= s.total || s.byConn[connID] >= s.perConn {
		return nil, false
	}
	s.inUse++
	s.byConn[connID]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.inUse--
		if s.byConn[connID]--; s.byConn[connID] <= 0 {
			delete(s.byConn, connID) // the map holds only connections in flight
		}
	}, true
}

// byteBudget bounds the body bytes held at once, in all and per
// connection: a connection id is no secret (it travels in every request),
// so requests that name one are read before their MAC can fail, and one
// connection's forgeries must not take what the others need. Like slots it
// never waits.
type byteBudget struct {
	mu        sync.Mutex
	free, cap int64
	perConn   int64
	held      map[string]int64 // by connection, only those holding some
}

func newByteBudget(total, perConn int64) *byteBudget {
	return &byteBudget{free: total, cap: total, perConn: perConn, held: map[string]int64{}}
}

func (b *byteBudget) take(connID string, n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.free || b.held[connID]+n > b.perConn {
		return false
	}
	b.free -= n
	b.held[connID] += n
	return true
}

func (b *byteBudget) give(connID string, n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.free = min(b.free+n, b.cap)
	if b.held[connID] -= n; b.held[connID] <= 0 {
		delete(b.held, connID)
	}
}

// addrLimiter rates requests per client address, remembering a bounded
// number of addresses: the least recently seen is forgotten first, so a
// caller cycling through addresses costs memory up to the bound and no
// more (a forgotten address starts again with a full burst, which is as
// much as any new address gets).
type addrLimiter struct {
	every rate.Limit
	burst int
	max   int

	mu    sync.Mutex
	byKey map[string]*list.Element
	lru   list.List // of *addrEntry, most recent at the front
}

type addrEntry struct {
	addr string
	lim  *rate.Limiter
}

func newAddrLimiter(perSecond float64, burst, max int) *addrLimiter {
	return &addrLimiter{every: rate.Limit(perSecond), burst: burst, max: max, byKey: map[string]*list.Element{}}
}

// allow reports whether addr may make a request now and, if not, how long
// it should wait.
func (a *addrLimiter) allow(addr string, now time.Time) (bool, time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var e *addrEntry
	if el, ok := a.byKey[addr]; ok {
		a.lru.MoveToFront(el)
		e = el.Value.(*addrEntry)
	} else {
		if a.lru.Len() >= a.max {
			old := a.lru.Back()
			a.lru.Remove(old)
			delete(a.byKey, old.Value.(*addrEntry).addr)
		}
		e = &addrEntry{addr: addr, lim: rate.NewLimiter(a.every, a.burst)}
		a.byKey[addr] = a.lru.PushFront(e)
	}
	if e.lim.AllowN(now, 1) {
		return true, 0
	}
	r := e.lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return false, wait
}

// refusalLog writes at most one line per reason per interval, with the
// number of refusals of that reason it left out since the last line, so a
// flood of refused requests costs the log a line every few seconds rather
// than one per request. Reasons are a fixed, small set.
type refusalLog struct {
	log   *slog.Logger
	every time.Duration

	mu     sync.Mutex
	byWhat map[string]*refusalState
}

type refusalState struct {
	last       time.Time
	suppressed int
}

func newRefusalLog(log *slog.Logger, every time.Duration) *refusalLog {
	return &refusalLog{log: log, every: every, byWhat: map[string]*refusalState{}}
}

// maxLogValue bounds each caller-supplied value written to the log.
const maxLogValue = 200

// refused logs msg for reason unless the reason was logged less than the
// interval ago. Values in attrs are cut to a few hundred bytes: they may
// come from the caller.
func (l *refusalLog) refused(now time.Time, msg, reason string, attrs ...any) {
	l.mu.Lock()
	st := l.byWhat[reason]
	if st == nil {
		st = &refusalState{}
		l.byWhat[reason] = st
	}
	if !st.last.IsZero() && now.Sub(st.last) < l.every {
		st.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := st.suppressed
	st.last, st.suppressed = now, 0
	l.mu.Unlock()
	for i, a := range attrs {
		if i%2 == 1 {
			if s := fmt.Sprint(a); len(s) > maxLogValue {
				attrs[i] = s[:maxLogValue] + "…"
			}
		}
	}
	attrs = append(attrs, "reason", reason)
	if suppressed > 0 {
		attrs = append(attrs, "not_logged_since_last", suppressed)
	}
	l.log.Warn(msg, attrs...)
}
