package engine

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/store"
)

// pipeline is the node's part that syncs items: the five stages the
// console shows, one file each (preparing.go, sending.go, waiting.go with
// applying.go, entitylocks.go and progress.go, finalizing.go), the durable job queue that
// runs them (jobs.go), deletes (deletes.go), the copy of attachments
// (attachments.go), the stage events and their listeners (events.go) and
// where a sync stands (status.go). It holds only what that needs: the
// peer protocol (embedded, to send replicas, results and attachments), the
// store, the tracker and how types are named, the instance, clock and
// logger, the disk guard, the job queue, and the two lookups it needs from
// the connections (given as functions). Node embeds it, so its methods
// are the node's. They keep the receiver name n they had as the node's:
// the diff that made the part changed only receivers and a few field
// paths.
type pipeline struct {
	*peering

	st      *store.Store
	log     *slog.Logger
	now     func() time.Time
	inst    store.Instance
	tracker Tracker
	// words are the node's tracker's (Node.vocabulary), for the messages
	// that name its items.
	words Vocabulary
	types tracker.TypeNames
	// defaultType is Config.DefaultType; progressEvery Config.ProgressEvery.
	defaultType   string
	progressEvery time.Duration

	// findConnection finds a connection by id or name, and connRules
	// gives the rules a connection in a mode syncs with: the connections'
	// (connections.findConnection, connections.connRules).
	findConnection func(ctx context.Context, ref string) (store.Connection, error)
	connRules      func(ctx context.Context, connID string, m Mode) (Rules, error)

	hub       hub
	river     *river.Client[*sql.Tx]
	stopRiver context.CancelFunc
	// alive marks this replica's River client alive to the others while
	// it runs (store.HoldReplica; PostgreSQL only).
	alive *store.Lead

	// writing is held, per item, while the sync writes to the tracker and
	// records what it wrote, and while changes are read, so a reader never
	// sees a write without its record (see writeLocks).
	writing writeLocks
	// applies is held, per connection and source item, for the whole of
	// an apply: two applies of one item (a replica delivered again while
	// its first apply runs, a replayed queue) never write its comments
	// and attachments side by side, each missing the other's links.
	applies  writeLocks
	applying applyingSet
	// bulks keeps each Bulk Exalate to one run at a time.
	bulks   bulkRunners
	disk    *diskGuard
	refused refusedAttachments
	// wake snaps a project's change detection back to every poll
	// interval (schedule.wake); nil while detection is off.
	wake func(project string)
}
