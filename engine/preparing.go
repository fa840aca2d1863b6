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

func (n *pipeline) entities() (EntityTracker, error) {
	et, ok := n.tracker.(EntityTracker)
	if !ok {
		return nil, fmt.Errorf("the %s tracker cannot sync entities yet", n.tracker.Kind())
	}
	return et, nil
}

// Exalate syncs one entity now, given as a user pastes it (an id, a key, a
// link). connID may be empty when exactly one active connection covers the
// entity's project. It returns once the event is stored (Preparing done);
// Subscribe or EventStatus follow the rest.
func (n *pipeline) Exalate(ctx context.Context, connID, ref string) (StageEvent, error) {
	et, err := n.entities()
	if err != nil {
		return StageEvent{}, err
	}
	id, err := et.ParseRef(ref)
	if err != nil {
		return StageEvent{}, Errorf(ErrBadRequest, "%v", err)
	}
	// Read as consider reads (see there): the item locked, and after the
	// creates in flight, one of which may have made it.
	unlock, err := n.writing.read(ctx, id)
	if err != nil {
		return StageEvent{}, err
	}
	defer unlock()
	if err := n.writing.settleCreates(ctx, nil); err != nil {
		return StageEvent{}, err
	}
	started := n.now()
	e, err := et.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return StageEvent{}, n.noSuchItem(ref)
	}
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
	return n.prepare(ctx, c, e, true, started, nil)
}

// connectionFor picks the active connection for an entity of project;
// connID, the one the admin named (by id or name), or "" for the one
// connection that syncs project.
func (n *pipeline) connectionFor(ctx context.Context, connID, project string) (store.Connection, error) {
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
	// A connection still waiting for its invitation's acceptance is
	// picked only when no other syncs the project: its syncs wait for
	// the acceptance, and say so.
	var matches, pending []store.Connection
	for _, c := range cs {
		switch {
		case c.LocalProject != project:
		case c.Status == StatusPending:
			pending = append(pending, c)
		default:
			matches = append(matches, c)
		}
	}
	if len(matches) == 0 {
		matches = pending
	}
	var names []string
	for _, c := range matches {
		names = append(names, c.Name+" ("+c.ID+")")
	}
	switch len(matches) {
	case 0:
		return store.Connection{}, Errorf(ErrBadRequest, "no connection on %s syncs that item's project; set one up first", n.inst.Name)
	case 1:
		return matches[0], nil
	}
	return store.Connection{}, Errorf(ErrBadRequest, "several connections sync that item's project; pick one with --connection: %v", names)
}

// prepare is Preparing: read (the item already, by the caller; here what
// was synced of it), diff the two through the rules, and store the event,
// its replica and the send job in one transaction. A connection that is
// not Active stores the event and leaves it queued at Sending. always
// makes an event even when nothing changed (an Exalate the user asked
// for, to see it confirmed).
func (n *pipeline) prepare(ctx context.Context, c store.Connection, e Entity, always bool, started time.Time, bulk *bulkItem) (StageEvent, error) {
	rules, err := n.connRules(ctx, c.ID, Mode(c.Mode))
	if err != nil {
		return StageEvent{}, err
	}
	s, err := n.syncedOf(ctx, c, e, rules)
	if err != nil {
		return StageEvent{}, err
	}
	p, err := diff(ctx, e, s, rules)
	if err != nil {
		return StageEvent{}, fmt.Errorf("%s's outgoing rules on %s: %w", c.Name, e.Key, err)
	}
	if !always && !p.changed {
		// Nothing a user changed: no event, no echo; and nothing up to
		// e's modified_at left to look at (see seenTimes).
		return StageEvent{}, n.st.InTx(ctx, func(tx *sql.Tx) error { return n.putRead(ctx, tx, c, e, s) })
	}
	p.replica.EventID, p.replica.Origin = uuid.NewString(), n.inst.Name
	var twin store.Twin
	if s.twin != nil {
		twin = *s.twin
	}
	se, err := n.storePrepared(ctx, c, e, s, p.replica, twin, started, rulesVersion(rules), bulk)
	if err != nil {
		return StageEvent{}, err
	}
	if p.local != nil {
		n.normalizeLocal(ctx, e, *p.local)
	}
	return se, nil
}

// putRead records that e was read whole and looked at up to its
// modified_at (see seenTimes); or, when an incoming write of unknown
// outcome kept its unlinked comments or files from being sent, that its
// next changes must be read, even those of the sync's own writes: they
// are what brings those comments and files up again.
func (n *pipeline) putRead(ctx context.Context, tx *sql.Tx, c store.Connection, e Entity, s synced) error {
	if s.pendingComments+s.pendingFiles > 0 {
		return n.st.PutSeen(ctx, tx, c.ID, e.ID, store.SeenDeferred, e.ModifiedAt)
	}
	if err := n.st.ClearSeen(ctx, tx, c.ID, e.ID, store.SeenDeferred); err != nil {
		return err
	}
	return n.st.PutSeen(ctx, tx, c.ID, e.ID, store.SeenRead, e.ModifiedAt)
}

