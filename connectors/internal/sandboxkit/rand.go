package sandboxkit

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	mrand "math/rand/v2"
	"sync"
)

// Rand is a sandbox's single source of randomness, shared by concurrent
// requests. Seeded, it repeats itself, which is what tests pin it for.
type Rand struct {
	mu sync.Mutex
	r  *mrand.Rand
}

// NewRand returns a Rand seeded with seed.
func NewRand(seed uint64) *Rand {
	return &Rand{r: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// NewRandOrSeeded returns NewRand(*fixed), or a Rand seeded from the
// system's secure source when fixed is nil.
func NewRandOrSeeded(fixed *int64) *Rand {
	if fixed != nil {
		return NewRand(uint64(*fixed))
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
	return NewRand(binary.LittleEndian.Uint64(b[:]))
}

// Do runs fn with the generator locked, so that a value made of several
// draws is drawn in one piece.
func (l *Rand) Do(fn func(r *mrand.Rand)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fn(l.r)
}

// Float64 returns a number in [0, 1).
func (l *Rand) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// IntN returns a number in [0, n).
func (l *Rand) IntN(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}

// Int64N returns a number in [0, n).
func (l *Rand) Int64N(n int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Int64N(n)
}

// Hex returns n random bytes as 2n hex digits.
func (l *Rand) Hex(n int) string {
	b := make([]byte, n)
	l.Do(func(r *mrand.Rand) {
		for i := range b {
			b[i] = byte(r.Uint32())
		}
	})
	return hex.EncodeToString(b)
}
