package apiclient

import (
	"maps"
	"sync"
)

// Stats counts the requests a client sent, so the engine and the benchmarks
// can report API calls per synced item. Every attempt counts, retries
// included, because trackers count refused requests against their limits
// too.
type Stats struct {
	// Reads and Writes are requests sent to the API (GET, and everything
	// that changes something).
	Reads, Writes int64
	// ByEndpoint counts requests by "METHOD /path/{template}".
	ByEndpoint map[string]int64
	// Downloads counts fetches of attachment bytes. Whether each is also
	// one of Reads is the tracker's to say: Asana's bytes come from a file
	// host, Jira's through the API.
	Downloads int64
	// RateLimited counts 429 answers received.
	RateLimited int64
	// Retries counts requests sent again after a 429, a 5xx, a cut
	// connection or any other answer the tracker retries.
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

// counter is the Stats a Client accumulates, safe for concurrent use.
type counter struct {
	mu sync.Mutex
	s  Stats
}

func (st *counter) count(endpoint string, write bool) {
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

func (st *counter) add(f func(*Stats)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f(&st.s)
}

func (st *counter) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.s
	s.ByEndpoint = maps.Clone(s.ByEndpoint)
	if s.ByEndpoint == nil {
		s.ByEndpoint = map[string]int64{}
	}
	return s
}

// Stats is a snapshot of the requests sent so far.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// CountRetry counts a request the tracker sends again by its own loop (a
// download after an expired URL), outside Send.
func (c *Client) CountRetry() { c.stats.add(func(s *Stats) { s.Retries++ }) }

// CountDownload counts one fetch of attachment bytes.
func (c *Client) CountDownload() { c.stats.add(func(s *Stats) { s.Downloads++ }) }
