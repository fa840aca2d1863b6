package apiclient

import (
	"context"
	"sync"
)

// slots bound the requests in flight, to a limit that may change while
// requests hold them (Share): a lower limit lets those in flight finish
// and admits no more until they are under it; a higher one admits the
// waiters at once. Waiters are admitted in the order they came, so a
// stream of new requests can't starve one that waits.
type slots struct {
	mu      sync.Mutex
	limit   int // at least 1
	used    int
	waiters []chan struct{} // closed when admitted
}

func newSlots(limit int) *slots { return &slots{limit: max(1, limit)} }

// acquire takes a slot, waiting for one or for ctx to end.
func (s *slots) acquire(ctx context.Context) error {
	s.mu.Lock()
	if s.used < s.limit && len(s.waiters) == 0 {
		s.used++
		s.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	s.waiters = append(s.waiters, ready)
	s.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		select {
		case <-ready:
			// Admitted as ctx ended: give the slot to the next.
			s.used--
			s.admit()
		default:
			for i, w := range s.waiters {
				if w == ready {
					s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
					break
				}
			}
		}
		return ctx.Err()
	}
}

// release gives a slot back.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used--
	s.admit()
}

// setLimit changes the limit (at least 1).
func (s *slots) setLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = max(1, n)
	s.admit()
}

// size is the limit now.
func (s *slots) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limit
}

// admit lets waiters in while slots are free; s.mu held.
func (s *slots) admit() {
	for s.used < s.limit && len(s.waiters) > 0 {
		s.used++
		close(s.waiters[0])
		s.waiters[0] = nil
		s.waiters = s.waiters[1:]
	}
}
