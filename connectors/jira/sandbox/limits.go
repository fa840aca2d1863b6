package sandbox

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimitReason is the RateLimit-Reason Jira Cloud sends for the
// per-tenant quota that API-token traffic runs into.
const rateLimitReason = "jira-quota-tenant-based"

// clock is the sandbox's time source. It is the wall clock unless a test
// pins it, which is how tests move through search lag, media URL expiry and
// JQL minutes without sleeping.
type clock struct {
	mu    sync.Mutex
	fixed time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fixed.IsZero() {
		return c.fixed
	}
	return time.Now()
}

// set pins the clock at t (tests only).
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.fixed = t
	c.mu.Unlock()
}

// advance moves a pinned clock forward (tests only).
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.fixed = c.fixed.Add(d)
	c.mu.Unlock()
}

// limits holds the per-account token buckets.
type limits struct {
	mu        sync.Mutex
	perMinute int
	buckets   map[string]*rate.Limiter
}

func newLimits(perMinute int) *limits {
	return &limits{perMinute: perMinute, buckets: map[string]*rate.Limiter{}}
}

// bucketParams smooths the per-minute budget into a token bucket: N/60
// tokens per second with a burst of a tenth of the budget.
func bucketParams(perMinute int) (rate.Limit, int) {
	return rate.Limit(float64(perMinute) / 60), max(1, perMinute/10)
}

func (l *limits) setRate(perMinute int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.perMinute = max(0, perMinute)
	l.buckets = map[string]*rate.Limiter{}
}

// allow charges one request to account's budget, or returns the 429. The
// rejected request's reservation is kept, as Jira counts rejected requests
// against the quota; Retry-After covers that debt plus one fresh token, so
// a client that waits that long, sending nothing meanwhile, is served.
func (l *limits) allow(account string, now time.Time) *apiError {
	l.mu.Lock()
	if l.perMinute == 0 {
		l.mu.Unlock()
		return nil
	}
	perMinute := l.perMinute
	b := l.buckets[account]
	if b == nil {
		lim, burst := bucketParams(l.perMinute)
		b = rate.NewLimiter(lim, burst)
		l.buckets[account] = b
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	wait := d + time.Duration(float64(time.Second)/float64(b.Limit()))
	secs := max(1, int(math.Ceil(wait.Seconds())))
	e := newError(http.StatusTooManyRequests, "Rate limit exceeded.")
	e.header = http.Header{
		"Retry-After":           {strconv.Itoa(secs)},
		"X-Ratelimit-Limit":     {strconv.Itoa(perMinute)},
		"X-Ratelimit-Remaining": {"0"},
		"X-Ratelimit-Reset":     {now.Add(time.Duration(secs) * time.Second).UTC().Format("2006-01-02T15:04:05Z")},
		"Ratelimit-Reason":      {rateLimitReason},
	}
	return e
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
func (s *Sandbox) injectFault(w http.ResponseWriter) bool {
	f := math.Float64frombits(s.faultRate.Load())
	if f <= 0 || s.rng.float64() >= f {
		return false
	}
	switch s.rng.intn(3) {
	case 0:
		writeError(w, newError(http.StatusInternalServerError, "Internal server error"))
	case 1:
		e := newError(http.StatusServiceUnavailable, "Service Unavailable: Jira is temporarily unavailable, retry later.")
		e.header = http.Header{"Retry-After": {"1"}}
		writeError(w, e)
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

// alnum returns n random letters and digits.
func (l *lockedRand) alnum(n int) string {
	const set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := make([]byte, n)
	l.mu.Lock()
	for i := range b {
		b[i] = set[l.r.IntN(len(set))]
	}
	l.mu.Unlock()
	return string(b)
}

// uuid returns a random version-4 UUID.
func (l *lockedRand) uuid() string {
	h := l.hex(16)
	return fmt.Sprintf("%s-%s-4%s-a%s-%s", h[0:8], h[8:12], h[13:16], h[17:20], h[20:32])
}
