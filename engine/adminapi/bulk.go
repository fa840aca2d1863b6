package adminapi

import (
	"context"
	"errors"
	"time"
)

// BulkReader is what WaitBulk needs of a node.
type BulkReader interface {
	Bulk(ctx context.Context, connID, id string, events int) (Bulk, error)
}

// bulkPoll is how often WaitBulk reads a bulk: often at first (a small
// project lists in well under a second), a second apart after.
var bulkPoll = struct{ first, max time.Duration }{50 * time.Millisecond, time.Second}

// WaitBulk waits until a Bulk Exalate has started every item's sync and
// returns how many it started with the first BulkEventsListed; listed, if
// not nil, hears each count read meanwhile. A bulk whose listing failed
// for good is an error saying why; one whose tries fail goes on waiting
// (the node retries it). Each read is a short call, so a balancer's
// timeout or a replica's death between two costs one read, not the bulk.
func WaitBulk(ctx context.Context, n BulkReader, b Bulk, listed func(Bulk)) (BulkStarted, error) {
	pause := bulkPoll.first
	for b.Listing {
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return BulkStarted{Started: b.Started}, ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, bulkPoll.max)
		next, err := n.Bulk(ctx, b.ConnectionID, b.ID, 0)
		switch {
		case err == nil:
			b = next
			if listed != nil {
				listed(b)
			}
		case errors.Is(err, ErrNotFound), ctx.Err() != nil:
			return BulkStarted{Started: b.Started}, err
		}
		// Other errors (a replica gone, a balancer's 502) are tried
		// again at the next pause.
	}
	if b.Failed {
		return BulkStarted{Started: b.Started}, errors.New("Bulk Exalate: " + b.Error)
	}
	full, err := n.Bulk(ctx, b.ConnectionID, b.ID, BulkEventsListed)
	if err != nil {
		return BulkStarted{Started: b.Started}, err
	}
	return BulkStarted{Started: full.Started, Events: full.Events}, nil
}
