package adminapi

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// Project is a tracker project, as the node's tracker lists it.
type Project = tracker.Project

// Item is one of a project's items, as the node's tracker lists it.
type Item = tracker.Item

// Mode is a connection's configuration mode: which rules implementation
// maps its items. A connection records its mode, its invitation code
// carries it, and a node's Instance.Modes lists those it supports.
type Mode string

// The configuration modes, as the API, the store and the invitation code
// spell them. Modes lists them; a node supports some of them.
const (
	// ModeBasic is Exalate's Basic mode: fixed rules for type, summary,
	// description, comments and attachments.
	ModeBasic Mode = "basic"
	// ModeScript is Script mode: the rules as code, per side and
	// direction (DESIGN.md §3).
	ModeScript Mode = "script"
)

// Modes lists every configuration mode, in the order the wizard offers
// them: the one list of modes.
func Modes() []Mode { return []Mode{ModeBasic, ModeScript} }

// ParseMode reads a mode as an admin types it ("basic", "Script"); ""
// means Basic. An unknown mode gets an ErrBadRequest listing the modes.
func ParseMode(s string) (Mode, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ModeBasic, nil
	}
	for _, m := range Modes() {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, 0, len(Modes()))
	for _, m := range Modes() {
		names = append(names, string(m))
	}
	return "", tracker.Errorf(ErrBadRequest, "unknown mode %q: the modes are %s", s, strings.Join(names, ", "))
}

// Name is how the console and the command line name the mode: "Basic".
func (m Mode) Name() string {
	if m == "" {
		return ""
	}
	return strings.ToUpper(string(m[:1])) + string(m[1:])
}

// Connection statuses (DESIGN.md §4).
const (
	StatusPending     = "pending"
	StatusActive      = "active"
	StatusDeactivated = "deactivated"
	StatusError       = "error"
)

// Connection roles: which side of a connection issued its invitation.
const (
	RoleInitiator = "initiator"
	RoleAcceptor  = "acceptor"
)

// Instance is what GET /api/v1/instance says about a node: public, never a
// secret.
type Instance struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Product    string `json:"product"`
	Version    string `json:"version"`
	APIVersion int    `json:"api_version"`
	Tracker    string `json:"tracker"`
	URL        string `json:"url"`
	// Modes are the configuration modes the node supports.
	Modes []Mode `json:"modes"`
	// Vocabulary is how the node's tracker names things, for the
	// console's wording; zero when the node was given none.
	Vocabulary tracker.Vocabulary `json:"vocabulary,omitzero"`
}

// Connection is a connection as the engine's callers see it; the key never
// leaves the engine.
type Connection struct {
	ID                string    `json:"id"`
	Name              string    `json:"name"`
	Role              string    `json:"role"`
	Mode              Mode      `json:"mode"`
	Status            string    `json:"status"`
	StatusReason      string    `json:"status_reason,omitempty"`
	LocalProject      string    `json:"local_project"`
	LocalProjectName  string    `json:"local_project_name"`
	RemoteURL         string    `json:"remote_url,omitempty"`
	RemoteName        string    `json:"remote_name,omitempty"`
	RemoteTracker     string    `json:"remote_tracker,omitempty"`
	RemoteProjectName string    `json:"remote_project_name,omitempty"`
	Local             bool      `json:"local"`
	TriggerNewTasks   bool      `json:"trigger_new_tasks"`
	CreatedAt         time.Time `json:"created_at"`
	// SyncedItems counts the connection's twins whose two sides both still
	// exist.
	SyncedItems int `json:"synced_items"`
	// LastSync is when a sync on the connection last reached Synchronized;
	// zero if none has yet.
	LastSync time.Time `json:"last_sync,omitzero"`
	// Queued counts the connection's open syncs: neither Synchronized nor
	// resolved (its sync queue).
	Queued int `json:"queued"`
}

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
	// Held says why the sync waits at its stage without being tried, ""
	// when it is not held: its connection's invitation is not accepted
	// yet ("waiting for Globex to accept the invitation"), or the
	// connection is not active. It moves on by itself when that ends.
	Held string    `json:"held,omitempty"`
	At   time.Time `json:"at"`
	// The two sides' keys and links, once known.
	LocalKey  string `json:"local_key,omitempty"`
	LocalURL  string `json:"local_url,omitempty"`
	RemoteKey string `json:"remote_key,omitempty"`
	RemoteURL string `json:"remote_url,omitempty"`
	// Resolution is the reason an admin gave for resolving the sync
	// (stopping its retries), and ResolvedAt when; "" and zero while it
	// is not resolved. A resolved sync stays at the stage it stopped at.
	Resolution string    `json:"resolution,omitempty"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// Progress, when set, makes this a progress report rather than a
	// stage change: the sync is still at Stage (Waiting for remote), and
	// the receiving side has applied Progress.Done of Progress.Total. The
	// source publishes the receiver's reports, the receiver its own.
	Progress *Progress `json:"progress,omitempty"`
}

// What a progress report counts.
const (
	ProgressComments    = "comments"
	ProgressAttachments = "attachments"
)

// Progress says how far the apply of a replica has got on the receiving
// side: Done of Total comments, or attachments (What). A long sync (5,000
// comments at 150 requests a minute take most of an hour) shows it while it
// is Waiting for remote.
type Progress struct {
	What  string `json:"what"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// String is how the console and the command line show it: "comments 120
