package engine

// Waiting for remote, as the receiving node lives it: the replica is
// stored (ReceiveEvent) and applied to the tracker (the apply job), with
// progress reported back (progress.go).

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/store"
)

// apply is the receiving side of Waiting for remote: it applies a replica
// to the tracker. Each write to the tracker is begun (a pending write)
// before it is made and recorded after (the twin after a create, the
// links of up to 16 comments in one commit, an attachment's link), so a
// retry after a crash skips what was recorded, looks for what was begun
// and not recorded, and nothing is created twice. Once the result is
// stored (Finalizing, committed) the same job reports it to the source:
// one job per received sync, not two
// (the job queue's bookkeeping was a fifth of the engine's CPU). A report
// that fails is retried by retrying this job, which finds the replica
// applied and only reports.
func (n *pipeline) apply(ctx context.Context, a applyArgs, attempt int) error {
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
	if !ev.ResolvedAt.IsZero() {
		return nil // resolved: not to be applied (Resolve reports it)
	}
	if ev.Stage == StageFinalizing {
		return n.reportResult(ctx, c, ev, attempt) // applied; the report is due
	}
	if c.Status != StatusActive {
		return nil // deactivated here: applied when it is activated again
	}
	if stageIndex(ev.Stage) > stageIndex(StageWaiting) {
		return nil // applied and reported already
	}
	var r Replica
	if err := json.Unmarshal(ev.Payload, &r); err != nil {
		return fmt.Errorf("event %s: unreadable replica: %w", ev.ID, err)
	}
	unlock, err := n.applies.write(ctx, c.ID+"\x00"+r.Source.ID)
	if err != nil {
		return err
	}
	defer unlock()
	// Another apply of this item may have run while this one waited:
	// this event's own, done already.
	if ev, err = n.st.SyncEvent(ctx, nil, a.Conn, a.Event); err != nil {
		return err
	}
	switch {
	case ev.Stage == StageFinalizing:
		return n.reportResult(ctx, c, ev, attempt)
	case stageIndex(ev.Stage) > stageIndex(StageWaiting) || !ev.ResolvedAt.IsZero():
		return nil
	}
	prog := n.newApplyProgress(c, ev)
	defer prog.wait()
	res, err := n.applyReplica(ctx, c, r, prog)
	if err != nil {
		return n.failed(ctx, a.Conn, a.Event, attempt, err)
	}
	prog.finish()
	at := n.now()
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		ev.Stage, ev.Error, ev.NextRetryAt = StageFinalizing, "", time.Time{}
		ev.EntityID, ev.LocalKey, ev.LocalURL, ev.Result = res.EntityID, res.Key, res.URL, mustJSON(res)
		if err := n.st.UpdateSyncEvent(ctx, tx, ev, at); err != nil {
			return err
		}
		return n.noteStage(ctx, tx, ev, at, true)
	})
	if err != nil {
		return err
	}
	n.publish(ev, at)
	return n.reportResult(ctx, c, ev, attempt)
}

func (n *pipeline) applyReplica(ctx context.Context, c store.Connection, r Replica, prog *applyProgress) (ApplyResult, error) {
	et, err := n.entities()
	if err != nil {
		return ApplyResult{}, err
	}
	res := ApplyResult{EventID: r.EventID}
	twin, err := n.st.TwinByRemote(ctx, nil, c.ID, r.Source.ID)
	if errors.Is(err, store.ErrNotFound) && r.Twin != "" {
		// The peer made its entity as the twin of ours, r.Twin, and the
		// sync that did so has not reported back yet: creating one here
		// would make a duplicate. The report links them; retry after it.
		return res, fmt.Errorf("%s on %s is the twin of %s here, whose sync has not finished yet; waiting for it",
			r.Source.Key, c.RemoteName, r.Twin)
	}
	created := false
	typeNote := "" // what this apply did to the item's type, if not the source's
	// begun are the comment writes whose pending writes this apply began
	// already (with the twin's record), and when an earlier attempt began
	// each.
	var begun map[string]time.Time
	if errors.Is(err, store.ErrNotFound) {
		twin, created, begun, err = n.createTwin(ctx, et, c, &r, &res, &typeNote)
	}
	if err == nil {
		var done func()
		if done, err = n.applying.begin(ctx, c.ID, twin.LocalID); err == nil {
			defer done()
		}
	}
	switch {
	case err != nil:
		return res, err
	case created:
	case twin.LocalDeleted:
		// Deleted here: recorded, not recreated.
		res.EntityID, res.Key, res.URL = twin.LocalID, twin.LocalKey, twin.LocalURL
		res.Skipped = append(res.Skipped, "the twin "+twin.LocalKey+" was deleted on "+n.inst.Name+"; nothing was applied")
		return res, nil
	default:
		if twin, err = n.updateTwin(ctx, et, c, twin, &r, &res, &typeNote); errors.Is(err, ErrNotFound) {
			// Deleted here since the last look: record it, apply nothing.
			res.EntityID, res.Key, res.URL = twin.LocalID, twin.LocalKey, twin.LocalURL
			res.Skipped = append(res.Skipped, "the twin "+twin.LocalKey+" was deleted on "+n.inst.Name+"; nothing was applied")
			return res, n.recordDeleted(ctx, c, twin)
		}
		if err != nil {
			return res, err
		}
	}
	res.EntityID, res.Key, res.URL = twin.LocalID, twin.LocalKey, twin.LocalURL
	if typeNote != "" {
		res.Notes = append(res.Notes, typeNote)
	}
	res, err = n.applyItems(ctx, et, c, twin, r, res, begun, prog)
	if errors.Is(err, ErrNotFound) {
		// The twin was deleted here while comments or attachments were on
		// their way: record it, apply nothing more.
		res.Skipped = append(res.Skipped, "the twin "+twin.LocalKey+" was deleted on "+n.inst.Name+"; the rest was not applied")
		return res, n.recordDeleted(ctx, c, twin)
	}
	return res, err
}