// synced is what Preparing compares an item against: what earlier syncs
// recorded of it, and what the unfinished ones still carry.
type synced struct {
	// twin is the item's twin; nil when it has none yet.
	twin *store.Twin
	// comments and attachments are the links of the item's comments and
	// attachments synced so far.
	comments, attachments []store.ItemLink
	// pendingComments and pendingFiles count an incoming sync's writes to
	// the item whose outcome is not known yet (see PendingWrites).
	pendingComments, pendingFiles int
	// inFlight is what the unfinished syncs of the item carry (inFlight).
	inFlight map[string]bool
	// sending is each field's value in the newest unfinished sync that
	// carries it: the value the other side will have once they finish
	// (unless a newer write the twin records beats it there).
	sending map[string]carried
}

// carried is a field's value (fingerprint) in an unfinished sync, and the
// source's modification time it carries.
type carried struct {
	fp string
	at time.Time
}

// prepared is what Preparing decided to send of an item.
type prepared struct {
	// replica is what to send, but for its event id and origin, which
	// the step that stores it sets.
	replica Replica
	// changed says whether the replica carries anything: false means
	// nothing a user changed since the last sync (an echo of what the
	// sync wrote itself, or no change at all).
	changed bool
	// local, when set, are the values the local item takes so both sides
	// store the same (Outgoing.Local).
	local *EntityUpdate
}

// syncedOf reads what Preparing compares e against. A twin deleted on the
// other side is an error: deletes are not propagated, so there is nothing
// to sync e to.
func (n *pipeline) syncedOf(ctx context.Context, c store.Connection, e Entity, rules Rules) (synced, error) {
	var s synced
	// What earlier syncs of this entity still carry is not sent again: a
	// change seen twice (by a poll and an exalate, or by two polls before
	// the first sync finished) makes one replica, not two. Read before the
	// twin and the links, which a finishing sync records as it stops being
	// unfinished (one transaction), so one of the two is seen: read after,
	// a sync finishing in between was in neither, and its fields went out
	// again in a sync of their own.
	var err error
	if s.inFlight, s.sending, err = n.inFlight(ctx, c.ID, e.ID, rules); err != nil {
		return s, err
	}
	twin, err := n.st.Twin(ctx, nil, c.ID, e.ID)
	switch {
	case err == nil:
		if twin.RemoteDeleted {
			return s, Errorf(ErrConflict, "%s's twin %s was deleted on %s; deletes are not propagated, so there is nothing to sync it to",
				e.Key, twin.RemoteKey, c.RemoteName)
		}
		s.twin = &twin
	case !errors.Is(err, store.ErrNotFound):
		return s, err
	}
	if s.comments, err = n.st.Links(ctx, nil, c.ID, store.LinkComment, e.ID); err != nil {
		return s, err
	}
	if s.pendingComments, err = n.st.PendingWrites(ctx, c.ID, store.LinkComment, e.ID); err != nil {
		return s, err
	}
	if s.pendingFiles, err = n.st.PendingWrites(ctx, c.ID, store.LinkAttachment, e.ID); err != nil {
		return s, err
	}
	s.attachments, err = n.st.Links(ctx, nil, c.ID, store.LinkAttachment, e.ID)
	return s, err
}

// diff is Preparing's decision, with no I/O: the replica of e, as the
// rules make it, carrying the fields, comments and attachments that
// differ from what s recorded and that no unfinished sync carries yet.
func diff(ctx context.Context, e Entity, s synced, rules Rules) (prepared, error) {
	out, err := rules.Outgoing(ctx, e, s.twin)
	if err != nil {
		return prepared{}, err
	}
	r := Replica{Source: out.Source}
	if s.twin != nil {
		r.Twin = s.twin.RemoteID
	}
	r.Source.ID, r.Source.Key, r.Source.URL, r.Source.ModifiedAt = e.ID, e.Key, e.URL, e.ModifiedAt
	r.Fields = changedFields(out.Item, s, rules)
	r.Comments = newComments(out.Item.Comments, s)
	r.Attachments = newAttachments(out.Item.Attachments, s)
	changed := len(r.Fields) > 0 || len(r.Comments) > 0 || len(r.Attachments) > 0
	return prepared{replica: r, changed: changed, local: out.Local}, nil
}

