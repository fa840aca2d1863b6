package sandbox

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"
)

// Asana's concurrency limits: requests in flight per user, independent of
// the per-minute budget.
const (
	maxConcurrentReads  = 50
	maxConcurrentWrites = 15
)

// limits holds the per-token budgets and the in-flight counters.
type limits struct {
	*sandboxkit.Limiter
	mu     sync.Mutex
	reads  int
	writes int
}

func newLimits(perMinute int) *limits {
	return &limits{Limiter: sandboxkit.NewLimiter(perMinute)}
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

// allow charges one request to tok's budget, Asana's one-minute window
// smoothed into a token bucket. When the budget is exhausted it returns the
// Retry-After in whole seconds; Asana too counts rejected requests against
// the budget.
func (l *limits) allow(tok string, now time.Time) (retryAfter int, ok bool) {
	if r := l.Allow(tok, now); r != nil {
		return r.RetryAfter, false
	}
	return 0, true
}

// injectFault answers the request with a fault, chosen at random with the
// configured probability, before anything is read or changed. It reports
// whether it did.
func (s *Sandbox) injectFault(w http.ResponseWriter) bool {
	return s.knobs.InjectFault(w, s.rng, func(w http.ResponseWriter, status int) {
		if status == http.StatusInternalServerError {
			writeError(w, false, &apiError{status: status, message: "Server Error", phrase: phrase(s.rng)})
			return
		}
		writeError(w, false, &apiError{status: status, message: "Service Unavailable: the API is temporarily unavailable, retry later"})
	})
}

// phrase makes an error phrase in the style of node-asana-phrase
// ("6 sad squid snuggle softly"), which Asana puts on every 500.
func phrase(rng *sandboxkit.Rand) string {
	adjectives := []string{"sad", "happy", "sleepy", "brave", "quiet", "grumpy", "shiny", "tiny"}
	nouns := []string{"squid", "otters", "pandas", "llamas", "herons", "badgers", "geckos", "whales"}
	verbs := []string{"snuggle", "wander", "giggle", "dance", "ponder", "juggle", "whistle", "nap"}
	adverbs := []string{"softly", "boldly", "quickly", "lazily", "gently", "wildly", "calmly", "oddly"}
	var out string
	rng.Do(func(r *rand.Rand) {
		pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
		out = itoa(2+r.IntN(20)) + " " + pick(adjectives) + " " + pick(nouns) + " " + pick(verbs) + " " + pick(adverbs)
	})
	return out
}
