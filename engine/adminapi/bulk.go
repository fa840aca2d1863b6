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
// not nil, hears each read meanwhile (its Error is a failed try's, which
// the node retries). A bulk whose listing failed for good is an error
// saying why. Each read is a short call, so a balancer's timeout or a
// replica's death between two costs one read, not the bulk: a read that
// fails is tried again at the next pause, unless the node's answer won't
// change (4xx: the token refused, the bulk or its connection gone).
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
		case ctx.Err() != nil || answered(err):
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

// answered says whether err is a node's answer that asking again won't
// change: a client error (4xx), in process or over HTTP.
func answered(err error) bool {
	if _, status := ErrorCode(err); status/100 == 4 {
		return true
	}
	var s interface{ HTTPStatus() int }
	return errors.As(err, &s) && s.HTTPStatus()/100 == 4
}
