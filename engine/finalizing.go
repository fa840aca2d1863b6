package engine

// Finalizing and Synchronized: the receiving node reports the result
// back (the apply job, once the result is stored); the source records the
// twin, the links and the echo fingerprints (ReceiveResult) and the event
// is Synchronized.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tandem-sync/tandem/store"
)

// ResultDelivery is the body of a signed POST /api/v1/peer/results.
type ResultDelivery struct {
	Result ApplyResult `json:"result"`
}

// report sends an applied replica's result back to its source: the job
// an admin's retry or Resolve queues (the apply job reports what it
// applied itself), and those an earlier version left queued.
func (n *pipeline) report(ctx context.Context, a reportArgs, attempt int) error {
	c, err := n.st.Connection(ctx, a.Conn)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ev, err := n.st.SyncEvent(ctx, nil, a.Conn, a.Event)
	if err != nil {
		return err
	}
	return n.reportResult(ctx, c, ev, attempt)
}

// reportResult sends incoming event ev's result (or its resolution) back
// to its source, and the event is Synchronized here.
func (n *pipeline) reportResult(ctx context.Context, c store.Connection, ev store.SyncEvent, attempt int) error {
	var res ApplyResult
	// A sync resolved here before it was applied is reported as such, so
	// the source stops waiting for it (Resolve queues that report).
	resolved := !ev.ResolvedAt.IsZero()
	if resolved && len(ev.Result) == 0 {
		res = ApplyResult{EventID: ev.ID, Resolved: ev.Resolution}
	} else if err := json.Unmarshal(ev.Result, &res); err != nil {
		return fmt.Errorf("event %s: unreadable result: %w", ev.ID, err)
	}
	if err := n.signedPost(ctx, c, PathResults, "result-"+ev.ID, ResultDelivery{Result: res}, nil); err != nil {
		err = fmt.Errorf("reporting to %s: %w", c.RemoteName, err)
		if resolved {
			// Not the sync failing, which the admin resolved: telling the
			// source is retried without marking the sync again.
			n.log.Warn("telling the other node about a resolved sync; will retry", "connection", c.ID, "event", ev.ID, "err", err)
			return err
		}
		return n.failed(ctx, c.ID, ev.ID, attempt, err)
	}
	if resolved {
		return nil // it stays resolved, at the stage it stopped at
	}
	return n.advance(ctx, c.ID, ev.ID, StageSynchronized, "", time.Time{}, nil)
}