// applyItems adds or updates the replica's comments and copies its
// attachments, reporting its progress to prog as it goes. The comments to
// add are begun (their pending writes) together before the first is
// written, unless begun already (begun, with the twin's record), and
// recorded in batches (commentWriter); each attachment is recorded as soon
// as it is made.
func (n *pipeline) applyItems(ctx context.Context, et EntityTracker, c store.Connection, twin store.Twin, r Replica, res ApplyResult,
	begun map[string]time.Time, prog *applyProgress) (ApplyResult, error) {
	rules, err := n.connRules(ctx, c.ID, Mode(c.Mode))
	if err != nil {
		return res, err
	}
	links, err := n.st.Links(ctx, nil, c.ID, store.LinkComment, twin.LocalID)
	if err != nil {
		return res, err
	}
	cw := newCommentWriter(n, et, c, twin.LocalID, links, begun)
	var adds []string
	for _, cm := range r.Comments {
		if _, ok := begun[cm.ID]; !ok && cw.index(cm.ID) < 0 {
			adds = append(adds, cm.ID)
		}
	}
	if len(adds) > 0 {
		err := n.st.InTx(ctx, func(tx *sql.Tx) error {
			more, err := n.st.BeginWrites(ctx, tx, c.ID, store.LinkComment, adds, twin.LocalID, n.now())
			if cw.begun == nil {
				cw.begun = more
			} else {
				maps.Copy(cw.begun, more)
			}
			return err
		})
		if err != nil {
			return res, err
		}
	}
	defer cw.unlock()
	for done, cm := range r.Comments {
		prog.step(ProgressComments, done, len(r.Comments))
		body := rules.Comment(cm, r.Origin)
		i := cw.index(cm.ID)
		if i >= 0 && cw.links[i].Fingerprint == fingerprint(body) {
			res.Comments = append(res.Comments, LinkPair{Source: cm.ID, Dest: cw.links[i].LocalID})
			continue
		}
		made, err := cw.write(ctx, cm.ID, i, body)
		if errors.Is(err, ErrNotFound) && i >= 0 {
			// The copy of an edited comment is gone here: someone deleted
			// it, or the item itself went. Only the latter stops the sync.
			if _, gerr := et.Get(ctx, twin.LocalID); gerr == nil {
				res.Skipped = append(res.Skipped, fmt.Sprintf("an edit of a comment by %s: its copy on %s (%s) was deleted there, so the edit was not applied",
					cm.Author, n.inst.Name, cw.links[i].LocalID))
				res.Comments = append(res.Comments, LinkPair{Source: cm.ID, Dest: cw.links[i].LocalID})
				continue
			}
		}
		if err != nil {
			// What was written before is recorded all the same.
			if ferr := cw.flush(ctx); ferr != nil {
				return res, ferr
			}
			return res, fmt.Errorf("writing comment %s on %s: %w", cm.ID, twin.LocalKey, err)
		}
		res.Comments = append(res.Comments, LinkPair{Source: cm.ID, Dest: made.ID})
	}
	if err := cw.flush(ctx); err != nil {
		return res, err
	}
	prog.step(ProgressComments, len(r.Comments), len(r.Comments))

	atts, err := n.st.Links(ctx, nil, c.ID, store.LinkAttachment, twin.LocalID)
	if err != nil {
		return res, err
	}
	for done, att := range r.Attachments {
		prog.step(ProgressAttachments, done, len(r.Attachments))
		if i := slices.IndexFunc(atts, func(l store.ItemLink) bool { return l.RemoteID == att.ID }); i >= 0 {
			res.Attachments = append(res.Attachments, LinkPair{Source: att.ID, Dest: atts[i].LocalID})
			continue
		}
		if att.Size > et.MaxAttachmentSize() {
			res.Skipped = append(res.Skipped, fmt.Sprintf("attachment %q (%d bytes) is over %s's limit of %d bytes",
				att.Name, att.Size, n.inst.Tracker, et.MaxAttachmentSize()))
			continue
		}
		made, err := n.copyAttachment(ctx, et, c, r.EventID, twin.LocalID, att)
		if err != nil {
			return res, fmt.Errorf("copying attachment %q to %s: %w", att.Name, twin.LocalKey, err)
		}
		res.Attachments = append(res.Attachments, LinkPair{Source: att.ID, Dest: made.ID})
	}
	prog.step(ProgressAttachments, len(r.Attachments), len(r.Attachments))
	return res, nil
}

