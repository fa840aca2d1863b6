package sandbox

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"
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

// rateLimited is Jira's 429 for a request the budget refused at now, with
// the headers Jira's edge sends: Retry-After, X-RateLimit-* and
// RateLimit-Reason.
func rateLimited(ref *sandboxkit.Refusal, now time.Time) *apiError {
	e := newError(http.StatusTooManyRequests, "Rate limit exceeded.")
	e.header = http.Header{
		"Retry-After":           {strconv.Itoa(ref.RetryAfter)},
		"X-Ratelimit-Limit":     {strconv.Itoa(ref.PerMinute)},
		"X-Ratelimit-Remaining": {"0"},
		"X-Ratelimit-Reset":     {now.Add(time.Duration(ref.RetryAfter) * time.Second).UTC().Format("2006-01-02T15:04:05Z")},
		"Ratelimit-Reason":      {rateLimitReason},
	}
	return e
}

// injectFault answers the request with a fault, chosen at random with the
// configured probability, before anything is read or changed. It reports
// whether it did.
func (s *Sandbox) injectFault(w http.ResponseWriter) bool {
	return s.knobs.InjectFault(w, s.rng, func(w http.ResponseWriter, status int) {
		if status == http.StatusInternalServerError {
			writeError(w, newError(status, "Internal server error"))
			return
		}
		e := newError(status, "Service Unavailable: Jira is temporarily unavailable, retry later.")
		e.header = http.Header{"Retry-After": {"1"}}
		writeError(w, e)
	})
}

// alnum returns n random letters and digits.
func alnum(rng *sandboxkit.Rand, n int) string {
	const set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := make([]byte, n)
	rng.Do(func(r *rand.Rand) {
		for i := range b {
			b[i] = set[r.IntN(len(set))]
		}
	})
	return string(b)
}

// uuid returns a random version-4 UUID.
func uuid(rng *sandboxkit.Rand) string {
	h := rng.Hex(16)
	return fmt.Sprintf("%s-%s-4%s-a%s-%s", h[0:8], h[8:12], h[13:16], h[17:20], h[20:32])
}
