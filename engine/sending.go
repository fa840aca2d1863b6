package engine

// Sending: the send job delivers a stored replica to the peer until the
// peer has durably accepted it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tandem-sync/tandem/store"
)

// orderWait is how long a sync waits, without counting it as a try, for an
// earlier sync of the same item to finish.
const orderWait = 200 * time.Millisecond

// EventDelivery is the body of a signed POST /api/v1/peer/events.
type EventDelivery struct {
	Replica Replica `json:"replica"`
}

// send is Sending: the replica goes to the peer until it has durably
// accepted it; then the event waits for the remote.
func (n *pipeline) send(ctx context.Context, a sendArgs, attempt int) error {
	c, err := n.st.Connection(ctx, a.Conn)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the connection was deleted; nothing to send to
	}
	if err != nil {
		return err
	}
	if c.Status != StatusActive {
		return nil // deactivated: the event stays queued at Sending
	}
	ev, err := n.st.SyncEvent(ctx, nil, a.Conn, a.Event)
	if err != nil {
		return err
	}
	if stageIndex(ev.Stage) > stageIndex(StageSending) || !ev.ResolvedAt.IsZero() {
		return nil // sent already, or resolved: not to be sent
	}
	// One item's syncs reach the other side in the order they were made: a
	// later one waits while an earlier one is on its way, so its comments
	// land after the earlier one's (a re-activated connection replays a
	// queue of them) and it never overtakes the sync that makes the twin.
	unfinished, err := n.st.UnfinishedEvents(ctx, a.Conn, ev.EntityID)
	if err != nil {
		return err
	}
	if len(unfinished) > 0 && unfinished[0].ID != ev.ID {
		return river.JobSnooze(orderWait)
	}
	var r Replica
	if err := json.Unmarshal(ev.Payload, &r); err != nil {
		return fmt.Errorf("event %s: unreadable replica: %w", ev.ID, err)
	}
	if err := n.signedPost(ctx, c, PathEvents, ev.ID, EventDelivery{Replica: r}, nil); err != nil {
		return n.failed(ctx, a.Conn, a.Event, attempt, fmt.Errorf("sending to %s: %w", c.RemoteName, err))
	}
	return n.advance(ctx, a.Conn, a.Event, StageWaiting, "", time.Time{}, nil)
}
