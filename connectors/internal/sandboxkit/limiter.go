package sandboxkit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a per-key budget in requests per minute, smoothed into token
// buckets. It is safe for concurrent use.
type Limiter struct {
	mu        sync.Mutex
	perMinute int
	buckets   map[string]*rate.Limiter
}

// Refusal is a request the Limiter turned away.
type Refusal struct {
	// RetryAfter is the wait in whole seconds (at least 1) after which a
	// client that sends nothing meanwhile is served.
	RetryAfter int
	// PerMinute is the budget the request was refused under.
	PerMinute int
}

// NewLimiter returns a limiter allowing perMinute requests per key and
// minute; 0 means no limit.
func NewLimiter(perMinute int) *Limiter {
	return &Limiter{perMinute: perMinute, buckets: map[string]*rate.Limiter{}}
}

// BucketParams smooths a one-minute window into a token bucket: N/60 tokens
// per second with a burst of a tenth of the budget.
func BucketParams(perMinute int) (rate.Limit, int) {
	return rate.Limit(float64(perMinute) / 60), max(1, perMinute/10)
}

// SetRate changes the budget (negative means 0, no limit). Every bucket
// restarts full, which is what a plan change looks like.
func (l *Limiter) SetRate(perMinute int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.perMinute = max(0, perMinute)
	l.buckets = map[string]*rate.Limiter{}
}

// Allow charges one request made at now to key's budget; nil means served.
// A refused request's reservation is kept on purpose: both trackers count
// rejected requests against the budget, so a client that hammers instead
// of waiting only digs deeper. RetryAfter therefore covers the debt plus
// one fresh token.
func (l *Limiter) Allow(key string, now time.Time) *Refusal {
	l.mu.Lock()
	if l.perMinute == 0 {
		l.mu.Unlock()
		return nil
	}
	perMinute := l.perMinute
	b := l.buckets[key]
	if b == nil {
		b = rate.NewLimiter(BucketParams(perMinute))
		l.buckets[key] = b
	}
	l.mu.Unlock()
	d := b.ReserveN(now, 1).DelayFrom(now)
	if d <= 0 {
		return nil
	}
	wait := d + time.Duration(float64(time.Second)/float64(b.Limit()))
	return &Refusal{RetryAfter: max(1, int(math.Ceil(wait.Seconds()))), PerMinute: perMinute}
}
