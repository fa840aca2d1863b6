package engine

import (
	"sync"
	"time"
)

// The five stages of a sync (DESIGN.md §5), in order.
const (
	StagePreparing    = "preparing"
	StageSending      = "sending"
	StageWaiting      = "waiting"
	StageFinalizing   = "finalizing"
	StageSynchronized = "synchronized"
)

// Stages lists the five stages in order.
func Stages() []string {
	return []string{StagePreparing, StageSending, StageWaiting, StageFinalizing, StageSynchronized}
}

// StageName is how the console and the command line name a stage.
func StageName(stage string) string {
	switch stage {
	case StagePreparing:
		return "Preparing"
	case StageSending:
		return "Sending"
	case StageWaiting:
		return "Waiting for remote"
	case StageFinalizing:
		return "Finalizing"
	case StageSynchronized:
		return "Synchronized"
	}
	return stage
}

// StageEvent says a sync reached a stage (or failed in it, with Error and
// the next retry). Listeners get them in the order they happened.
type StageEvent struct {
	ConnectionID string    `json:"connection_id"`
	EventID      string    `json:"event_id"`
	Direction    string    `json:"direction"`
	EntityID     string    `json:"entity_id"`
	Stage        string    `json:"stage"`
	Error        string    `json:"error,omitempty"`
	NextRetry    time.Time `json:"next_retry,omitzero"`
	At           time.Time `json:"at"`
	// The two sides' keys and links, once known.
	LocalKey  string `json:"local_key,omitempty"`
	LocalURL  string `json:"local_url,omitempty"`
	RemoteKey string `json:"remote_key,omitempty"`
	RemoteURL string `json:"remote_url,omitempty"`
	// Progress, when set, makes this a progress report rather than a
	// stage change: the sync is still at Stage (Waiting for remote), and
	// the receiving side has applied Progress.Done of Progress.Total. The
	// source publishes the receiver's reports, the receiver its own.
	Progress *Progress `json:"progress,omitempty"`
}

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
