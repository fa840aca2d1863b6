package engine

import (
	"context"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/store"
)

// Rules are what a connection does to an item on its way out (local item →
// replica) and on its way in (replica + the item here → the changes to
// make). They are the seam between the pipeline, which decides when a
// field changed, which of two writes is newer and records what was done,
// and the mapping itself, which names the fields: the pipeline never names
// one. Basic is the fixed implementation every node uses today; Script
// mode is to be a second one (see Config.Modes and rulesFor).
type Rules interface {
	// Rows are the rules as the console's Rules tab shows them, in order.
	Rows() []Rule
	// Fields are the item fields the rules sync, besides comments and
	// attachments, in order: those a twin records a fingerprint and a
	// source time for (echo suppression, last writer wins).
	Fields() []string
	// Value is an item's value of one of Fields, as it is fingerprinted.
	Value(e Entity, field string) string
	// Sent is a replica's value of one of Fields, as the source node
	// fingerprints it once the replica is applied (Finalizing).
	Sent(r ReplicaEntity, field string) string
	// Outgoing is Preparing's rule for a local item; twin is its twin's
	// state, nil when it has none yet.
	// A script's failure is an error naming the script, line and message.
	Outgoing(ctx context.Context, e Entity, twin *store.Twin) (Outgoing, error)
	// Incoming is the rule for applying a replica's fields to the item
	// here (or to the one to be created for it).
	Incoming(ctx context.Context, in Incoming) (Applied, error)
	// Comment is the body a synced comment gets on this side; origin is
	// the source node's name.
	Comment(c ReplicaComment, origin string) string
	// KeepsRemote says whether field is the one whose other-side value,
	// when this side could not hold it, the twin keeps (Twin.RemoteType)
	// for the way back: syncing this side's value clears it.
	KeepsRemote(field string) bool
	// Refused says, after the tracker applied asked and the item became
	// got, whether the tracker refused a change the rules asked for, and
	// what the twin keeps of the source's value (Twin.RemoteType) if so.
	Refused(asked EntityUpdate, got Entity, src ReplicaEntity) (kept string, refused bool)
}

// Outgoing is what the rules make of a local item on its way out.
type Outgoing struct {
	// Item is the local item with its fields as the sync carries them
	// (normalised): what the fingerprints compare.
	Item Entity
	// Source holds the replica's field values; the pipeline sets its
	// identity (id, key, URL, modification time).
	Source ReplicaEntity
	// Local, when set, gives the local item the values the sync carries,
	// so both sides store the same (a normalised summary).
	Local *EntityUpdate
}

// Incoming is what the rules get of a replica to apply.
type Incoming struct {
	Source ReplicaEntity
	// Origin is the source node's name.
	Origin string
	// Fields are the replica's fields to apply: every one of Fields when
	// the item is to be created, else those the pipeline found neither
	// stale nor beaten by a newer write here.
	Fields []string
	// Current is the item here; nil when it is to be created.
	Current *Entity
	// Overwritten holds this side's value of each of Fields changed here
	// too since the last sync, which the replica's newer write replaces.
	Overwritten map[string]string
	// Previous is the last replica received for this pair before this
	// one, for rules that look at what changed (Script mode's previous);
	// nil when there is none, or the rules don't ask for it.
	Previous *ReplicaEntity
	// MapType gives the type an item of the other side's type gets here
	// (mirrored, or the default when this side lacks it) and the type the
	// twin keeps for the way back ("" when mirrored).
	MapType func(typ string) (local, kept string, err error)
}

// Applied is what the rules make of an incoming replica: the changes to
// make here.
type Applied struct {
	// Update is the item's new field values (on a create, its fields).
	Update EntityUpdate
	// RemoteType is what the twin keeps of the source's value of the
	// KeepsRemote field when it is among the fields applied.
	RemoteType string
	// Comments are added to an existing item after the update (a
	// replaced description, kept); a create adds none.
	Comments []string
	// NoComments and NoAttachments say the rules take none of the
	// replica's comments or attachments (a Script mode incoming script
	// that merges none).
	NoComments, NoAttachments bool
	// Notes say what the rules could not do, for the sync's notes.
	Notes []string
}

// Rule is one line of a connection's rules, as the Rules tab shows it (the
// admin API's adminapi.Rule).
type Rule = adminapi.Rule

// BasicRules returns the fixed rules of Basic mode (DESIGN.md §3), in order,
// as Basic implements them. Each call returns a new slice, so a caller may
// change what it gets.
func BasicRules() []Rule { return Basic{}.Rows() }

// Rules returns the rows of a connection's rules (by id or name), in order,
// as the Rules tab shows them: those of the connection's mode (rulesFor).
func (n *connections) Rules(ctx context.Context, connID string) ([]Rule, error) {
	c, err := n.findConnection(ctx, connID)
	if err != nil {
		return nil, err
	}
	rules, err := n.connRules(ctx, c.ID, Mode(c.Mode))
	if err != nil {
		return nil, err
	}
	return rules.Rows(), nil
}
