package sandbox

import (
	"encoding/hex"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Asana's concurrency limits: requests in flight per user, independent of
// the per-minute budget.
const (
	maxConcurrentReads  = 50
	maxConcurrentWrites = 15
)

// limits holds the per-token budgets and the in-flight counters.
type limits struct {
	mu        sync.Mutex
	perMinute int
	buckets   map[string]*rate.Limiter
	reads     int
	writes    int
}

func newLimits(perMinute int) *limits {
	return &limits{perMinute: perMinute, buckets: map[string]*rate.Limiter{}}
}

// acquire takes an in-flight slot; ok is false when the limit is reached.
func (l *limits) acquire(write bool) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, max := &l.reads, maxConcurrentReads
	if write {
		n, max = &l.writes, maxConcurrentWrites
	}
	if *n >= max {
		return nil, false
	}
	*n++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			*n--
			l.mu.Unlock()
		})
	}, true
}

// inFlight reports the current number of reads and writes being served.
func (l *limits) inFlight() (reads, writes int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reads, l.writes
}

// bucketParams smooths Asana's one-minute window into a token bucket: N/60
// tokens per second with a burst of a tenth of the budget.
func bucketParams(perMinute int) (rate.Limit, int) {
	return rate.Limit(float64(perMinute) / 60), max(1, perMinute/10)
}

func (l *limits) setRate(perMinute int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.perMinute = max(0, perMinute)
	// New buckets start full, which is what a plan change looks like.
	l.buckets = map[string]*rate.Limiter{}
}

// allow charges one request to tok's budget. When the budget is exhausted it
// returns the Retry-After in whole seconds. The rejected request's
// reservation is kept on purpose: Asana counts rejected requests against the
// budget, so a client that hammers instead of waiting only digs deeper. The
// Retry-After therefore covers the debt plus one fresh token, so a client
// that waits that long (and sends nothing meanwhile) is served.
func (l *limits) allow(tok string, now time.Time) (retryAfter int, ok bool) {
	l.mu.Lock()
	if l.perMinute == 0 {
		l.mu.Unlock()
		return 0, true
	}
	b := l.buckets[tok]
	if b == nil {
		lim, burst := bucketParams(l.perMinute)
		b = rate.NewLimiter(lim, burst)
		l.buckets[tok] = b
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d <= 0 {
		return 0, true
	}
	wait := d + time.Duration(float64(time.Second)/float64(b.Limit()))
	return max(1, int(math.Ceil(wait.Seconds()))), false
}

// wait applies the configured latency; false means the client went away.
func (s *Sandbox) wait(r *http.Request) bool {
	d := time.Duration(s.latency.Load())
	if d <= 0 {
		return r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// injectFault answers the request with a fault, chosen at random with the
// configured probability, before anything is read or changed. It reports
// whether it did.
func (s *Sandbox) injectFault(w http.ResponseWriter, r *http.Request) bool {
	f := math.Float64frombits(s.faultRate.Load())
	if f <= 0 || s.rng.float64() >= f {
		return false
	}
	switch s.rng.intn(3) {
	case 0:
		writeError(w, false, &apiError{status: http.StatusInternalServerError, message: "Server Error", phrase: s.rng.phrase()})
	case 1:
		writeError(w, false, &apiError{status: http.StatusServiceUnavailable, message: "Service Unavailable: the API is temporarily unavailable, retry later"})
	default:
		// A cut connection: the client gets no status line at all.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	}
	return true
}

func float64bits(f float64) uint64 { return math.Float64bits(f) }

// lockedRand is the sandbox's single source of randomness, shared by
// concurrent requests.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newLockedRand(seed uint64) *lockedRand {
	return &lockedRand{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (l *lockedRand) float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

func (l *lockedRand) intn(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}

func (l *lockedRand) int64n(n int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Int64N(n)
}

// hex returns n random bytes as 2n hex digits.
func (l *lockedRand) hex(n int) string {
	b := make([]byte, n)
	l.mu.Lock()
	for i := range b {
		b[i] = byte(l.r.Uint32())
	}
	l.mu.Unlock()
	return hex.EncodeToString(b)
}

// phrase makes an error phrase in the style of node-asana-phrase
// ("6 sad squid snuggle softly"), which Asana puts on every 500.
func (l *lockedRand) phrase() string {
	adjectives := []string{"sad", "happy", "sleepy", "brave", "quiet", "grumpy", "shiny", "tiny"}
	nouns := []string{"squid", "otters", "pandas", "llamas", "herons", "badgers", "geckos", "whales"}
	verbs := []string{"snuggle", "wander", "giggle", "dance", "ponder", "juggle", "whistle", "nap"}
	adverbs := []string{"softly", "boldly", "quickly", "lazily", "gently", "wildly", "calmly", "oddly"}
	l.mu.Lock()
	defer l.mu.Unlock()
	pick := func(xs []string) string { return xs[l.r.IntN(len(xs))] }
	return itoa(2+l.r.IntN(20)) + " " + pick(adjectives) + " " + pick(nouns) + " " + pick(verbs) + " " + pick(adverbs)
}
