package engine

import (
	"context"
	"sync"
	"time"
)

// applyingSet tracks the entities an incoming sync is writing to. Change
// detection skips them while it does — reading an entity mid-apply only
// finds the sync's own writes, and holds those writes up: with thousands of
// comments each write waited for a full read — and looks at them again once
// the apply is over, so a user's change made meanwhile is not missed.
//
// It lives in memory: after a crash the skipped entities are looked at when
// they next change.
//
// Between the replicas of a node (PostgreSQL), an apply also holds a
// shared lock named after its entity (store.Locks) for as long as it runs,
// so the leader, which detects, sees the applies of every replica: an
// entity is being written if this replica's memory says so or if a
// replica holds its lock. A killed replica's lock ends with its session.
// The entities skipped, and their evidence, stay in the leader's memory
// (see again).
type applyingSet struct {
	mu   sync.Mutex
	busy map[string]int
	// shared are the replicas' locks; nil when the node is one process.
	shared sharedLocks
	// again are, per connection, the entities skipped and what change
	// detection knew of their changes when it skipped them (only the
	// own-write times outlive the apply: see note).
	again map[string]map[string]evidence
}

// evidence is what change detection knows of an entity's changes without
// reading it (see seenTimes): own, the times of every change seen when
// the tracker vouches that all were the node's own account's
// (Changes.Own); modified, its modification time as a reconcile's listing
// gave it. The zero value knows nothing: the entity is read.
type evidence struct {
	own      []time.Time
	modified time.Time
}

func applyingKey(conn, id string) string { return conn + "\x00" + id }

// applyingLock is the name of the replicas' lock an apply to id on conn
// holds (shared: one replica's applies stack on its session).
func applyingLock(conn, id string) string { return "applying/" + conn + "/" + id }

// begin marks id as being written by a sync on conn until the returned
// function is called.
func (s *applyingSet) begin(ctx context.Context, conn, id string) (func(), error) {
	var release func()
	if s.shared != nil {
		var err error
		if release, err = s.shared.Lock(ctx, applyingLock(conn, id), true); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy == nil {
		s.busy = map[string]int{}
	}
	s.busy[applyingKey(conn, id)]++
	return func() {
		s.mu.Lock()
		k := applyingKey(conn, id)
		if s.busy[k]--; s.busy[k] <= 0 {
			delete(s.busy, k)
		}
		s.mu.Unlock()
		if release != nil {
			release()
		}
	}, nil
}

// writing reports whether id is being written on conn, here or, between
// replicas, by any of them. Called with s.mu held.
func (s *applyingSet) writing(ctx context.Context, conn, id string) (bool, error) {
	if s.busy[applyingKey(conn, id)] > 0 {
		return true, nil
	}
	if s.shared == nil {
		return false, nil
	}
	return s.shared.Held(ctx, applyingLock(conn, id))
}

// skip reports whether id is being written on conn; if so it is noted to be
// looked at again, with what was known of its changes (ev).
func (s *applyingSet) skip(ctx context.Context, conn, id string, ev evidence) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if busy, err := s.writing(ctx, conn, id); err != nil || !busy {
		return false, err
	}
	s.note(conn, id, ev)
	return true, nil
}

// later notes ids of conn to be looked at again next round, with what was
// known of their changes (evs; none for an id it lacks).
func (s *applyingSet) later(conn string, evs map[string]evidence, ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.note(conn, id, evs[id])
	}
}

// note adds id to conn's again set. What is known of it is kept only as
// long as every note of it knows its own-write times: one change the
// tracker can't vouch for, and the entity is read. A listed modification
// time is dropped: the apply's writes came after it.
func (s *applyingSet) note(conn, id string, ev evidence) {
	if s.again == nil {
		s.again = map[string]map[string]evidence{}
	}
	if s.again[conn] == nil {
		s.again[conn] = map[string]evidence{}
	}
	prev, seen := s.again[conn][id]
	switch {
	case len(ev.own) == 0 || seen && len(prev.own) == 0:
		ev = evidence{}
	case seen:
		ev = evidence{own: append(append([]time.Time(nil), prev.own...), ev.own...)}
	default:
		ev = evidence{own: ev.own}
	}
	s.again[conn][id] = ev
}

// due returns, and forgets, the skipped entities of conn no longer being
// written, and what was known of their changes.
func (s *applyingSet) due(ctx context.Context, conn string) ([]string, map[string]evidence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	evs := map[string]evidence{}
	for id, ev := range s.again[conn] {
		busy, err := s.writing(ctx, conn, id)
		if err != nil {
			return ids, evs, err // those not returned stay due
		}
		if !busy {
			ids = append(ids, id)
			evs[id] = ev
			delete(s.again[conn], id)
		}
	}
	return ids, evs, nil
}
