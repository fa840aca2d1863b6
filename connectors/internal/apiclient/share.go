package apiclient

import "golang.org/x/time/rate"

// Sharing the budget. A node run as several replicas on one database has
// one client per replica, all with the same token; the tracker counts
// their requests together. Share has each spend its part of what Config
// asked for, and the engine calls it again whenever the number of live
// replicas changes.

// MinSharedPerMinute is the floor of a shared budget: a replica never
// spends less than 6 requests a minute (one every 10 s), however many
// replicas share the budget, so a count gone wrong slows it down without
// stopping it. It is low on purpose: a floor of one a second would have
// three replicas on Asana's free plan (150 a minute) ask for 180. A budget
// configured below the floor is never raised to it.
const MinSharedPerMinute = 6

// Budget is what a client may spend now.
type Budget struct {
	// Parts is how many clients share the configured budget (1: none).
	Parts int
	// PerMinute is the requests a minute the client spends; 0 when the
	// budget is off. Burst is how many it may send at once.
	PerMinute float64
	Burst     int
	// Reads and Writes bound the requests in flight; 0 means unbounded.
	Reads, Writes int
}

// Share has the client spend a parts-th of the configured budget: its rate
// and burst, and its limits on requests in flight when they are the
// tracker's own for the token (Config.SlotsPerToken). Each is at least 1
// (the rate at least MinSharedPerMinute); parts below 1 count as 1, which
// restores the configured budget. Requests waiting for the budget or a
// slot see the change at once. It returns the budget now.
func (c *Client) Share(parts int) Budget {
	parts = max(1, parts)
	c.parts.Store(int64(parts))
	if c.limiter != nil {
		perMinute := max(c.perMinute/float64(parts), min(MinSharedPerMinute, c.perMinute))
		c.limiter.SetLimit(rate.Limit(perMinute / 60))
		c.limiter.SetBurst(max(1, c.burst/parts))
	}
	if c.slotsPerToken {
		if c.reads != nil {
			c.reads.setLimit(max(1, c.maxReads/parts))
		}
		if c.writes != nil {
			c.writes.setLimit(max(1, c.maxWrites/parts))
		}
	}
	return c.Budget()
}

// Budget is what the client may spend now: the configured budget, or its
// share of it after Share.
func (c *Client) Budget() Budget {
	b := Budget{Parts: int(c.parts.Load())}
	if c.limiter != nil {
		b.PerMinute = float64(c.limiter.Limit()) * 60
		b.Burst = c.limiter.Burst()
	}
	if c.reads != nil {
		b.Reads = c.reads.size()
	}
	if c.writes != nil {
		b.Writes = c.writes.size()
	}
	return b
}
