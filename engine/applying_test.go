package engine

import (
	"slices"
	"testing"
)

func TestApplyingSetSkipsThenReturnsEntities(t *testing.T) {
	var s applyingSet
	if s.skip("c", "1") {
		t.Fatal("an entity nobody writes to was skipped")
	}
	done := s.begin("c", "1")
	nested := s.begin("c", "1")
	if !s.skip("c", "1") || s.skip("other", "1") {
		t.Fatal("skip should hold for the entity being written, on its connection only")
	}
	nested()
	if got := s.due("c"); len(got) != 0 {
		t.Fatalf("due while still written to: %v", got)
	}
	done()
	if got := s.due("c"); !slices.Equal(got, []string{"1"}) {
		t.Fatalf("due after the write: %v", got)
	}
	if got := s.due("c"); len(got) != 0 {
		t.Fatalf("due twice: %v", got)
	}
	s.later("c", "2", "3")
	if got := s.due("c"); len(got) != 2 {
		t.Fatalf("later: %v", got)
	}
}
