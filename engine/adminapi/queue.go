package adminapi

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Paths of the failing syncs and the sync queue: list the failures, retry
// one or all of them now, resolve one (stop retrying it, with a reason),
// and list what is queued.
const (
	PathErrors   = "/api/v1/admin/errors"    // GET ?connection=&limit= → SyncErrors
	PathRetry    = "/api/v1/admin/retry"     // POST RetryRequest → StageEvent
	PathRetryAll = "/api/v1/admin/retry-all" // POST RetryAllRequest → RetryAllResult
	PathResolve  = "/api/v1/admin/resolve"   // POST ResolveRequest → StageEvent
	PathQueue    = "/api/v1/admin/queue"     // GET ?connection=&limit= → SyncQueue
)

// ErrorsPath asks for the failing syncs on connection ("" for every
// connection); limit <= 0 leaves the number to the node.
func ErrorsPath(connection string, limit int) string { return listPath(PathErrors, connection, limit) }

// QueuePath asks for the open syncs on connection ("" for every
// connection); limit <= 0 leaves the number to the node.
func QueuePath(connection string, limit int) string { return listPath(PathQueue, connection, limit) }

func listPath(path, connection string, limit int) string {
	q := url.Values{}
	if connection != "" {
		q.Set("connection", connection)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// MaxResolveReason bounds the reason an admin gives for resolving a sync,
// in bytes.
const MaxResolveReason = 500

// SyncError is a sync that failed and waits to be tried again: where it
// stopped, why, and when it is tried next.
type SyncError struct {
	ConnectionID   string `json:"connection_id"`
	ConnectionName string `json:"connection_name"`
	EventID        string `json:"event_id"`
	// Direction is "out" (this node sends the item) or "in" (it
	// receives it).
	Direction string `json:"direction"`
	EntityID  string `json:"entity_id,omitempty"`
	// The two sides' keys and links, as far as they are known.
	LocalKey  string `json:"local_key,omitempty"`
	LocalURL  string `json:"local_url,omitempty"`
	RemoteKey string `json:"remote_key,omitempty"`
	RemoteURL string `json:"remote_url,omitempty"`
	// Summary is the item's summary as the sync carries it.
	Summary string `json:"summary,omitempty"`
	Stage   string `json:"stage"`
	// Error is the last failure, in full.
	Error string `json:"error"`
	// Attempts counts the tries that failed.
	Attempts int `json:"attempts"`
	// Running says a try is running now. Otherwise NextRetry is when this
	// node tries again; zero when it does not (Waits says what the sync
	// waits for instead).
	Running   bool      `json:"running,omitempty"`
	NextRetry time.Time `json:"next_retry,omitzero"`
	// Waits says, when this node has no try of its own coming, what the
	// sync waits for: one of WaitsActivation, WaitsAcceptance,
	// WaitsOtherNode and WaitsRetry; "" when a try here is coming.
	Waits string `json:"waits,omitempty"`
	// Started is when the sync began; FailedAt when it last failed.
	Started  time.Time `json:"started"`
	FailedAt time.Time `json:"failed_at"`
	// RulesVersion is the version of the rules the sync runs under on
	// this node ("basic", "script v3"); "" when it is not recorded (yet).
	RulesVersion string `json:"rules_version,omitempty"`
}

// What a failing sync waits for when this node has no try of its own
// coming (SyncError.Waits).
const (
	// WaitsActivation: its connection is deactivated.
	WaitsActivation = "activation"
	// WaitsAcceptance: its connection's invitation is not accepted yet.
	WaitsAcceptance = "acceptance"
	// WaitsOtherNode: the other node has it, and tries again itself.
	WaitsOtherNode = "other_node"
	// WaitsRetry: no try is scheduled (its job ran out or was lost):
	// retrying it starts one.
	WaitsRetry = "retry"
)

// WaitsName says what a failing sync waits for, in words: "the
// connection to be activated"; other names the other node.
func WaitsName(waits, other string) string {
	switch waits {
	case WaitsActivation:
		return "the connection to be activated"
	case WaitsAcceptance:
		return "the invitation to be accepted"
	case WaitsOtherNode:
		return other + " to try again"
	case WaitsRetry:
		return "a retry: none is scheduled"
	}
	return waits
}

// SyncErrors lists failing syncs, oldest first: Total of them, of which
// Errors are the first (the limit asked, or the node's).
type SyncErrors struct {
	Total  int         `json:"total"`
	Errors []SyncError `json:"errors"`
}

// Where a sync in the queue stands (QueueEntry.State).
const (
	// QueueQueued: it waits for a worker on this node.
	QueueQueued = "queued"
	// QueueInFlight: a worker has it now, or it is with the other node
	// (Waiting for remote).
	QueueInFlight = "in_flight"
	// QueueWaitingTurn: an earlier sync of the same item goes first.
	QueueWaitingTurn = "waiting_turn"
	// QueueRetrying: its last try failed; it waits for the next.
	QueueRetrying = "retrying"
	// QueuePaused: its connection is not active; it goes once the
	// connection is activated (or its invitation accepted).
	QueuePaused = "paused"
)

// QueueStateName is how the console and the command line name a queue
// state.
func QueueStateName(state string) string {
	switch state {
	case QueueQueued:
		return "Queued"
	case QueueInFlight:
		return "In flight"
	case QueueWaitingTurn:
		return "Waiting its turn"
	case QueueRetrying:
		return "Retrying"
	case QueuePaused:
		return "Paused"
	}
	return state
}

// QueueEntry is one open sync: neither Synchronized nor resolved.
type QueueEntry struct {
	ConnectionID   string `json:"connection_id"`
	ConnectionName string `json:"connection_name"`
	EventID        string `json:"event_id"`
	Direction      string `json:"direction"`
	EntityID       string `json:"entity_id,omitempty"`
	LocalKey       string `json:"local_key,omitempty"`
	RemoteKey      string `json:"remote_key,omitempty"`
	Summary        string `json:"summary,omitempty"`
	Stage          string `json:"stage"`
	// State is one of QueueQueued, QueueInFlight, QueueWaitingTurn,
	// QueueRetrying and QueuePaused.
	State string `json:"state"`
	// BehindEventID is, while the sync waits its turn, the earlier sync
	// of the same item it waits for.
	BehindEventID string `json:"behind_event_id,omitempty"`
	// Error is the last failure of a sync that failed, and NextRetry its
	// next try while it is retrying.
	Error     string    `json:"error,omitempty"`
	NextRetry time.Time `json:"next_retry,omitzero"`
	// Started is when the sync began (its age), StageSince when it last
	// moved.
	Started    time.Time `json:"started"`
	StageSince time.Time `json:"stage_since"`
}

// SyncQueue lists the open syncs, oldest first: Total of them, of which
// Entries are the first (the limit asked, or the node's).
type SyncQueue struct {
	Total   int          `json:"total"`
	Entries []QueueEntry `json:"entries"`
}

// RetryRequest is the body of POST PathRetry: one sync (its id, or the
// start of it) on a connection (id or name; "" for whichever has it).
type RetryRequest struct {
	Event      string `json:"event"`
	Connection string `json:"connection,omitempty"`
}

// RetryAllRequest is the body of POST PathRetryAll: every failing sync of
// a connection (id or name), or of every connection when it is "".
type RetryAllRequest struct {
	Connection string `json:"connection,omitempty"`
}

// RetryAllResult says how many failing syncs were set to be tried now.
type RetryAllResult struct {
	Retried int `json:"retried"`
}

// ResolveRequest is the body of POST PathResolve: stop retrying one sync,
// for a reason (required) that the item's history shows.
type ResolveRequest struct {
	Event      string `json:"event"`
	Connection string `json:"connection,omitempty"`
	Reason     string `json:"reason"`
}

// Span is how the console and the command line show a sync's age or the
// time to its next try, in a few cells: "45s", "12m", "3h", "2d".
func Span(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