// changedFields are the rules' fields whose value in item (as the rules
// carry it) the twin does not record, and no unfinished sync carries.
func changedFields(item Entity, s synced, rules Rules) []string {
	var fields []string
	for _, f := range rules.Fields() {
		fp := fingerprint(rules.Value(item, f))
		// Compared with what the other side will have: the newest value
		// on its way, else the twin's. A value changed back to what the
		// twin recorded while another was on its way is a change too.
		if last, ok := s.sending[f]; ok && (s.twin == nil || !last.at.Before(fieldAt(*s.twin, f))) {
			if fp != last.fp {
				fields = append(fields, f)
			}
			continue
		}
		if (s.twin == nil || fieldFP(*s.twin, f) != fp) && !s.inFlight[f+"\x00"+fp] {
			fields = append(fields, f)
		}
	}
	return fields
}

// newComments are the comments not synced yet, or whose body changed
// since, that no unfinished sync carries.
func newComments(comments []Comment, s synced) []ReplicaComment {
	var out []ReplicaComment
	for _, cm := range comments {
		i := slices.IndexFunc(s.comments, func(l store.ItemLink) bool { return l.LocalID == cm.ID })
		// An incoming sync still writing to this entity (retrying after a
		// write whose outcome was unknown) may have left comments or files
		// that are its own, not a user's: they are not sent back. The
		// sync's next writes bring the entity up again once they are
		// recorded.
		if i < 0 && s.pendingComments > 0 {
			continue
		}
		if (i < 0 || s.comments[i].Fingerprint != fingerprint(cm.Body)) && !s.inFlight["comment\x00"+cm.ID+"\x00"+fingerprint(cm.Body)] {
			out = append(out, ReplicaComment{ID: cm.ID, Author: cm.Author, Body: cm.Body})
		}
	}
	return out
}

// newAttachments are the attachments not synced yet that no unfinished
// sync carries; none while an incoming sync may still be adding its own
// (see newComments).
func newAttachments(atts []Attachment, s synced) []Attachment {
	if s.pendingFiles > 0 {
		return nil
	}
	var out []Attachment
	for _, a := range atts {
		if !slices.ContainsFunc(s.attachments, func(l store.ItemLink) bool { return l.LocalID == a.ID }) && !s.inFlight["attachment\x00"+a.ID] {
			out = append(out, a)
		}
	}
	return out
}

// storePrepared stores the sync of e (its event, at Preparing then
// Sending, with r as its payload) and, when the connection is Active, the
// job that sends it, in one transaction; twin is e's twin (zero when it
// has none), whose key and URL the event shows.
func (n *pipeline) storePrepared(ctx context.Context, c store.Connection, e Entity, s synced, r Replica, twin store.Twin, started time.Time, version string, bulk *bulkItem) (StageEvent, error) {
	payload, err := json.Marshal(r)
	if err != nil {
		return StageEvent{}, err
	}
	ev := store.SyncEvent{ConnectionID: c.ID, ID: r.EventID, Direction: store.DirectionOut, EntityID: e.ID,
		Stage: StagePreparing, Payload: payload, LocalKey: e.Key, LocalURL: e.URL, RemoteKey: twin.RemoteKey, RemoteURL: twin.RemoteURL}
	n.publish(ev, started)
	sent := n.now()
	held := ""
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.CreateSyncEvent(ctx, tx, ev, started); err != nil {
			return err
		}
		if err := n.noteStage(ctx, tx, ev, started, true); err != nil {
			return err
		}
		if err := n.st.SetRulesVersion(ctx, tx, c.ID, ev.ID, version); err != nil {
			return err
		}
		if bulk != nil {
			// With the sync, so a bulk run again never starts a second.
			if err := n.st.AddBulkItem(ctx, tx, c.ID, bulk.id, e.ID, ev.ID, bulk.seq, bulk.listedAt); err != nil {
				return err
			}
		}
		// Every change to e up to its modified_at is in this sync (see
		// seenTimes).
		if err := n.putRead(ctx, tx, c, e, s); err != nil {
			return err
		}
		ev.Stage = StageSending
		if err := n.st.UpdateSyncEvent(ctx, tx, ev, sent); err != nil {
			return err
		}
		if err := n.noteStage(ctx, tx, ev, sent, true); err != nil {
			return err
		}
		// The status as of this transaction, not as the caller last saw it
		// (see SetActive).
		status, err := n.st.ConnectionStatus(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		if status != StatusActive {
			// Queued, visibly: activation, or the invitation's
			// acceptance, enqueues it (replayQueued).
			c.Status = status
			held = heldBy(c, ev)
			return nil
		}
		_, err = n.river.InsertTx(ctx, tx, sendArgs{Conn: c.ID, Event: ev.ID}, nil)
		return err
	})
	if err != nil {
		return StageEvent{}, fmt.Errorf("storing the sync of %s: %w", e.Key, err)
	}
	se := stageEventOf(ev, sent)
	se.Held = held
	if !n.hub.relayed {
		n.hub.publish(se)
	}
	return se, nil
}

