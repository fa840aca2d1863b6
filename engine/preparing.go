package engine

// Preparing, the first of the five stages a sync shows: an item read from
// the tracker (by Exalate, Bulk Exalate or change detection) becomes a
// replica, stored with its event and send job in one transaction.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-sync/tandem/store"
)

func (n *Node) entities() (EntityTracker, error) {
	et, ok := n.cfg.Tracker.(EntityTracker)
	if !ok {
		return nil, fmt.Errorf("the %s tracker cannot sync entities yet", n.cfg.Tracker.Kind())
	}
	return et, nil
}

// Exalate syncs one entity now, given as a user pastes it (an id, a key, a
// link). connID may be empty when exactly one active connection covers the
// entity's project. It returns once the event is stored (Preparing done);
// Subscribe or EventStatus follow the rest.
func (n *Node) Exalate(ctx context.Context, connID, ref string) (StageEvent, error) {
	et, err := n.entities()
	if err != nil {
		return StageEvent{}, err
	}
	id, err := et.ParseRef(ref)
	if err != nil {
		return StageEvent{}, Errorf(ErrBadRequest, "%v", err)
	}
	n.writing.RLock() // see consider
	defer n.writing.RUnlock()
	started := n.now()
	e, err := et.Get(ctx, id)
	if err != nil {
		return StageEvent{}, fmt.Errorf("reading %s from %s: %w", ref, n.inst.Tracker, err)
	}
	c, err := n.connectionFor(ctx, connID, e.Project)
	if err != nil {
		return StageEvent{}, err
	}
	return n.prepare(ctx, c, e, true, started)
}

// connectionFor picks the active connection for an entity of project;
// connID, the one the admin named (by id or name), or "" for the one
// connection that syncs project.
func (n *Node) connectionFor(ctx context.Context, connID, project string) (store.Connection, error) {
	if connID != "" {
		c, err := n.findConnection(ctx, connID)
		if err == nil && c.LocalProject != project {
			return c, Errorf(ErrBadRequest, "connection %s syncs project %s; that item is in another project", c.Name, c.LocalProjectName)
		}
		return c, err
	}
	cs, err := n.st.Connections(ctx)
	if err != nil {
		return store.Connection{}, err
	}
	var matches []store.Connection
	var names []string
	for _, c := range cs {
		if c.LocalProject == project && c.Status != StatusPending {
			matches = append(matches, c)
			names = append(names, c.Name+" ("+c.ID+")")
		}
	}
	switch len(matches) {
	case 0:
		return store.Connection{}, Errorf(ErrBadRequest, "no connection on %s syncs that item's project; set one up first", n.inst.Name)
	case 1:
		return matches[0], nil
	}
	return store.Connection{}, Errorf(ErrBadRequest, "several connections sync that item's project; pick one with --connection: %v", names)
}