// commentBatch is how many comment writes, at most, share one record
// (one commit) and one hold of the item's write lock.
const commentBatch = 16

// commentWriter writes one replica's comments to an item and records them
// in batches: the writes of a batch and their record (the links, the seen
// times and the end of their pending writes, one commit) hold the item's
// write lock. A write's record may come a few writes after it: its pending
// write, begun before the first write of the apply, stays until then, so
// after a crash the retry looks for the comment before adding it again,
// as it does for a write cut off mid-request.
type commentWriter struct {
	n        *pipeline
	et       EntityTracker
	c        store.Connection
	entityID string
	// links are the item's comment links, with the batch's (not yet
	// recorded) among them; bySource and byLocal index them by the
	// other side's comment and by this side's (an item may have 10,000).
	links    []store.ItemLink
	bySource map[string]int
	byLocal  map[string]bool
	// begun are the comments whose pending writes this apply began, and
	// when an earlier attempt began each (zero when none did).
	begun map[string]time.Time
	batch []commentRecord
	// release releases the item's write lock, nil when not held.
	release func()
	// current is the item as read to find an earlier attempt's comments:
	// read once per apply, since they were all made before it began.
	current *Entity
}

// commentRecord is a comment written and not recorded yet.
type commentRecord struct {
	made     Comment
	sourceID string
	added    bool
}

func newCommentWriter(n *pipeline, et EntityTracker, c store.Connection, entityID string, links []store.ItemLink, begun map[string]time.Time) *commentWriter {
	w := &commentWriter{n: n, et: et, c: c, entityID: entityID, begun: begun,
		bySource: make(map[string]int, len(links)), byLocal: make(map[string]bool, len(links))}
	for _, l := range links {
		w.add(l)
	}
	return w
}

// add adds a link to links, or replaces the one of the same source comment.
func (w *commentWriter) add(l store.ItemLink) {
	if i, ok := w.bySource[l.RemoteID]; ok {
		delete(w.byLocal, w.links[i].LocalID)
		w.links[i] = l
	} else {
		w.bySource[l.RemoteID] = len(w.links)
		w.links = append(w.links, l)
	}
	w.byLocal[l.LocalID] = true
}

// index is the index in links of the other side's comment sourceID, -1
// when it has no link.
func (w *commentWriter) index(sourceID string) int {
	if i, ok := w.bySource[sourceID]; ok {
		return i
	}
	return -1
}

// write adds a comment (or edits its twin, links[i]).
func (w *commentWriter) write(ctx context.Context, sourceID string, i int, body string) (Comment, error) {
	if w.release == nil {
		release, err := w.n.writing.write(ctx, w.entityID)
		if err != nil {
			return Comment{}, err
		}
		w.release = release
	}
	var (
		made Comment
		err  error
	)
	if i >= 0 {
		made, err = w.et.EditComment(ctx, w.links[i].LocalID, body) // an edit is safe to repeat
	} else {
		made, err = w.adoptOrAdd(ctx, sourceID, body)
	}
	if err != nil {
		return made, err
	}
	w.batch = append(w.batch, commentRecord{made: made, sourceID: sourceID, added: i < 0})
	w.add(store.ItemLink{ConnectionID: w.c.ID, Kind: store.LinkComment, LocalID: made.ID,
		RemoteID: sourceID, EntityID: w.entityID, Fingerprint: fingerprint(made.Body)})
	if len(w.batch) >= commentBatch {
		return made, w.flush(ctx)
	}
	return made, nil
}