// inFlight collects what the unfinished syncs of an entity carry: field
// values, comment bodies and attachments, as keys of a set; and each
// field's value in the newest of them that carries it.
func (n *pipeline) inFlight(ctx context.Context, connID, entityID string, rules Rules) (map[string]bool, map[string]carried, error) {
	evs, err := n.st.UnfinishedEvents(ctx, connID, entityID)
	if err != nil {
		return nil, nil, err
	}
	carrying, sending := map[string]bool{}, map[string]carried{}
	for _, ev := range evs { // oldest first
		var r Replica
		if err := json.Unmarshal(ev.Payload, &r); err != nil {
			return nil, nil, fmt.Errorf("event %s: unreadable replica: %w", ev.ID, err)
		}
		for _, f := range r.Fields {
			fp := fingerprint(rules.Sent(r.Source, f))
			carrying[f+"\x00"+fp] = true
			sending[f] = carried{fp: fp, at: r.Source.ModifiedAt}
		}
		for _, c := range r.Comments {
			carrying["comment\x00"+c.ID+"\x00"+fingerprint(c.Body)] = true
		}
		for _, a := range r.Attachments {
			carrying["attachment\x00"+a.ID] = true
		}
	}
	return carrying, sending, nil
}

// followListed catches up with the entities changed while a bulk went
// through its listing. The listing is a snapshot: an entity edited after
// it was listed and before its sync was prepared went out with the listed
// fields, and change detection, which saw the edit before that sync
// existed, let it go (an entity not synced yet is not its business). A
// second listing (one call per 100 entities) finds those by their
// modification time (listed: each entity's in the first); each is read
// again and a sync follows its first. Edits after this listing reach
// entities that already have a sync, which change detection follows as
// always.
func (n *pipeline) followListed(ctx context.Context, et EntityTracker, br BulkReader, c store.Connection, listed map[string]time.Time) error {
	var failed error
	err := br.ListEntities(ctx, c.LocalProject, func(page []Entity) error {
		for _, e := range page {
			at, ok := listed[e.ID]
			if !ok || !e.ModifiedAt.After(at) || unexalated(ctx, n.st, c.ID, e.ID) {
				continue
			}
			// Its sync is on its way or done, so the listed fields are not
			// taken (listedIsFresh): the entity is read whole.
			if _, failed = n.exalateOne(ctx, et, c, Entity{ID: e.ID}, nil); failed != nil {
				return failed
			}
		}
		return nil
	})
	if err != nil && err != failed {
		return fmt.Errorf("listing %s again: %w", c.LocalProjectName, err)
	}
	return err
}

// listedIsFresh says whether an entity's fields as the project's listing
// gave them (the tracker is a BulkReader) may be prepared: only for an
// entity with no twin and no sync on its way. A twin's fields may have
// been written by an incoming sync since the listing, and preparing the
// listed ones would send the older values back as a change; such an
// entity is read again.
func (n *pipeline) listedIsFresh(ctx context.Context, et EntityTracker, c store.Connection, id string) (bool, error) {
	if _, ok := et.(BulkReader); !ok {
		return false, nil
	}
	if _, err := n.st.Twin(ctx, nil, c.ID, id); !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	sending, err := n.st.UnfinishedEvents(ctx, c.ID, id)
	return err == nil && len(sending) == 0, err
}

// exalateOne reads and prepares one entity of c's project: listed is the
// entity as the project's listing gave it, fields and all (the tracker is
// a BulkReader), or its ID alone.
func (n *pipeline) exalateOne(ctx context.Context, et EntityTracker, c store.Connection, listed Entity, bulk *bulkItem) (StageEvent, error) {
	unlock, err := n.writing.read(ctx, listed.ID) // see consider
	if err != nil {
		return StageEvent{}, err
	}
	defer unlock()
	if _, err := n.st.Twin(ctx, nil, c.ID, listed.ID); errors.Is(err, store.ErrNotFound) {
		if err := n.writing.settleCreates(ctx, nil); err != nil {
			return StageEvent{}, err
		}
	}
	started := n.now()
	e := listed
	fresh, err := n.listedIsFresh(ctx, et, c, listed.ID)
	if err != nil {
		return StageEvent{}, err
	}
	if fresh {
		err = et.(BulkReader).ReadItems(ctx, &e)
	} else {
		e, err = et.Get(ctx, listed.ID)
	}
	if err != nil {
		return StageEvent{}, fmt.Errorf("reading %s: %w", listed.ID, err)
	}
	return n.prepare(ctx, c, e, true, started, bulk)
}
