package engine

import (
	"sync"
)

// hub fans stage events out to listeners. A listener that doesn't keep up
// loses events rather than stalling the pipeline; everything is in the
// store for it to catch up from.
type hub struct {
	mu   sync.Mutex
	next int
	subs map[int]chan StageEvent
}

func (h *hub) publish(e StageEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// Subscribe returns a channel of stage events and a function that ends the
// subscription and closes the channel.
func (n *Node) Subscribe() (<-chan StageEvent, func()) {
	h := &n.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[int]chan StageEvent{}
	}
	id := h.next
	h.next++
	ch := make(chan StageEvent, 256)
	h.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.subs, id)
			close(ch)
		})
	}
}