// ReceiveResult is Finalizing on the source: it records the twin, the
// comment and attachment links and the fingerprints that stop echoes, in
// one transaction, and the event is Synchronized. A result delivered again
// changes nothing.
func (n *pipeline) ReceiveResult(ctx context.Context, c Connection, d ResultDelivery) error {
	res := d.Result
	ev, err := n.st.SyncEvent(ctx, nil, c.ID, res.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(ErrNotFound, "no outgoing sync %s on this connection", res.EventID)
	}
	if err != nil {
		return err
	}
	if ev.Direction != store.DirectionOut {
		return Errorf(ErrBadRequest, "sync %s is not one this node sent", res.EventID)
	}
	if ev.Stage == StageSynchronized {
		return nil
	}
	if res.Resolved != "" {
		return n.resolvedThere(ctx, c, ev, res.Resolved)
	}
	var r Replica
	if err := json.Unmarshal(ev.Payload, &r); err != nil {
		return err
	}
	rules, err := n.connRules(ctx, c.ID, Mode(c.Mode))
	if err != nil {
		return err
	}
	// Finalizing and Synchronized are logged in one transaction, with what
	// they record: one commit per result instead of two, and the stage log
	// the same. A result delivered twice at once finds the other's commit.
	var (
		waiting      store.SyncEvent // set if Waiting was logged here
		waitingAt    time.Time
		finalizing   store.SyncEvent
		finalizingAt time.Time
		moved, done  bool
		at           time.Time
	)
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := n.st.SyncEvent(ctx, tx, c.ID, ev.ID)
		if err != nil {
			return err
		}
		if cur.Stage == StageSynchronized {
			done = true
			return nil
		}
		ev = cur
		if stageIndex(ev.Stage) < stageIndex(StageWaiting) {
			// The result overtook the sender's own record that it
			// delivered the sync (the peer applied and reported before
			// advance to Waiting committed, as a peer whose queue wakes
			// at once can): the result is proof of delivery, so Waiting
			// is logged here and the stage log reads the same on every
			// timing.
			waitingAt = n.now()
			ev.Stage, ev.Error, ev.NextRetryAt = StageWaiting, "", time.Time{}
			if err := n.st.UpdateSyncEvent(ctx, tx, ev, waitingAt); err != nil {
				return err
			}
			if err := n.noteStage(ctx, tx, ev, waitingAt, true); err != nil {
				return err
			}
			waiting = ev
		}
		if stageIndex(ev.Stage) < stageIndex(StageFinalizing) || ev.Error != "" {
			finalizingAt = n.now()
			entered := ev.Stage != StageFinalizing
			ev.Stage, ev.Error, ev.NextRetryAt = StageFinalizing, "", time.Time{}
			ev.RemoteKey, ev.RemoteURL = res.Key, res.URL
			if err := n.st.UpdateSyncEvent(ctx, tx, ev, finalizingAt); err != nil {
				return err
			}
			if err := n.noteStage(ctx, tx, ev, finalizingAt, entered); err != nil {
				return err
			}
			finalizing, moved = ev, true
		}
		at = n.now()
		twin, err := n.st.Twin(ctx, tx, c.ID, r.Source.ID)
		if errors.Is(err, store.ErrNotFound) {
			twin = store.Twin{ConnectionID: c.ID, LocalID: r.Source.ID, Fields: map[string]string{}}
		} else if err != nil {
			return err
		}
		if twin.RemoteID != "" && twin.RemoteID != res.EntityID {
			// A twin is never re-pointed: the peer applied this to another
			// entity than the one already linked, which is a bug to see.
			return fmt.Errorf("%s is linked to %s on %s, but the peer applied sync %s to %s",
				twin.LocalKey, twin.RemoteKey, c.RemoteName, ev.ID, res.Key)
		}
		twin.RemoteID, twin.RemoteKey, twin.RemoteURL = res.EntityID, res.Key, res.URL
		twin.LocalKey, twin.LocalURL = r.Source.Key, r.Source.URL
		for _, f := range r.Fields {
			if at := fieldAt(twin, f); !at.IsZero() && r.Source.ModifiedAt.Before(at) {
				continue // a newer write (an incoming sync) set it since
			}
			setField(&twin, f, fingerprint(rules.Sent(r.Source, f)), r.Source.ModifiedAt)
			if rules.KeepsRemote(f) {
				// This side's type now stands; a type the peer could not
				// hold is the peer's to keep.
				twin.RemoteType = ""
			}
		}
		if err := n.st.PutTwin(ctx, tx, twin); err != nil {
			return err
		}
		for _, p := range res.Comments {
			i := slices.IndexFunc(r.Comments, func(c ReplicaComment) bool { return c.ID == p.Source })
			fp := ""
			if i >= 0 {
				fp = fingerprint(r.Comments[i].Body)
			}
			if err := n.st.PutLink(ctx, tx, store.ItemLink{ConnectionID: c.ID, Kind: store.LinkComment, LocalID: p.Source,
				RemoteID: p.Dest, EntityID: r.Source.ID, Fingerprint: fp}); err != nil {
				return err
			}
		}
		for _, p := range res.Attachments {
			if err := n.st.PutLink(ctx, tx, store.ItemLink{ConnectionID: c.ID, Kind: store.LinkAttachment, LocalID: p.Source,
				RemoteID: p.Dest, EntityID: r.Source.ID}); err != nil {
				return err
			}
		}
		ev.Stage, ev.Error, ev.NextRetryAt = StageSynchronized, "", time.Time{}
		ev.RemoteKey, ev.RemoteURL, ev.Result = res.Key, res.URL, mustJSON(res)
		if err := n.st.UpdateSyncEvent(ctx, tx, ev, at); err != nil {
			return err
		}
		return n.noteStage(ctx, tx, ev, at, true)
	})
	if err != nil {
		err = fmt.Errorf("finalizing sync %s: %w", ev.ID, err)
		// The peer retries the report; the failure shows here meanwhile,
		// not only as an error on the other node.
		if aerr := n.advance(context.WithoutCancel(ctx), c.ID, ev.ID, StageFinalizing, err.Error(), time.Time{}, nil); aerr != nil {
			n.log.Error("recording a sync failure", "event", ev.ID, "err", aerr)
		}
		return err
	}
	if done {
		return nil
	}
	for _, why := range res.Skipped {
		n.log.Warn("not synced", "connection", c.ID, "event", ev.ID, "reason", why)
	}
	if waiting.ID != "" {
		n.publish(waiting, waitingAt)
	}
	if moved {
		n.publish(finalizing, finalizingAt)
	}
	n.publish(ev, at)
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs of strings reach here
	}
	return b
}
