package sandbox

import (
	"net/http"
	"slices"
	"time"
)

// The event model. Every change is appended to one global log with a
// sequence number. A sync token is an opaque random string mapped to a
// resource and a position in that log; GET /events returns the events after
// the position that the resource's subscription sees, at most 100 at a time,
// and a fresh token for the next position. Tokens never change meaning, so
// re-requesting one returns the same events; they expire after 24 hours, and
// so do positions that fell off the start of the log.
const (
	eventsPerPage   = 100
	syncTokenMaxAge = 24 * time.Hour
	maxEventLog     = 100_000
	maxSyncTokens   = 10_000
	syncInvalidText = "Sync token invalid or too old. If you are attempting to keep resources in sync, you must " +
		"fetch the full dataset for this query now and use the new sync token for the next sync."
)

// resRef is a snapshot of the resource an event is about, taken when the
// event happened (the resource may be gone by the time it is read).
type resRef struct {
	gid, typ, name, subtype string
}

type change struct {
	field    string
	action   string
	newValue any // a user for assignee changes; absent otherwise, as in Asana
}

type event struct {
	seq      int64
	at       time.Time
	user     *user
	action   string // added, changed, deleted, removed
	resource resRef
	parent   *resRef
	change   *change
	task     string   // the task the event concerns, for task subscriptions
	projects []string // the task's projects at the time, for project subscriptions
}

type syncToken struct {
	resource string
	pos      int64 // seq of the first event not yet delivered
	issued   time.Time
}

func taskRef(t *task) resRef {
	return resRef{gid: t.gid, typ: "task", name: t.name, subtype: t.subtype}
}

func projectRef(p *project) resRef { return resRef{gid: p.gid, typ: "project", name: p.name} }

func storyRef(s *story) resRef { return resRef{gid: s.gid, typ: "story", subtype: s.subtype} }

func attachmentRef(a *attachment) resRef {
	return resRef{gid: a.gid, typ: "attachment", name: a.name, subtype: a.host()}
}

// emit appends an event about task t (or one of its stories or
// attachments). Callers hold the write lock.
func (st *store) emit(t *task, e event) {
	e.seq = st.firstSeq + int64(len(st.events))
	e.task = t.gid
	e.projects = t.projectGIDs()
	st.events = append(st.events, &e)
	st.kickHooks(&e)
	if len(st.events) > maxEventLog {
		drop := len(st.events) / 10
		st.events = slices.Clone(st.events[drop:])
		st.firstSeq += int64(drop)
	}
}

func (st *store) taskChanged(t *task, by *user, at time.Time, field string, newValue any) {
	st.emit(t, event{at: at, user: by, action: "changed", resource: taskRef(t),
		change: &change{field: field, action: "changed", newValue: newValue}})
}

func (st *store) taskAdded(t *task, p *project, by *user, at time.Time) {
	pr := projectRef(p)
	st.emit(t, event{at: at, user: by, action: "added", resource: taskRef(t), parent: &pr})
}

func (st *store) taskDeleted(t *task, by *user, at time.Time) {
	st.emit(t, event{at: at, user: by, action: "deleted", resource: taskRef(t)})
}

func (st *store) storyAdded(s *story, at time.Time) {
	tr := taskRef(s.task)
	st.emit(s.task, event{at: at, user: s.createdBy, action: "added", resource: storyRef(s), parent: &tr})
}

func (st *store) storyChanged(s *story, by *user, at time.Time) {
	st.emit(s.task, event{at: at, user: by, action: "changed", resource: storyRef(s),
		change: &change{field: "text", action: "changed"}})
}

func (st *store) storyDeleted(s *story, by *user, at time.Time) {
	st.emit(s.task, event{at: at, user: by, action: "deleted", resource: storyRef(s)})
}

func (st *store) attachmentAdded(a *attachment, at time.Time) {
	tr := taskRef(a.task)
	st.emit(a.task, event{at: at, user: a.createdBy, action: "added", resource: attachmentRef(a), parent: &tr})
}

func (st *store) attachmentDeleted(a *attachment, by *user, at time.Time) {
	st.emit(a.task, event{at: at, user: by, action: "deleted", resource: attachmentRef(a)})
}

// sees reports whether a subscription on resource gid delivers e: a project
// sees its tasks and their stories and attachments; a task sees itself and
// its stories and attachments.
func (e *event) sees(gid string) bool {
	return e.task == gid || slices.Contains(e.projects, gid)
}

