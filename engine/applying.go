package engine

import "sync"

// applyingSet tracks the entities an incoming sync is writing to. Change
// detection skips them while it does — reading an entity mid-apply only
// finds the sync's own writes, and holds those writes up: with thousands of
// comments each write waited for a full read — and looks at them again once
// the apply is over, so a user's change made meanwhile is not missed.
//
// It lives in memory: after a crash the skipped entities are looked at when
// they next change.
type applyingSet struct {
	mu    sync.Mutex
	busy  map[string]int
	again map[string]map[string]bool
}

func applyingKey(conn, id string) string { return conn + "\x00" + id }

// begin marks id as being written by a sync on conn until the returned
// function is called.
func (s *applyingSet) begin(conn, id string) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy == nil {
		s.busy = map[string]int{}
	}
	s.busy[applyingKey(conn, id)]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		k := applyingKey(conn, id)
		if s.busy[k]--; s.busy[k] <= 0 {
			delete(s.busy, k)
		}
	}
}

// skip reports whether id is being written on conn; if so it is noted to be
// looked at again.
func (s *applyingSet) skip(conn, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[applyingKey(conn, id)] == 0 {
		return false
	}
	s.note(conn, id)
	return true
}

// later notes ids of conn to be looked at again next round.
func (s *applyingSet) later(conn string, ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.note(conn, id)
	}
}

func (s *applyingSet) note(conn, id string) {
	if s.again == nil {
		s.again = map[string]map[string]bool{}
	}
	if s.again[conn] == nil {
		s.again[conn] = map[string]bool{}
	}
	s.again[conn][id] = true
}

// due returns, and forgets, the skipped entities of conn no longer being
// written.
func (s *applyingSet) due(conn string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id := range s.again[conn] {
		if s.busy[applyingKey(conn, id)] == 0 {
			ids = append(ids, id)
			delete(s.again[conn], id)
		}
	}
	return ids
}
