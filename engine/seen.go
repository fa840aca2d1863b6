package engine

import (
	"context"
	"slices"

	"github.com/tandem-sync/tandem/store"
)

// seenTimes: how change detection tells, without reading an item, that a
// change is nothing to sync (issue 17, the minimum calls per item).
//
// A node records, per connection and local item, times on the tracker's
// clock (store.PutSeen, migration 0011):
//
//   - write: what its own writes returned, in the transaction that
//     records each write (the twin after a create or an update of Basic
//     fields, the link after an added comment or file). Only writes whose
//     whole effect the twin records: a comment the rules keep (a replaced
//     description) is not among them, nor an update of fields beyond
//     Basic, which may write nothing and return a user's time.
//   - read: an item's modified_at as Preparing last read it whole (every
//     change up to then went into a sync, or was nothing to send).
//
// An entity the tracker reports with the times of all its changes, each
// made by the node's own account (Changes.Own), is dropped when every
// time is a recorded write: its changes are the sync's own. One change at
// another time (a user's edit right after the write, even by the same
// account) and it is read as before. A reconcile's entity whose listed
// modified_at is not newer than its last whole read is dropped too: it
// has not changed since. Anything else, or no evidence, and it is read;
// and so is every change after a read that left a user's comments or
// files unsent because an incoming write's outcome was unknown (kind
// deferred): the sync's next writes are what bring it up again.

// nothingNew reports whether what detection knows of entity id's changes
// (ev) shows there is nothing to sync without reading it.
func (d *detector) nothingNew(ctx context.Context, connID, id string, ev evidence) (bool, error) {
	if len(ev.own) == 0 && ev.modified.IsZero() {
		return false, nil
	}
	// A read that left comments or files unsent for an incoming write
	// of unknown outcome waits for the next change, whoever made it.
	if deferred, err := d.st.Seen(ctx, connID, id, store.SeenDeferred); err != nil || len(deferred) > 0 {
		return false, err
	}
	switch {
	case len(ev.own) > 0 && ownEchoes:
		writes, err := d.st.Seen(ctx, connID, id, store.SeenWrite)
		if err != nil {
			return false, err
		}
		for _, t := range ev.own {
			if !slices.ContainsFunc(writes, t.Equal) {
				return false, nil
			}
		}
		return true, nil
	case !ev.modified.IsZero():
		reads, err := d.st.Seen(ctx, connID, id, store.SeenRead)
		if err != nil || len(reads) == 0 {
			return false, err
		}
		return !ev.modified.After(reads[len(reads)-1]), nil
	}
	return false, nil
}

// ownEchoes turns on dropping the node's own writes by their times
// (Changes.Own). It was off while TestSandboxFaultsConverge failed with it
// on: a rename made after a Bulk Exalate's listing was lost, not by an
// own-write drop but by detection dropping a change to an item with no
// twin or sync yet, a gap quicker detection fell into more often (closed
// by ExalateAll's second listing, followListed; TestBulkListingThenRename).
const ownEchoes = true