// prepare is Preparing: read (already done by the caller), apply the
// outgoing rules against the last synced state, and store the event, its
// replica and the send job in one transaction. A connection that is not
// Active stores the event and leaves it queued at Sending.
func (n *Node) prepare(ctx context.Context, c store.Connection, e Entity, always bool, started time.Time) (StageEvent, error) {
	twin, err := n.st.Twin(ctx, nil, c.ID, e.ID)
	hasTwin := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return StageEvent{}, err
	}
	if hasTwin && twin.RemoteDeleted {
		return StageEvent{}, Errorf(ErrConflict, "%s's twin %s was deleted on %s; deletes are not propagated, so there is nothing to sync it to",
			e.Key, twin.RemoteKey, c.RemoteName)
	}
	var twinState *store.Twin
	if hasTwin {
		twinState = &twin
	}
	out := n.rules.Outgoing(e, twinState)
	// What earlier syncs of this entity still carry is not sent again: a
	// change seen twice (by a poll and an exalate, or by two polls before
	// the first sync finished) makes one replica, not two.
	inFlight, err := n.inFlight(ctx, c.ID, e.ID)
	if err != nil {
		return StageEvent{}, err
	}
	r := Replica{EventID: uuid.NewString(), Origin: n.inst.Name, Source: out.Source}
	if hasTwin {
		r.Twin = twin.RemoteID
	}
	r.Source.ID, r.Source.Key, r.Source.URL, r.Source.ModifiedAt = e.ID, e.Key, e.URL, e.ModifiedAt
	for _, f := range n.rules.Fields() {
		fp := fingerprint(n.rules.Value(out.Item, f))
		if (!hasTwin || fieldFP(twin, f) != fp) && !inFlight[f+"\x00"+fp] {
			r.Fields = append(r.Fields, f)
		}
	}
	comments, err := n.st.Links(ctx, nil, c.ID, store.LinkComment, e.ID)
	if err != nil {
		return StageEvent{}, err
	}
	// An incoming sync still writing to this entity (retrying after a write
	// whose outcome was unknown) may have left comments or files that are
	// its own, not a user's: they are not sent back. The sync's next writes
	// bring the entity up again once they are recorded.
	pendingComments, err := n.st.PendingWrites(ctx, c.ID, store.LinkComment, e.ID)
	if err != nil {
		return StageEvent{}, err
	}
	pendingFiles, err := n.st.PendingWrites(ctx, c.ID, store.LinkAttachment, e.ID)
	if err != nil {
		return StageEvent{}, err
	}
	for _, cm := range e.Comments {
		i := slices.IndexFunc(comments, func(l store.ItemLink) bool { return l.LocalID == cm.ID })
		if i < 0 && pendingComments > 0 {
			continue
		}
		if (i < 0 || comments[i].Fingerprint != fingerprint(cm.Body)) && !inFlight["comment\x00"+cm.ID+"\x00"+fingerprint(cm.Body)] {
			r.Comments = append(r.Comments, ReplicaComment{ID: cm.ID, Author: cm.Author, Body: cm.Body})
		}
	}
	atts, err := n.st.Links(ctx, nil, c.ID, store.LinkAttachment, e.ID)
	if err != nil {
		return StageEvent{}, err
	}
	for _, a := range e.Attachments {
		if !slices.ContainsFunc(atts, func(l store.ItemLink) bool { return l.LocalID == a.ID }) && !inFlight["attachment\x00"+a.ID] && pendingFiles == 0 {
			r.Attachments = append(r.Attachments, a)
		}
	}
	if !always && len(r.Fields) == 0 && len(r.Comments) == 0 && len(r.Attachments) == 0 {
		return StageEvent{}, nil // nothing a user changed: no event, no echo
	}
	payload, err := json.Marshal(r)
	if err != nil {
		return StageEvent{}, err
	}
	ev := store.SyncEvent{ConnectionID: c.ID, ID: r.EventID, Direction: store.DirectionOut, EntityID: e.ID,
		Stage: StagePreparing, Payload: payload, LocalKey: e.Key, LocalURL: e.URL, RemoteKey: twin.RemoteKey, RemoteURL: twin.RemoteURL}
	n.publish(ev, started)
	sent := n.now()
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.CreateSyncEvent(ctx, tx, ev, started); err != nil {
			return err
		}
		ev.Stage = StageSending
		if err := n.st.UpdateSyncEvent(ctx, tx, ev, sent); err != nil {
			return err
		}
		// The status as of this transaction, not as the caller last saw it
		// (see SetActive).
		status, err := n.st.ConnectionStatus(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		if status != StatusActive {
			return nil // queued: activation enqueues it
		}
		_, err = n.river.InsertTx(ctx, tx, sendArgs{Conn: c.ID, Event: ev.ID}, nil)
		return err
	})
	if err != nil {
		return StageEvent{}, fmt.Errorf("storing the sync of %s: %w", e.Key, err)
	}
	if out.Local != nil {
		n.normalizeLocal(ctx, e, *out.Local)
	}
	return n.publish(ev, sent), nil
}

// inFlight collects what the unfinished syncs of an entity carry: field
// values, comment bodies and attachments, as keys of a set.
func (n *Node) inFlight(ctx context.Context, connID, entityID string) (map[string]bool, error) {
	evs, err := n.st.UnfinishedEvents(ctx, connID, entityID)
	if err != nil {
		return nil, err
	}
	carried := map[string]bool{}
	for _, ev := range evs {
		var r Replica
		if err := json.Unmarshal(ev.Payload, &r); err != nil {
			return nil, fmt.Errorf("event %s: unreadable replica: %w", ev.ID, err)
		}
		for _, f := range r.Fields {
			carried[f+"\x00"+fingerprint(n.rules.Sent(r.Source, f))] = true
		}
		for _, c := range r.Comments {
			carried["comment\x00"+c.ID+"\x00"+fingerprint(c.Body)] = true
		}
		for _, a := range r.Attachments {
			carried["attachment\x00"+a.ID] = true
		}
	}
	return carried, nil
}

// ExalateAll syncs every entity of a connection's project now (Bulk
// Exalate). It returns the events it started, in order; progress follows
// through Subscribe. Entities already in sync still get an event, so the
// operator sees each one confirmed.
func (n *Node) ExalateAll(ctx context.Context, connID string) ([]StageEvent, error) {
	et, err := n.entities()
	if err != nil {
		return nil, err
	}
	c, err := n.findConnection(ctx, connID)
	if err != nil {
		return nil, err
	}
	ids, err := et.List(ctx, c.LocalProject)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", c.LocalProjectName, err)
	}
	var started []StageEvent
	for _, id := range ids {
		ev, err := n.exalateOne(ctx, et, c, id)
		if err != nil {
			return started, err
		}
		started = append(started, ev)
	}
	return started, nil
}

// exalateOne reads and prepares one entity of c's project.
func (n *Node) exalateOne(ctx context.Context, et EntityTracker, c store.Connection, id string) (StageEvent, error) {
	n.writing.RLock() // see consider
	defer n.writing.RUnlock()
	started := n.now()
	e, err := et.Get(ctx, id)
	if err != nil {
		return StageEvent{}, fmt.Errorf("reading %s: %w", id, err)
	}
	return n.prepare(ctx, c, e, true, started)
}
