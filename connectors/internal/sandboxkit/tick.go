package sandboxkit

import "time"

// Ticker hands out write times that never repeat: now at millisecond
// precision, but always later than the previous one, so every change gives
// a newer modified time even within one millisecond. It is not locked:
// callers hold their store's write lock.
type Ticker struct{ last time.Time }

// Tick returns the time of a write made at now.
func (t *Ticker) Tick(now time.Time) time.Time {
	at := now.Truncate(time.Millisecond)
	if !at.After(t.last) {
		at = t.last.Add(time.Millisecond)
	}
	t.last = at
	return at
}

// Observe records t as written, so that every later Tick is after it;
// seeding with made-up past or future times uses it. An earlier t changes
// nothing.
func (t *Ticker) Observe(at time.Time) {
	if at.After(t.last) {
		t.last = at
	}
}

// Last is the latest time handed out or observed, for a sandbox saving its
// state: restored with Observe, later writes stay newer.
func (t *Ticker) Last() time.Time { return t.last }