// adoptOrAdd adds a comment unless an interrupted earlier attempt added it
// already (an unlinked comment with the same body).
func (w *commentWriter) adoptOrAdd(ctx context.Context, sourceID, body string) (Comment, error) {
	earlier, ok := w.begun[sourceID]
	if !ok {
		var err error
		if earlier, err = w.n.st.BeginWrite(ctx, w.c.ID, store.LinkComment, sourceID, w.entityID, w.n.now()); err != nil {
			return Comment{}, err
		}
	}
	if !earlier.IsZero() {
		if w.current == nil {
			e, err := w.et.Get(ctx, w.entityID)
			if err != nil {
				return Comment{}, err
			}
			w.current = &e
		}
		for _, cm := range w.current.Comments {
			if !w.byLocal[cm.ID] && cm.Body == body {
				return cm, nil
			}
		}
	}
	return w.et.AddComment(ctx, w.entityID, body)
}

// flush records the batch's writes in one transaction, then releases the
// item's write lock.
func (w *commentWriter) flush(ctx context.Context) error {
	defer w.unlock()
	if len(w.batch) == 0 {
		return nil
	}
	// The tracker writes are made: their record is written even if the
	// node is stopping, or the next start would have to find them again.
	ctx = context.WithoutCancel(ctx)
	batch := w.batch
	w.batch = nil
	return w.n.st.InTx(ctx, func(tx *sql.Tx) error {
		for _, rec := range batch {
			if err := w.n.st.PutLink(ctx, tx, store.ItemLink{ConnectionID: w.c.ID, Kind: store.LinkComment, LocalID: rec.made.ID,
				RemoteID: rec.sourceID, EntityID: w.entityID, Fingerprint: fingerprint(rec.made.Body)}); err != nil {
				return err
			}
			if rec.added {
				// An added comment is this sync's own write (see
				// seenTimes); an edit's time is not the comment's
				// created_at.
				if err := w.n.st.PutSeen(ctx, tx, w.c.ID, w.entityID, store.SeenWrite, rec.made.CreatedAt); err != nil {
					return err
				}
			}
			if err := w.n.st.EndWrite(ctx, tx, w.c.ID, store.LinkComment, rec.sourceID); err != nil {
				return err
			}
		}
		return nil
	})
}

// unlock releases the item's write lock if the writer holds it.
func (w *commentWriter) unlock() {
	if w.release != nil {
		w.release()
		w.release = nil
	}
}