// of 5000".
func (p Progress) String() string { return fmt.Sprintf("%s %d of %d", p.What, p.Done, p.Total) }

// EventStatus is one sync with every stage it went through.
type EventStatus struct {
	StageEvent
	Stages []StageEntry `json:"stages"`
	// Deleted says where the item or its twin was deleted since: "here",
	// "there" or "" (deletes are recorded, never propagated).
	Deleted string `json:"deleted,omitempty"`
	// Skipped says what the receiving side could not apply, and why (an
	// attachment over its tracker's limit): shown, never dropped silently.
	Skipped []string `json:"skipped,omitempty"`
	// RemoteType is the other side's type when this side has no such type
	// and the item here got its default type (a Jira Bug on Asana).
	RemoteType string `json:"remote_type,omitempty"`
	// Notes say what the receiving side applied differently (the
	// receiving engine's ApplyResult.Notes).
	Notes []string `json:"notes,omitempty"`
	// RulesVersion is the version of the rules the sync ran under on this
	// node ("basic" in Basic mode); "" for a sync older than the record.
	RulesVersion string `json:"rules_version,omitempty"`
}

// StageEntry is one stage an event went through.
type StageEntry struct {
	Stage string    `json:"stage"`
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
}

// InvitationPreview is what the Accept screen shows about an invitation
// before the admin accepts it.
type InvitationPreview struct {
	// Initiator is the inviting node, as it describes itself now.
	Initiator Instance `json:"initiator"`
	// ProjectName is the initiator's project for the connection.
	ProjectName string `json:"project_name"`
	// Mode is the connection's configuration mode.
	Mode Mode `json:"mode"`
	// Expires is when the code stops working.
	Expires time.Time `json:"expires"`
}

// Rule is one line of a connection's rules: a field on this side, the field
// it maps to on the other side, and what the mapping does to it.
type Rule struct {
	Order     int    `json:"order"`
	ThisSide  string `json:"this_side"`
	OtherSide string `json:"other_side"`
	Note      string `json:"note,omitempty"`
}

// ConnectionStats sums up a connection's syncs for the console's
// connection screen.
type ConnectionStats struct {
	ConnectionID string `json:"connection_id"`
	// SyncedItems counts the twins whose two sides both still exist.
	SyncedItems int `json:"synced_items"`
	// EventsOut and EventsIn count the syncs sent and received.
	EventsOut int `json:"events_out"`
	EventsIn  int `json:"events_in"`
	// Synchronized counts the syncs that reached Synchronized.
	Synchronized int `json:"synchronized"`
	// Failing counts the syncs not Synchronized whose last attempt failed
	// (they carry an error and wait for their next retry).
	Failing int `json:"failing"`
	// LastSync is when a sync last reached Synchronized; zero if never.
	LastSync time.Time `json:"last_sync,omitzero"`
	// MedianStage is, per stage key (StagePreparing, StageSending,
	// StageWaiting, StageFinalizing), the median time the connection's
	// latest syncs spent in it, from entering it to entering the next one.
	// A stage no sync has left yet has no key. In JSON it is
	// "median_stage_ms", in (fractional) milliseconds.
	MedianStage map[string]time.Duration `json:"-"`
}

// statsJSON is ConnectionStats on the wire: durations in milliseconds.
type statsJSON struct {
	plainStats
	MedianStageMS map[string]float64 `json:"median_stage_ms,omitempty"`
}

// plainStats is ConnectionStats without its JSON methods.
type plainStats ConnectionStats

// MarshalJSON writes MedianStage as median_stage_ms.
func (s ConnectionStats) MarshalJSON() ([]byte, error) {
	out := statsJSON{plainStats: plainStats(s)}
	if len(s.MedianStage) > 0 {
		out.MedianStageMS = map[string]float64{}
		for k, d := range s.MedianStage {
			out.MedianStageMS[k] = float64(d) / float64(time.Millisecond)
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *ConnectionStats) UnmarshalJSON(data []byte) error {
	var in statsJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*s = ConnectionStats(in.plainStats)
	s.MedianStage = nil
	if len(in.MedianStageMS) > 0 {
		s.MedianStage = map[string]time.Duration{}
		for k, ms := range in.MedianStageMS {
			s.MedianStage[k] = time.Duration(math.Round(ms * float64(time.Millisecond)))
		}
	}
	return nil
}
