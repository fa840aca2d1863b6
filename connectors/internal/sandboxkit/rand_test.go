package sandboxkit

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

func TestRandRepeatsWithSeed(t *testing.T) {
	draw := func(r *Rand) []any {
		var pair [2]int
		r.Do(func(r *rand.Rand) { pair = [2]int{r.IntN(100), r.IntN(100)} })
		return []any{r.Float64(), r.IntN(1000), r.Int64N(1e14), r.Hex(8), pair}
	}
	seed := int64(42)
	x, y := draw(NewRandOrSeeded(&seed)), draw(NewRand(42))
	for i := range x {
		if x[i] != y[i] {
			t.Errorf("draw %d: %v and %v from the same seed", i, x[i], y[i])
		}
	}
	if z := draw(NewRand(43)); z[3] == x[3] {
		t.Errorf("seeds 42 and 43 gave the same hex %v", z[3])
	}
}

func TestRandUnseeded(t *testing.T) {
	a, b := NewRandOrSeeded(nil), NewRandOrSeeded(nil)
	if a.Hex(16) == b.Hex(16) {
		t.Error("two unseeded generators agree on 128 bits")
	}
	if h := a.Hex(5); !regexp.MustCompile(`^[0-9a-f]{10}$`).MatchString(h) {
		t.Errorf("Hex(5) = %q", h)
	}
}