// createTwin creates the entity for a replica seen for the first time and
// records the twin in the same breath. Another sync of the same entity
// (a change made while its first sync was on its way) may have created the
// twin while this one waited for the lock: then created is false and the
// twin is that one, to update.
func (n *pipeline) createTwin(ctx context.Context, et EntityTracker, c store.Connection, r *Replica, res *ApplyResult, typeNote *string) (twin store.Twin, created bool, begun map[string]time.Time, err error) {
	rules, err := n.connRules(ctx, c.ID, Mode(c.Mode))
	if err != nil {
		return store.Twin{}, false, nil, err
	}
	ch, err := rules.Incoming(ctx, Incoming{Source: r.Source, Origin: r.Origin, Fields: rules.Fields(), MapType: n.typeMapper(ctx, et, c)})
	if err != nil {
		return store.Twin{}, false, nil, fmt.Errorf("%s's incoming rules on %s: %w", c.Name, r.Source.Key, err)
	}
	takeItems(r, ch)
	res.Notes = append(res.Notes, ch.Notes...)
	// Two syncs of one source item create one twin: the second waits
	// for the first and finds its twin. Detection waits for creates in
	// flight before it takes an item without a twin for a new one.
	unlockKey, err := n.writing.write(ctx, createKey(c.ID, r.Source.ID))
	if err != nil {
		return store.Twin{}, false, nil, err
	}
	defer unlockKey()
	unlockCreate, err := n.writing.create(ctx)
	if err != nil {
		return store.Twin{}, false, nil, err
	}
	defer unlockCreate()
	if twin, err := n.st.TwinByRemote(ctx, nil, c.ID, r.Source.ID); !errors.Is(err, store.ErrNotFound) {
		return twin, false, nil, err
	}
	u := ch.Update
	e, adopted, err := n.adoptOrCreate(ctx, et, c, *r, NewEntity{Project: c.LocalProject, Type: deref(u.Type), Summary: deref(u.Summary), Description: deref(u.Description)})
	if err != nil {
		return store.Twin{}, false, nil, err
	}
	// The time of the create is this sync's own write: its event is an
	// echo (see seenTimes). Not so for an adopted item, nor when an update
	// follows (it may write nothing and return a user's time).
	var wrote time.Time
	if !adopted && u.FieldsUpdate.Empty() {
		wrote = e.ModifiedAt
	}
	if !u.FieldsUpdate.Empty() {
		// The fields beyond Basic (Script mode) are set on the new item
		// by an update: a create takes Basic's alone. Should this fail,
		// the retry finds the item made (adoptOrCreate) and sets them.
		if e, err = n.update(ctx, et, e.ID, e.Key, EntityUpdate{FieldsUpdate: u.FieldsUpdate}, res); err != nil {
			return store.Twin{}, false, nil, fmt.Errorf("setting the fields of the twin of %s: %w", r.Source.Key, err)
		}
	}
	twin = store.Twin{ConnectionID: c.ID, LocalID: e.ID, RemoteID: r.Source.ID, LocalKey: e.Key, LocalURL: e.URL,
		RemoteKey: r.Source.Key, RemoteURL: r.Source.URL, RemoteType: ch.RemoteType}
	if ch.RemoteType != "" {
		*typeNote = n.typeNote(e, ch.RemoteType, "")
	}
	for _, f := range rules.Fields() {
		setField(&twin, f, fingerprint(rules.Value(e, f)), r.Source.ModifiedAt)
	}
	// The tracker write is made: its record is written even if the node
	// is stopping, or the next start would have to find it again.
	ctx = context.WithoutCancel(ctx)
	if err := n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.PutTwin(ctx, tx, twin); err != nil {
			return err
		}
		if err := n.st.PutSeen(ctx, tx, c.ID, e.ID, store.SeenWrite, wrote); err != nil {
			return err
		}
		if err := n.st.EndWrite(ctx, tx, c.ID, "task", r.Source.ID); err != nil {
			return err
		}
		// The replica's comments are all to add to the new item: their
		// pending writes are begun in this commit (see commentWriter).
		ids := make([]string, len(r.Comments))
		for i, cm := range r.Comments {
			ids[i] = cm.ID
		}
		begun, err = n.st.BeginWrites(ctx, tx, c.ID, store.LinkComment, ids, e.ID, n.now())
		return err
	}); err != nil {
		return store.Twin{}, false, nil, err
	}
	n.log.Info("twin created", "connection", c.ID, "remote", r.Source.Key, "local", e.Key)
	return twin, true, begun, nil
}

// adoptOrCreate creates the twin of a replica's entity, unless an earlier
// attempt whose outcome was unknown (a cut connection after the request
// reached the tracker) made it already: then that entity is adopted. ne is
// the entity the rules make of the replica.
func (n *pipeline) adoptOrCreate(ctx context.Context, et EntityTracker, c store.Connection, r Replica, ne NewEntity) (e Entity, adopted bool, err error) {
	earlier, err := n.st.BeginWrite(ctx, c.ID, "task", r.Source.ID, "", n.now())
	if err != nil {
		return Entity{}, false, err
	}
	if !earlier.IsZero() {
		ids, err := et.FindBySummary(ctx, c.LocalProject, ne.Summary, earlier.Add(-reconcileMargin))
		if err != nil {
			return Entity{}, false, fmt.Errorf("looking for an earlier copy of %s: %w", r.Source.Key, err)
		}
		for _, id := range ids {
			if _, err := n.st.Twin(ctx, nil, c.ID, id); errors.Is(err, store.ErrNotFound) {
				n.log.Info("adopting the twin an interrupted create made", "remote", r.Source.Key, "local", id)
				e, err := et.Get(ctx, id)
				return e, true, err
			}
		}
		// Not found yet may mean not indexed yet: creating now would
		// make a second copy of what the earlier attempt made.
		if sl, ok := et.(SearchLagger); ok {
			if wait := earlier.Add(sl.SearchLag()).Sub(n.now()); wait > 0 {
				return Entity{}, false, fmt.Errorf("an earlier attempt to create the twin of %s may have made it, and %s's search can take %v to show it: looking again before creating it",
					r.Source.Key, n.inst.Tracker, sl.SearchLag())
			}
		}
	}
	e, err = et.Create(ctx, ne)
	if err != nil {
		return Entity{}, false, fmt.Errorf("creating the twin of %s: %w", r.Source.Key, err)
	}
	return e, false, nil
}