// newSyncToken issues a token for resource at position pos.
func (st *store) newSyncToken(resource string, pos int64, now time.Time) string {
	if len(st.syncTokens) >= maxSyncTokens {
		for tok, t := range st.syncTokens {
			if now.Sub(t.issued) > syncTokenMaxAge {
				delete(st.syncTokens, tok)
			}
		}
	}
	tok := st.rng.Hex(16)
	st.syncTokens[tok] = syncToken{resource: resource, pos: pos, issued: now}
	return tok
}

// getEvents serves GET /events?resource=...&sync=...
func (s *Sandbox) getEvents(c *call) error {
	sel, err := c.selection(s.schema.event, false)
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	resource := q.Get("resource")
	if resource == "" {
		return missingInput("resource")
	}
	if !isGID(resource) {
		return badRequest("resource: Not a Long: %s", resource)
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	switch st.objects[resource].(type) {
	case *project, *task:
		// A deleted task stays subscribable so its last events (and the
		// deletion itself) can be read.
	case nil:
		return unknownParam("resource", resource)
	default:
		return badRequest("resource: Events are only available on projects and tasks in the sandbox, not on %s", resource)
	}
	now := time.Now()
	end := st.firstSeq + int64(len(st.events))
	tok, ok := st.syncTokens[q.Get("sync")]
	if !ok || tok.resource != resource || tok.pos < st.firstSeq || now.Sub(tok.issued) > syncTokenMaxAge {
		return &apiError{status: http.StatusPreconditionFailed, message: syncInvalidText, noHelp: true,
			sync: st.newSyncToken(resource, end, now)}
	}
	var out []*event
	next, more := end, false
	for _, e := range st.events[tok.pos-st.firstSeq:] {
		if !e.sees(resource) {
			continue
		}
		if len(out) == eventsPerPage {
			next, more = e.seq, true
			break
		}
		out = append(out, e)
	}
	rc := c.renderCtx()
	data := make([]any, len(out))
	for i, e := range out {
		data[i] = rc.render(s.schema.event, e, sel, s.schema.event.full)
	}
	body := &object{}
	body.Set("data", data)
	body.Set("sync", st.newSyncToken(resource, next, now))
	body.Set("has_more", more)
	writeJSON(c.w, http.StatusOK, body, c.pretty)
	return nil
}

func (sc *schema) eventFields() {
	k := sc.event
	k.full = []string{"user", "created_at", "type", "action", "resource", "parent", "change"}
	k.add("user", sc.user, get(func(_ *renderCtx, e *event) any { return userOrNil(e.user) }))
	k.add("created_at", nil, get(func(_ *renderCtx, e *event) any { return e.at }))
	k.add("type", nil, get(func(_ *renderCtx, e *event) any { return e.resource.typ }))
	k.add("action", nil, get(func(_ *renderCtx, e *event) any { return e.action }))
	k.add("resource", sc.ref, get(func(_ *renderCtx, e *event) any { return e.resource }))
	k.add("parent", sc.ref, get(func(_ *renderCtx, e *event) any {
		if e.parent == nil {
			return nil
		}
		return *e.parent
	}))
	k.add("change", sc.change, get(func(_ *renderCtx, e *event) any {
		if e.change == nil {
			return omitted{}
		}
		return *e.change
	}))

	r := sc.ref
	r.gid = gidOf(func(x resRef) string { return x.gid })
	r.typeOf = func(o any) string { return o.(resRef).typ }
	r.compact = []string{"resource_type", "name", "resource_subtype"}
	r.add("name", nil, get(func(_ *renderCtx, x resRef) any { return when(x.name != "" || x.typ != "story", x.name) }))
	r.add("resource_subtype", nil, get(func(_ *renderCtx, x resRef) any { return when(x.subtype != "", x.subtype) }))

	ch := sc.change
	ch.compact = []string{"field", "action", "new_value"}
	ch.add("field", nil, get(func(_ *renderCtx, x change) any { return x.field }))
	ch.add("action", nil, get(func(_ *renderCtx, x change) any { return x.action }))
	ch.add("new_value", sc.user, get(func(_ *renderCtx, x change) any {
		if x.newValue == nil {
			return omitted{}
		}
		return x.newValue
	}))
	ch.add("added_value", stub(), omitAlways)
	ch.add("removed_value", stub(), omitAlways)
}
