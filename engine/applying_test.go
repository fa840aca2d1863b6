package engine

import (
	"context"
	"slices"
	"testing"
	"time"
)

// The set's calls fail only between replicas (store.Locks): on one
// process these wrappers drop the error.
func (s *applyingSet) skipped(conn, id string, ev evidence) bool {
	skip, _ := s.skip(context.Background(), conn, id, ev)
	return skip
}

func (s *applyingSet) begun(conn, id string) func() {
	done, _ := s.begin(context.Background(), conn, id)
	return done
}

func (s *applyingSet) dueNow(conn string) ([]string, map[string]evidence) {
	ids, evs, _ := s.due(context.Background(), conn)
	return ids, evs
}

func TestApplyingSetSkipsThenReturnsEntities(t *testing.T) {
	var s applyingSet
	if s.skipped("c", "1", evidence{}) {
		t.Fatal("an entity nobody writes to was skipped")
	}
	done := s.begun("c", "1")
	nested := s.begun("c", "1")
	if !s.skipped("c", "1", evidence{}) || s.skipped("other", "1", evidence{}) {
		t.Fatal("skip should hold for the entity being written, on its connection only")
	}
	nested()
	if got, _ := s.dueNow("c"); len(got) != 0 {
		t.Fatalf("due while still written to: %v", got)
	}
	done()
	if got, _ := s.dueNow("c"); !slices.Equal(got, []string{"1"}) {
		t.Fatalf("due after the write: %v", got)
	}
	if got, _ := s.dueNow("c"); len(got) != 0 {
		t.Fatalf("due twice: %v", got)
	}
	s.later("c", nil, "2", "3")
	if got, _ := s.dueNow("c"); len(got) != 2 {
		t.Fatalf("later: %v", got)
	}
}

// An entity skipped while written keeps its own-write times only while
// every skip knew them: one change the tracker couldn't vouch for, and it
// is read when due. A listed modification time never outlives the apply.
func TestApplyingSetKeepsEvidenceOnlyWhileComplete(t *testing.T) {
	t1, t2 := time.Unix(1, 0), time.Unix(2, 0)
	var s applyingSet
	done := s.begun("c", "mine")
	s.skipped("c", "mine", evidence{own: []time.Time{t1}})
	s.skipped("c", "mine", evidence{own: []time.Time{t2}})
	doneMixed := s.begun("c", "mixed")
	s.skipped("c", "mixed", evidence{own: []time.Time{t1}})
	s.skipped("c", "mixed", evidence{})
	s.skipped("c", "mixed", evidence{own: []time.Time{t2}})
	doneListed := s.begun("c", "listed")
	s.skipped("c", "listed", evidence{modified: t1})
	done()
	doneMixed()
	doneListed()
	_, evs := s.dueNow("c")
	if got := evs["mine"].own; !slices.EqualFunc(got, []time.Time{t1, t2}, time.Time.Equal) {
		t.Errorf("own times kept: %v, want both", got)
	}
	if ev := evs["mixed"]; len(ev.own) != 0 || !ev.modified.IsZero() {
		t.Errorf("an entity with a change nobody vouched for kept %+v; it must be read", ev)
	}
	if ev := evs["listed"]; len(ev.own) != 0 || !ev.modified.IsZero() {
		t.Errorf("a listed modification time outlived the apply: %+v", ev)
	}
}