// updateTwin applies the replica's changed fields to an existing twin,
// field by field, last writer wins: a field changed here too since the
// last sync keeps the newer of the two writes, and a stale replica (older
// than the write that set the field) changes nothing. A description that
// loses is kept as a comment, never silently lost.
func (n *pipeline) updateTwin(ctx context.Context, et EntityTracker, c store.Connection, twin store.Twin, r *Replica, res *ApplyResult, typeNote *string) (store.Twin, error) {
	rules, err := n.connRules(ctx, c.ID, Mode(c.Mode))
	if err != nil {
		return twin, err
	}
	unlock, err := n.writing.write(ctx, twin.LocalID)
	if err != nil {
		return twin, err
	}
	defer unlock()
	// Another sync of the same entity may have updated the twin while this
	// one waited for the lock: decide on its fingerprints and times, not on
	// the copy read before, which would also overwrite them.
	fresh, err := n.st.Twin(ctx, nil, c.ID, twin.LocalID)
	if err != nil {
		return twin, err
	}
	twin = fresh
	twin.RemoteKey, twin.RemoteURL = r.Source.Key, r.Source.URL
	// The update is begun (a pending write, ended with the twin's
	// record): an attempt stopped between its tracker write and that
	// record (its process killed) left the item with this sync's values
	// and the twin without them. Its retry must not take them for a
	// change made here since, newer than the replica (it would keep them
	// and leave the twin as it was), and change detection must not send
	// them back as a user's (it waits while the write is pending).
	earlier, err := n.st.BeginWrite(ctx, c.ID, pendingUpdate, r.Source.ID, twin.LocalID, n.now())
	if err != nil {
		return twin, err
	}
	interrupted := !earlier.IsZero()
	putTwin := func(tx *sql.Tx) error {
		if err := n.st.PutTwin(ctx, tx, twin); err != nil {
			return err
		}
		return n.st.EndWrite(ctx, tx, c.ID, pendingUpdate, r.Source.ID)
	}
	var (
		fields      []string
		overwritten = map[string]string{}
		current     *Entity
	)
	for _, f := range r.Fields {
		if at := fieldAt(twin, f); !at.IsZero() && r.Source.ModifiedAt.Before(at) {
			continue // stale: a newer write already set this field
		}
		if current == nil {
			e, err := et.Get(ctx, twin.LocalID)
			if err != nil {
				return twin, fmt.Errorf("reading %s: %w", twin.LocalKey, err)
			}
			current = &e
		}
		mine := rules.Value(*current, f)
		if fingerprint(mine) != fieldFP(twin, f) && !interrupted { // changed here too since the last sync
			if current.ModifiedAt.After(r.Source.ModifiedAt) {
				continue // this side's write is newer; it goes out with its own sync
			}
			overwritten[f] = mine
		}
		fields = append(fields, f)
	}
	_, decides := rules.(*scriptRules) // a script decides on the comments and files too
	if len(fields) == 0 && (!decides || len(r.Comments)+len(r.Attachments) == 0) {
		err = n.st.InTx(ctx, putTwin)
		return twin, err
	}
	if current == nil {
		e, err := et.Get(ctx, twin.LocalID)
		if err != nil {
			return twin, fmt.Errorf("reading %s: %w", twin.LocalKey, err)
		}
		current = &e
	}
	var previous *ReplicaEntity
	if decides {
		if previous, err = n.previousReplica(ctx, c.ID, twin.LocalID, r.EventID); err != nil {
			return twin, err
		}
	}
	ch, err := rules.Incoming(ctx, Incoming{Source: r.Source, Origin: r.Origin, Fields: fields, Current: current,
		Overwritten: overwritten, Previous: previous, MapType: n.typeMapper(ctx, et, c)})
	if err != nil {
		return twin, fmt.Errorf("%s's incoming rules on %s: %w", c.Name, twin.LocalKey, err)
	}
	takeItems(r, ch)
	res.Notes = append(res.Notes, ch.Notes...)
	if len(fields) == 0 && noUpdate(ch.Update) {
		err = n.st.InTx(ctx, putTwin)
		return twin, err
	}
	keeps := slices.ContainsFunc(fields, rules.KeepsRemote)
	if keeps {
		twin.RemoteType = ch.RemoteType
	}
	e, err := n.update(ctx, et, twin.LocalID, twin.LocalKey, ch.Update, res)
	if err != nil {
		return twin, fmt.Errorf("updating %s: %w", twin.LocalKey, err)
	}
	for _, f := range rules.Fields() {
		// The fields applied, and any other this write changed (a script
		// maps one replica field onto another item field): their values
		// now are this sync's doing, not a change to send back.
		if v := rules.Value(e, f); slices.Contains(fields, f) || v != rules.Value(*current, f) {
			setField(&twin, f, fingerprint(v), r.Source.ModifiedAt)
		}
	}
	kept, refused := rules.Refused(ch.Update, e, r.Source)
	switch {
	case refused:
		twin.RemoteType = kept
		*typeNote = n.typeNote(e, kept, deref(ch.Update.Type))
	case keeps && ch.RemoteType != "":
		*typeNote = n.typeNote(e, ch.RemoteType, "")
	}
	for _, body := range ch.Comments {
		if _, err := et.AddComment(ctx, twin.LocalID, body); err != nil {
			return twin, fmt.Errorf("adding to %s a comment the rules keep (a replaced description): %w", twin.LocalKey, err)
		}
	}
	// The update's time is this sync's own write (see seenTimes) only if
	// it changed a value: a write of what is there already changes
	// nothing, and returns the time of whoever changed the item last (a
	// user). Nor is it for fields beyond Basic, which a tracker may set
	// by more than one write.
	var wrote time.Time
	if ch.Update.FieldsUpdate.Empty() && e.ModifiedAt.After(current.ModifiedAt) &&
		slices.ContainsFunc(rules.Fields(), func(f string) bool { return rules.Value(e, f) != rules.Value(*current, f) }) {
		wrote = e.ModifiedAt
	}
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := putTwin(tx); err != nil {
			return err
		}
		return n.st.PutSeen(ctx, tx, c.ID, twin.LocalID, store.SeenWrite, wrote)
	})
	return twin, err
}

