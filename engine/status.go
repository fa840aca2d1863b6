package engine

// Where a sync stands: the latest event of an item and its stage log.

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/tandem-sync/tandem/store"
)

// Status returns the latest sync of an entity (given as a ref) on a
// connection (by id or name; "" for any), with its stages and both links.
func (n *pipeline) Status(ctx context.Context, connID, ref string) (EventStatus, error) {
	et, err := n.entities()
	if err != nil {
		return EventStatus{}, err
	}
	if connID != "" {
		c, err := n.findConnection(ctx, connID)
		if err != nil {
			return EventStatus{}, err
		}
		connID = c.ID
	}
	id, err := et.ParseRef(ref)
	if err != nil {
		return EventStatus{}, Errorf(ErrBadRequest, "%v", err)
	}
	st, found, err := n.statusOf(ctx, connID, id)
	if err == nil && !found {
		// A reference may be a key rather than the tracker's id (Jira's
		// KAN-19): the tracker knows which item it names.
		if e, gerr := et.Get(ctx, id); gerr == nil && e.ID != id && !e.Deleted {
			st, found, err = n.statusOf(ctx, connID, e.ID)
		}
	}
	if err != nil || found {
		return st, err
	}
	return EventStatus{}, Errorf(ErrNotFound, "%s was never synced from or to %s", ref, n.inst.Name)
}

// statusOf finds the latest sync of the entity id names, here or as the
// twin of one here, on connID or any connection.
func (n *pipeline) statusOf(ctx context.Context, connID, id string) (EventStatus, bool, error) {
	cs, err := n.st.Connections(ctx)
	if err != nil {
		return EventStatus{}, false, err
	}
	for _, c := range cs {
		if connID != "" && c.ID != connID {
			continue
		}
		local := id
		if t, err := n.st.TwinByRemote(ctx, nil, c.ID, id); err == nil {
			local = t.LocalID // the ref names the twin on the other side
		}
		ev, err := n.st.LatestEvent(ctx, c.ID, local)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return EventStatus{}, false, err
		}
		st, err := n.eventStatus(ctx, c.ID, ev.ID)
		if t, terr := n.st.Twin(ctx, nil, c.ID, local); terr == nil {
			switch {
			case t.LocalDeleted:
				st.Deleted = "here"
			case t.RemoteDeleted:
				st.Deleted = "there"
			}
			st.RemoteType = t.RemoteType
		}
		return st, true, err
	}
	return EventStatus{}, false, nil
}

// EventStatus returns one sync with its stages; connID may be the
// connection's name.
func (n *pipeline) EventStatus(ctx context.Context, connID, eventID string) (EventStatus, error) {
	c, err := n.findConnection(ctx, connID)
	if err != nil {
		return EventStatus{}, err
	}
	return n.eventStatus(ctx, c.ID, eventID)
}

// eventStatus is EventStatus for a connection's id.
func (n *pipeline) eventStatus(ctx context.Context, connID, eventID string) (EventStatus, error) {
	ev, err := n.st.SyncEvent(ctx, nil, connID, eventID)
	if errors.Is(err, store.ErrNotFound) {
		return EventStatus{}, Errorf(ErrNotFound, "no sync %s on connection %s", eventID, connID)
	}
	if err != nil {
		return EventStatus{}, err
	}
	log, err := n.st.StageLog(ctx, connID, eventID)
	if err != nil {
		return EventStatus{}, err
	}
	st := EventStatus{StageEvent: stageEventOf(ev, ev.UpdatedAt), RulesVersion: ev.RulesVersion}
	if len(ev.Result) > 0 {
		var res ApplyResult
		if json.Unmarshal(ev.Result, &res) == nil {
			st.Skipped, st.Notes = res.Skipped, res.Notes
		}
	}
	for _, l := range log {
		st.Stages = append(st.Stages, StageEntry{Stage: l.Stage, Error: l.Error, At: l.At})
	}
	return st, nil
}
