package jira

import (
	"maps"
	"sync"
)

// Stats counts the requests a client sent, so the engine and the benchmarks
// can report API calls per synced task. Every attempt counts, retries
// included, because Jira counts refused requests against the limit too.
type Stats struct {
	// Reads and Writes are requests sent to the API (GET, and everything else).
	Reads, Writes int64
	// ByEndpoint counts requests by "METHOD /path/{template}".
	ByEndpoint map[string]int64
	// Downloads counts fetches of attachment bytes (GET
	// /attachment/content/{id}). Each is also one of Reads: on Jira the
	// bytes come through the API and count against its limits.
	Downloads int64
	// RateLimited counts 429 answers received.
	RateLimited int64
	// Retries counts requests sent again after a 429, a 409, a 5xx or a cut
	// connection.
	Retries int64
}

// Total is every API request sent.
func (s Stats) Total() int64 { return s.Reads + s.Writes }

// Sub is the requests sent between an earlier snapshot and s.
func (s Stats) Sub(earlier Stats) Stats {
	d := Stats{
		Reads:       s.Reads - earlier.Reads,
		Writes:      s.Writes - earlier.Writes,
		Downloads:   s.Downloads - earlier.Downloads,
		RateLimited: s.RateLimited - earlier.RateLimited,
		Retries:     s.Retries - earlier.Retries,
		ByEndpoint:  map[string]int64{},
	}
	for k, v := range s.ByEndpoint {
		if n := v - earlier.ByEndpoint[k]; n != 0 {
			d.ByEndpoint[k] = n
		}
	}
	return d
}

type stats struct {
	mu sync.Mutex
	s  Stats
}

func (st *stats) count(endpoint string, write bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.s.ByEndpoint == nil {
		st.s.ByEndpoint = map[string]int64{}
	}
	st.s.ByEndpoint[endpoint]++
	if write {
		st.s.Writes++
	} else {
		st.s.Reads++
	}
}

func (st *stats) add(f func(*Stats)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f(&st.s)
}

func (st *stats) retry()       { st.add(func(s *Stats) { s.Retries++ }) }
func (st *stats) rateLimited() { st.add(func(s *Stats) { s.RateLimited++ }) }
func (st *stats) download()    { st.add(func(s *Stats) { s.Downloads++ }) }

// Stats is a snapshot of the requests sent so far.
func (c *Client) Stats() Stats {
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	s := c.stats.s
	s.ByEndpoint = maps.Clone(s.ByEndpoint)
	if s.ByEndpoint == nil {
		s.ByEndpoint = map[string]int64{}
	}
	return s
}
