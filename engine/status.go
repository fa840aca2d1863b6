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
		// KAN-19): the tracker knows which item it names, or that there
		// is none.
		e, gerr := et.Get(ctx, id)
		switch {
		case errors.Is(gerr, ErrNotFound):
			return EventStatus{}, n.noSuchItem(ref)
		case gerr == nil && e.ID != id && !e.Deleted:
			st, found, err = n.statusOf(ctx, connID, e.ID)
		}
	}
	if err != nil || found {
		return st, err
	}
	return EventStatus{}, Errorf(ErrNotFound, "%s was never synced from or to %s", ref, n.inst.Name)
}

// noSuchItem is the one line for a reference to an item the tracker does
// not have (or no longer has, or does not show this node): "No task 1200…
// in Acme's Asana (it may have been deleted, or is in another
// workspace)", in the words of the node's tracker, rather than the
// client's 404.
func (n *pipeline) noSuchItem(ref string) error {
	v := n.words
	if v.Item == "" {
		v.Item = "item"
	}
	if v.Title == "" {
		v.Title = n.inst.Tracker
	}
	why := "it may have been deleted"
	if v.Elsewhere != "" {
		why += ", or is " + v.Elsewhere
	}
	return Errorf(ErrNotFound, "No %s %s in %s's %s (%s)", v.Item, ref, n.inst.Name, v.Title, why)
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
	if c, err := n.st.Connection(ctx, connID); err == nil {
		st.Held = heldBy(c, ev)
	}
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
