package engine

// What the stages carry between the nodes: the replica and the result of
// applying it.

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// Replica is what the source node sends of an entity: the fields that
// changed since the last sync, and the comments and attachments the other
// side doesn't have yet (or whose content changed).
type Replica struct {
	EventID string        `json:"event_id"`
	Source  ReplicaEntity `json:"source"`
	// Fields names the fields of Source to apply.
	Fields      []string         `json:"fields"`
	Comments    []ReplicaComment `json:"comments"`
	Attachments []Attachment     `json:"attachments"`
	// Origin is the source node's name, shown with synced comments.
	Origin string `json:"origin"`
	// Twin is the receiver's own entity the source entity is the twin of,
	// when the source has the link: the receiver may not have recorded it
	// yet (its own first sync of that entity is still finishing) and must
	// not take the source entity for a new one.
	Twin string `json:"twin,omitempty"`
}

// ReplicaEntity is the source entity's identity and field values.
type ReplicaEntity struct {
	// ModifiedAt is when the source last changed; it decides conflicts.
	ModifiedAt  time.Time `json:"modified_at"`
	ID          string    `json:"id"`
	Key         string    `json:"key"`
	URL         string    `json:"url"`
	Type        string    `json:"type"`
	Summary     string    `json:"summary"`
	Description string    `json:"description"`
	// Fields are the values beyond Basic a Script mode side's outgoing
	// script set (a Basic side sends none).
	tracker.Fields
	// Set names the fields a Script mode side's outgoing script set; nil
	// from a Basic side, which sends its three (type, summary,
	// description).
	Set []string `json:"set,omitempty"`
}

// ReplicaComment is a comment to create, or to update when the other side
// has its twin already.
type ReplicaComment struct {
	ID     string `json:"id"`
	Author string `json:"author"`
	Body   string `json:"body"`
}

// LinkPair links an item on the source side with the one made for it.
type LinkPair struct {
	Source string `json:"source"`
	Dest   string `json:"dest"`
}

// ApplyResult is what the receiving node reports after applying a replica.
type ApplyResult struct {
	EventID     string     `json:"event_id"`
	EntityID    string     `json:"entity_id"`
	Key         string     `json:"key"`
	URL         string     `json:"url"`
	Comments    []LinkPair `json:"comments"`
	Attachments []LinkPair `json:"attachments"`
	// Skipped says what could not be applied and why (an attachment over
	// the destination's limit); nothing is dropped silently.
	Skipped []string `json:"skipped,omitempty"`
	// Notes say what was applied differently from the source, and why (a
	// type the destination lacks, which became its default type).
	Notes []string `json:"notes,omitempty"`
	// Resolved, when set, says nothing was applied: the receiving node's
	// admin resolved the sync (stopped its retries) for this reason.
	Resolved string `json:"resolved,omitempty"`
}

// fingerprint identifies a value's content for echo suppression.
func fingerprint(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:16])
}
