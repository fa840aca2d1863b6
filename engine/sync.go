package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-sync/tandem/store"
)

// Replica is what the source node sends of an entity: the fields that
// changed since the last sync, and the comments and attachments the other
// side doesn't have yet (or whose content changed).
type Replica struct {
	EventID string        `json:"event_id"`
	Source  ReplicaEntity `json:"source"`
	// Fields names the fields of Source to apply.
	Fields      []string         `json:"fields"`
	Comments    []ReplicaComment `json:"comments"`
	Attachments []Attachment     `json:"attachments"`
	// Origin is the source node's name, shown with synced comments.
	Origin string `json:"origin"`
	// Twin is the receiver's own entity the source entity is the twin of,
	// when the source has the link: the receiver may not have recorded it
	// yet (its own first sync of that entity is still finishing) and must
	// not take the source entity for a new one.
	Twin string `json:"twin,omitempty"`
}

// ReplicaEntity is the source entity's identity and field values.
type ReplicaEntity struct {
	// ModifiedAt is when the source last changed; it decides conflicts.
	ModifiedAt  time.Time `json:"modified_at"`
	ID          string    `json:"id"`
	Key         string    `json:"key"`
	URL         string    `json:"url"`
	Type        string    `json:"type"`
	Summary     string    `json:"summary"`
	Description string    `json:"description"`
}

// ReplicaComment is a comment to create, or to update when the other side
// has its twin already.
type ReplicaComment struct {
	ID     string `json:"id"`
	Author string `json:"author"`
	Body   string `json:"body"`
}

// LinkPair links an item on the source side with the one made for it.
type LinkPair struct {
	Source string `json:"source"`
	Dest   string `json:"dest"`
}

// ApplyResult is what the receiving node reports after applying a replica.
type ApplyResult struct {
	EventID     string     `json:"event_id"`
	EntityID    string     `json:"entity_id"`
	Key         string     `json:"key"`
	URL         string     `json:"url"`
	Comments    []LinkPair `json:"comments"`
	Attachments []LinkPair `json:"attachments"`
	// Skipped says what could not be applied and why (an attachment over
	// the destination's limit); nothing is dropped silently.
	Skipped []string `json:"skipped,omitempty"`
	// Notes say what was applied differently from the source, and why (a
	// type the destination lacks, which became its default type).
	Notes []string `json:"notes,omitempty"`
}

// fingerprint identifies a value's content for echo suppression.
func fingerprint(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:16])
}

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
	if err := n.st.ClearUnexalated(ctx, nil, c.ID, e.ID); err != nil { // asked for this item: a fresh pair
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
		if err := n.st.SetRulesVersion(ctx, tx, c.ID, ev.ID, n.rulesVersion()); err != nil {
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

// publish tells listeners an event reached its stage and returns what it
// told them.
func (n *Node) publish(e store.SyncEvent, at time.Time) StageEvent {
	se := stageEventOf(e, at)
	n.hub.publish(se)
	return se
}

// stageIndex orders stages so an event never moves backwards (a report can
// arrive before the sender has recorded that its send went through).
func stageIndex(stage string) int { return slices.Index(Stages(), stage) }

// advance moves an event to stage (with an error and retry time, or none)
// unless it is already further, and publishes the change.
func (n *Node) advance(ctx context.Context, connID, eventID, stage, errText string, next time.Time, mod func(*store.SyncEvent)) error {
	var ev store.SyncEvent
	moved := false
	at := n.now()
	err := n.st.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if ev, err = n.st.SyncEvent(ctx, tx, connID, eventID); err != nil {
			return err
		}
		if stageIndex(stage) < stageIndex(ev.Stage) || (stage == ev.Stage && errText == "" && ev.Error == "") {
			return nil
		}
		ev.Stage, ev.Error, ev.NextRetryAt = stage, errText, next
		if mod != nil {
			mod(&ev)
		}
		moved = true
		return n.st.UpdateSyncEvent(ctx, tx, ev, at)
	})
	if err == nil && moved {
		n.publish(ev, at)
	}
	return err
}

// Status returns the latest sync of an entity (given as a ref) on a
// connection (by id or name; "" for any), with its stages and both links.
func (n *Node) Status(ctx context.Context, connID, ref string) (EventStatus, error) {
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
func (n *Node) statusOf(ctx context.Context, connID, id string) (EventStatus, bool, error) {
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
func (n *Node) EventStatus(ctx context.Context, connID, eventID string) (EventStatus, error) {
	c, err := n.findConnection(ctx, connID)
	if err != nil {
		return EventStatus{}, err
	}
	return n.eventStatus(ctx, c.ID, eventID)
}

// eventStatus is EventStatus for a connection's id.
func (n *Node) eventStatus(ctx context.Context, connID, eventID string) (EventStatus, error) {
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
	st := EventStatus{StageEvent: stageEventOf(ev, ev.UpdatedAt)}
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
		if n.isUnexalated(ctx, c.ID, id) {
			continue // unexalated: only an exalate of the item itself syncs it again
		}
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
