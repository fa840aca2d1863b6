package engine

import (
	"slices"
	"testing"
	"time"
)

func TestApplyingSetSkipsThenReturnsEntities(t *testing.T) {
	var s applyingSet
	if s.skip("c", "1", evidence{}) {
		t.Fatal("an entity nobody writes to was skipped")
	}
	done := s.begin("c", "1")
	nested := s.begin("c", "1")
	if !s.skip("c", "1", evidence{}) || s.skip("other", "1", evidence{}) {
		t.Fatal("skip should hold for the entity being written, on its connection only")
	}
	nested()
	if got, _ := s.due("c"); len(got) != 0 {
		t.Fatalf("due while still written to: %v", got)
	}
	done()
	if got, _ := s.due("c"); !slices.Equal(got, []string{"1"}) {
		t.Fatalf("due after the write: %v", got)
	}
	if got, _ := s.due("c"); len(got) != 0 {
		t.Fatalf("due twice: %v", got)
	}
	s.later("c", nil, "2", "3")
	if got, _ := s.due("c"); len(got) != 2 {
		t.Fatalf("later: %v", got)
	}
}

// An entity skipped while written keeps its own-write times only while
// every skip knew them: one change the tracker couldn't vouch for, and it
// is read when due. A listed modification time never outlives the apply.
func TestApplyingSetKeepsEvidenceOnlyWhileComplete(t *testing.T) {
	t1, t2 := time.Unix(1, 0), time.Unix(2, 0)
	var s applyingSet
	done := s.begin("c", "mine")
	s.skip("c", "mine", evidence{own: []time.Time{t1}})
	s.skip("c", "mine", evidence{own: []time.Time{t2}})
	doneMixed := s.begin("c", "mixed")
	s.skip("c", "mixed", evidence{own: []time.Time{t1}})
	s.skip("c", "mixed", evidence{})
	s.skip("c", "mixed", evidence{own: []time.Time{t2}})
	doneListed := s.begin("c", "listed")
	s.skip("c", "listed", evidence{modified: t1})
	done()
	doneMixed()
	doneListed()
	_, evs := s.due("c")
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