// pendingUpdate is the kind of an update's pending write (see
// updateTwin), keyed by the other side's item.
const pendingUpdate = "update"

// update makes an item's changes. An assignee no user here has (by
// e-mail) leaves the item unassigned rather than failing the sync, and
// says so in the sync's notes: the trackers of two companies rarely share
// every user.
func (n *pipeline) update(ctx context.Context, et EntityTracker, id, key string, u EntityUpdate, res *ApplyResult) (Entity, error) {
	e, err := et.Update(ctx, id, u)
	if errors.Is(err, tracker.ErrUnknownUser) && u.Assignee != nil && *u.Assignee != "" {
		res.Notes = append(res.Notes, fmt.Sprintf("%s has no user with the e-mail %q, so %s was left unassigned",
			n.inst.Name, *u.Assignee, key))
		nobody := ""
		u.Assignee = &nobody
		e, err = et.Update(ctx, id, u)
	}
	return e, err
}

// previousReplica is the last replica received for a local entity before
// event eventID; nil when there is none.
func (n *pipeline) previousReplica(ctx context.Context, connID, entityID, eventID string) (*ReplicaEntity, error) {
	ev, err := n.st.IncomingBefore(ctx, connID, entityID, eventID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Replica
	if err := json.Unmarshal(ev.Payload, &r); err != nil {
		return nil, fmt.Errorf("the replica of sync %s: %w", ev.ID, err)
	}
	return &r.Source, nil
}

// noUpdate says u changes nothing.
func noUpdate(u EntityUpdate) bool {
	return u.Type == nil && u.Summary == nil && u.Description == nil && u.FieldsUpdate.Empty()
}

// takeItems drops the replica's comments or attachments when the rules
// take none of them.
func takeItems(r *Replica, ch Applied) {
	if ch.NoComments {
		r.Comments = nil
	}
	if ch.NoAttachments {
		r.Attachments = nil
	}
}

// typeNote says which type item e has and why, when it could not take
// source, the other side's type: this side has no such type, so it got
// the default one (`KAN-7 is a "Task": Globex's Jira has no type
// "milestone", so it got the default type`), or the tracker refused to
// change its type to refused, what the sync asked for ("" when it did
// not refuse: `KAN-7 is still an "Epic": Globex's Jira refused to change
// its type to "Task"`). A type is named as the node's users know it
// (Asana's default_task is a "task").
func (n *pipeline) typeNote(e Entity, source, refused string) string {
	name := func(t string) string {
		if alias, ok := n.words.TypeAliases[strings.ToLower(t)]; ok {
			return alias
		}
		return t
	}
	got := name(e.Type)
	tracker := n.words.Title
	if tracker == "" {
		tracker = n.inst.Tracker
	}
	where := n.inst.Name + "'s " + tracker
	if refused == "" {
		return fmt.Sprintf("%s is %s %q: %s has no type %q, so it got the default type", e.Key, article(got), got, where, source)
	}
	note := fmt.Sprintf("%s is still %s %q: %s refused to change its type to %q", e.Key, article(got), got, where, name(refused))
	if !n.sameType(refused, source) {
		note += fmt.Sprintf(", its default type, as it has no type %q", source)
	}
	return note
}

// article is "an" before a word that starts with a vowel, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("AEIOUaeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// mapType picks the type an entity of the other side's type typ gets here:
// the same type when this side has one of that name (see pipeline.sameType), else
// the node's default type (Config.DefaultType when this project has it,
// else the tracker's). kept is typ when it fell back, to be remembered on
// the twin; "" when the type was mirrored.
func (n *pipeline) mapType(ctx context.Context, et EntityTracker, project, typ string) (local, kept string, err error) {
	types, def, err := et.Types(ctx, project)
	if err != nil {
		return "", "", err
	}
	if i := slices.IndexFunc(types, func(t string) bool { return n.sameType(t, typ) }); i >= 0 {
		return types[i], "", nil
	}
	if i := slices.IndexFunc(types, func(t string) bool { return n.sameType(t, n.defaultType) }); n.defaultType != "" && i >= 0 {
		def = types[i]
	}
	if typ == "" {
		return def, "", nil
	}
	return def, typ, nil
}

// sameType says whether two trackers' type names are the same type: names
// compare without case ("milestone" on Asana is a "Milestone" on Jira),
// and after the type aliases of the tracker kinds' vocabularies (Asana's
// default_task is a Task), so the engine names no tracker's types.
func (n *pipeline) sameType(a, b string) bool { return n.types.Same(a, b) }

// typeMapper is mapType for the rules: the other side's type as it maps to
// c's project here.
func (n *pipeline) typeMapper(ctx context.Context, et EntityTracker, c store.Connection) func(string) (string, string, error) {
	return func(typ string) (string, string, error) { return n.mapType(ctx, et, c.LocalProject, typ) }
}

// deref is a field's value in an update, "" when the update leaves it.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ReceiveEvent stores an incoming replica and the job that applies it, in
// one transaction; the same event delivered again changes nothing.
func (n *pipeline) ReceiveEvent(ctx context.Context, c Connection, d EventDelivery) error {
	if d.Replica.EventID == "" || d.Replica.Source.ID == "" {
		return Errorf(ErrBadRequest, "the replica lacks its event or entity id")
	}
	rules, err := n.connRules(ctx, c.ID, Mode(c.Mode))
	if err != nil {
		return err
	}
	version := rulesVersion(rules)
	payload, err := json.Marshal(d.Replica)
	if err != nil {
		return err
	}
	ev := store.SyncEvent{ConnectionID: c.ID, ID: d.Replica.EventID, Direction: store.DirectionIn, Stage: StageWaiting,
		Payload: payload, RemoteKey: d.Replica.Source.Key, RemoteURL: d.Replica.Source.URL}
	if t, err := n.st.TwinByRemote(ctx, nil, c.ID, d.Replica.Source.ID); err == nil {
		ev.EntityID, ev.LocalKey, ev.LocalURL = t.LocalID, t.LocalKey, t.LocalURL
	}
	at := n.now()
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.CreateSyncEvent(ctx, tx, ev, at); err != nil {
			return err
		}
		if err := n.noteStage(ctx, tx, ev, at, true); err != nil {
			return err
		}
		if err := n.st.SetRulesVersion(ctx, tx, c.ID, ev.ID, version); err != nil {
			return err
		}
		_, err := n.river.InsertTx(ctx, tx, applyArgs{Conn: c.ID, Event: ev.ID}, nil)
		return err
	})
	if errors.Is(err, store.ErrExists) {
		return nil
	}
	if err == nil {
		n.publish(ev, at)
		// Its apply writes to the project, and its user is likely at work:
		// look at the project every poll interval again.
		if n.wake != nil {
			n.wake(c.LocalProject)
		}
	}
	return err
}
