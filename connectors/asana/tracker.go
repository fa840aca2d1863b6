package asana

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// Tracker is an Asana workspace seen through tracker.Tracker and
// tracker.EntityTracker: an entity is a task, its comments are the task's
// comment stories and its attachments the task's files.
type Tracker struct {
	c         *Client
	workspace string // gid or name, as configured
	ws        Workspace
	users     users  // assignees' e-mails (fields.go)
	links     links  // download links from attachment listings (links.go)
	me        string // the token's user gid, once checked
	// now is the clock download links age by (tests may set it).
	now func() time.Time
}

var (
	_ tracker.EntityTracker  = (*Tracker)(nil)
	_ tracker.ItemLister     = (*Tracker)(nil)
	_ tracker.UserFinder     = (*Tracker)(nil)
	_ tracker.BulkReader     = (*Tracker)(nil)
	_ tracker.ModifiedLister = (*Tracker)(nil)
)

// NewTracker fronts the workspace named or numbered workspace ("" picks the
// token's only workspace). Nothing is fetched until Check.
func NewTracker(c *Client, workspace string) *Tracker {
	return &Tracker{c: c, workspace: strings.TrimSpace(workspace), now: time.Now}
}

// Kind is "asana".
func (t *Tracker) Kind() string { return "asana" }

// Check verifies the token (GET /users/me) and resolves the workspace, with
// an error that says what to pass when the workspace is ambiguous or absent.
// The node calls it once, at start, before any other method.
func (t *Tracker) Check(ctx context.Context) (tracker.TrackerAccount, error) {
	me, err := t.c.Me(ctx)
	if errors.Is(err, ErrUnauthorized) {
		return tracker.TrackerAccount{}, fmt.Errorf("Asana refused the token at %s: check --asana-token (or ASANA_TOKEN): %w", t.c.BaseURL(), err)
	}
	if err != nil {
		return tracker.TrackerAccount{}, err
	}
	ws, err := t.c.Workspaces(ctx)
	if err != nil {
		return tracker.TrackerAccount{}, err
	}
	var names []string
	matches := 0
	for _, w := range ws {
		names = append(names, fmt.Sprintf("%q (%s)", w.Name, w.GID))
		if t.workspace != "" && (w.GID == t.workspace || strings.EqualFold(w.Name, t.workspace)) {
			t.ws = w
			matches++
		}
	}
	if matches > 1 {
		return tracker.TrackerAccount{}, fmt.Errorf("%s sees %d workspaces named %q; choose one by gid with --asana-workspace: %s", me.Name, matches, t.workspace, strings.Join(names, ", "))
	}
	switch {
	case t.ws.GID != "":
	case t.workspace == "" && len(ws) == 1:
		t.ws = ws[0]
	case t.workspace == "":
		return tracker.TrackerAccount{}, fmt.Errorf("%s sees %d workspaces; choose one with --asana-workspace: %s", me.Name, len(ws), strings.Join(names, ", "))
	default:
		return tracker.TrackerAccount{}, fmt.Errorf("%s has no workspace %q; the token sees: %s", me.Name, t.workspace, strings.Join(names, ", "))
	}
	t.users.remember(me.GID, tracker.User{Email: me.Email, Name: me.Name})
	t.me = me.GID
	return tracker.TrackerAccount{User: me.Name, Space: t.ws.Name}, nil
}

// Projects lists the workspace's projects.
func (t *Tracker) Projects(ctx context.Context) ([]tracker.Project, error) {
	if t.ws.GID == "" {
		return nil, errors.New("asana: the tracker was not checked yet")
	}
	ps, err := t.c.Projects(ctx, t.ws.GID)
	if err != nil {
		return nil, err
	}
	out := make([]tracker.Project, len(ps))
	for i, p := range ps {
		out[i] = tracker.Project{ID: p.GID, Name: p.Name}
	}
	return out, nil
}

// ParseRef turns what a user pastes into a task gid: the gid itself, or a
// task link in Asana's classic form, /0/<project>/<task> (optionally
// ending in /f; project 0 for a task in no project), or its newer one,
// /1/<workspace>/project/<project>/task/<task>. Links may come from any
// host, because a sandbox's permalinks point at the sandbox; the query
// (?focus=true) is ignored. Anything else is an error matching
// tracker.ErrBadRequest that shows what a reference looks like.
func (t *Tracker) ParseRef(ref string) (string, error) {
	s := strings.TrimSpace(ref)
	if isTaskGID(s) {
		return s, nil
	}
	if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		if id := taskInPath(u.Path); id != "" {
			return id, nil
		}
	}
	return "", refError{ref: ref}
}

// taskInPath finds the task gid in the path of an Asana task link, or
// returns "".
func taskInPath(p string) string {
	seg := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case len(seg) >= 3 && seg[0] == "0":
		// /0/<project>/<task>, /0/<project>/<task>/f
		if (len(seg) == 3 || len(seg) == 4 && seg[3] == "f") && isGIDText(seg[1]) && isTaskGID(seg[2]) {
			return seg[2]
		}
	case len(seg) >= 4 && seg[0] == "1" && isGIDText(seg[1]):
		// /1/<workspace>/<object>/<id>/…: every id follows its object's
		// name, so the task is whatever follows "task".
		for i := 2; i+1 < len(seg); i++ {
			if seg[i] == "task" {
				if isTaskGID(seg[i+1]) {
					return seg[i+1]
				}
				return ""
			}
		}
	}
	return ""
}

func isGIDText(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// isTaskGID is a gid that can name a task (0 stands for "no project" in
// links, never for a task).
func isTaskGID(s string) bool {
	return isGIDText(s) && strings.Trim(s, "0") != ""
}

// refError is a reference ParseRef can't read. It matches
// tracker.ErrBadRequest, so the engine and its HTTP API treat it as the
// user's input to fix.
type refError struct{ ref string }

func (e refError) Error() string {
	r := e.ref
	if len(r) > 100 {
		r = r[:100] + "…"
	}
	return fmt.Sprintf("asana: %q is not an Asana task reference: paste the task's gid (such as 1204567890123456) "+
		"or its link (https://app.asana.com/0/<project>/<task> or https://app.asana.com/1/<workspace>/project/<project>/task/<task>)", r)
}

func (refError) Is(target error) bool { return target == tracker.ErrBadRequest }

// Get reads a task whole in three calls: the task with every field the
// Basic rules need and those beyond Basic (fields.go), its comments, its
// attachments' metadata; and once per assignee the tracker hasn't met,
// the assignee's e-mail (GET /users/{gid}). Comments and
// Attachments are never nil, so "none" and "not read" (Update) differ. A
// task that doesn't exist or was deleted gives an error matching both
// ErrNotFound and tracker.ErrNotFound.
func (t *Tracker) Get(ctx context.Context, id string) (tracker.Entity, error) {
	task, err := t.c.Task(ctx, id)
	if err != nil {
		return tracker.Entity{}, gone(err, "task", id)
	}
	e, err := t.entity(ctx, task)
	if err != nil {
		return tracker.Entity{}, err
	}
	if err := t.ReadItems(ctx, &e); err != nil {
		return tracker.Entity{}, err
	}
	return e, nil
}

// ListEntities lists a project's tasks with every field Get reads, from
// GET /tasks with the same opt_fields: one call per 100 tasks instead of
// one per task, each page handed to each as it comes (see
// tracker.BulkReader). Comments and Attachments are nil (ReadItems reads
// them).
func (t *Tracker) ListEntities(ctx context.Context, project string, each func([]tracker.Entity) error) error {
	var theirs error // each's, returned as it is
	err := t.c.ProjectTaskPages(ctx, project, TaskQuery{Full: true}, func(tasks []Task) error {
		out := make([]tracker.Entity, 0, len(tasks))
		for _, task := range tasks {
			e, err := t.entity(ctx, task)
			if err != nil {
				return err
			}
			if e.Project == "" {
				e.Project = project
			}
			out = append(out, e)
		}
		theirs = each(out)
		return theirs
	})
	if err != nil && err != theirs {
		return fmt.Errorf("asana: listing the tasks of project %s: %w", project, err)
	}
	return err
}

// ReadItems reads a task's comments and its attachments' metadata (two
// calls), as Get does after the task; either already set is left as it
// is, without its call. The attachments listing carries
// their download links, kept for a while so that OpenAttachment needs no
// call of its own.
func (t *Tracker) ReadItems(ctx context.Context, e *tracker.Entity) error {
	if e.Comments == nil {
		stories, err := t.c.Comments(ctx, e.ID)
		if err != nil {
			return gone(err, "task", e.ID)
		}
		e.Comments = make([]tracker.Comment, len(stories))
		for i, s := range stories {
			e.Comments[i] = commentOf(s)
		}
	}
	if e.Attachments == nil {
		atts, err := t.c.Attachments(ctx, e.ID)
		if err != nil {
			return gone(err, "task", e.ID)
		}
		e.Attachments = make([]tracker.Attachment, len(atts))
		for i, a := range atts {
			e.Attachments[i] = attachmentOf(a)
			t.links.keep(a, t.now())
		}
	}
	return nil
}

// entityOf maps a task's Basic fields; comments and attachments are left
// nil, and so are the fields beyond Basic (Tracker.entity adds them).
func entityOf(task Task) tracker.Entity {
	e := tracker.Entity{
		ID:          task.GID,
		Key:         task.GID,
		URL:         task.PermalinkURL,
		Type:        task.ResourceSubtype,
		Summary:     task.Name,
		Description: task.HTMLNotes, // Asana's rich text is the wire format
		ModifiedAt:  task.ModifiedAt,
	}
	// A task may be in several projects; the first is the one it was
	// created in.
	for _, m := range task.Memberships {
		if m.Project != nil && m.Project.GID != "" {
			e.Project = m.Project.GID
			break
		}
	}
	return e
}

func commentOf(s Story) tracker.Comment {
	c := tracker.Comment{ID: s.GID, Body: s.HTMLText, CreatedAt: s.CreatedAt, Edited: s.IsEdited}
	if s.CreatedBy != nil {
		c.Author = s.CreatedBy.Name
	}
	return c
}

func attachmentOf(a Attachment) tracker.Attachment {
	return tracker.Attachment{ID: a.GID, Name: a.Name, Size: a.Size, CreatedAt: a.CreatedAt}
}

// List returns the gids of a project's tasks (the listing taken a page
// at a time: only the gids are kept).
func (t *Tracker) List(ctx context.Context, project string) ([]string, error) {
	ids, err := t.gids(ctx, project, TaskQuery{})
	if err != nil {
		return nil, fmt.Errorf("asana: listing the tasks of project %s: %w", project, err)
	}
	return ids, nil
}

// gids lists the gids of a project's tasks that q selects, keeping
// nothing else of the listing: a decoded task is some hundreds of bytes,
// its gid some tens, and a project may have 100,000.
func (t *Tracker) gids(ctx context.Context, project string, q TaskQuery) ([]string, error) {
	var ids []string
	err := t.c.ProjectTaskPages(ctx, project, q, func(tasks []Task) error {
		ids = append(ids, taskGIDs(tasks)...)
		return nil
	})
	return ids, err
}

// RecentItems lists a project's tasks most recently modified first, up to
// limit, from one GET /tasks with name, permalink_url and modified_at: one
// request for a project of up to 100 tasks, one more per further 100, since
// Asana can't sort a project's tasks by modification and all of them are
// read to sort them here. Key is the gid.
//
// Only the newest limit are kept as the pages come (a negative limit
// keeps every one), so a project of 100,000 tasks costs limit items of
// memory, not 100,000 decoded tasks.
func (t *Tracker) RecentItems(ctx context.Context, project string, limit int) ([]tracker.Item, error) {
	var items []tracker.Item
	newest := func(a, b tracker.Item) int { return b.ModifiedAt.Compare(a.ModifiedAt) }
	err := t.c.ProjectTaskPages(ctx, project, TaskQuery{}, func(tasks []Task) error {
		for _, task := range tasks {
			items = append(items, tracker.Item{ID: task.GID, Key: task.GID, Summary: task.Name, URL: task.PermalinkURL, ModifiedAt: task.ModifiedAt})
		}
		// Stable: of tasks modified at the same time, the one listed
		// first stays first, as when all were sorted at once.
		slices.SortStableFunc(items, newest)
		if limit >= 0 && len(items) > limit {
			items = items[:limit]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("asana: listing the tasks of project %s: %w", project, err)
	}
	if items == nil {
		items = []tracker.Item{}
	}
	return items, nil
}

func taskGIDs(tasks []Task) []string {
	ids := make([]string, len(tasks))
	for i, task := range tasks {
		ids[i] = task.GID
	}
	return ids
}

// Types are Asana's task subtypes, the same in every project (custom task
// types aren't synced), so no call is made.
func (t *Tracker) Types(ctx context.Context, project string) ([]string, string, error) {
	return []string{SubtypeDefaultTask, SubtypeMilestone, SubtypeApproval}, SubtypeDefaultTask, nil
}

// Create makes a task in e.Project in one call and returns it as Get
// would, with no comments or attachments, since a new task has none.
func (t *Tracker) Create(ctx context.Context, e tracker.NewEntity) (tracker.Entity, error) {
	subtype := e.Type
	if subtype == "" {
		subtype = SubtypeDefaultTask
	}
	task, err := t.c.CreateTask(ctx, NewTask{Project: e.Project, Name: e.Summary, HTMLNotes: e.Description, Subtype: subtype})
	if err != nil {
		return tracker.Entity{}, err
	}
	out, err := t.entity(ctx, task)
	if err != nil {
		return tracker.Entity{}, err
	}
	if out.Project == "" {
		out.Project = e.Project
	}
	out.Comments, out.Attachments = []tracker.Comment{}, []tracker.Attachment{}
	return out, nil
}

// Update changes a task in one call and returns its fields after the
// change; Comments and Attachments are nil (not read). The fields beyond
// Basic ride in the same PUT; setting an assignee costs a look-up of the
// e-mail once per user, and custom fields, tags or the section a read of
// the task first (fieldsupdate.go). An assignee's e-mail no user has is
// tracker.ErrUnknownUser, and nothing is written.
func (t *Tracker) Update(ctx context.Context, id string, u tracker.EntityUpdate) (tracker.Entity, error) {
	tu := TaskUpdate{Name: u.Summary, HTMLNotes: u.Description, Subtype: u.Type}
	if u.Type != nil && *u.Type == "" {
		def := SubtypeDefaultTask
		tu.Subtype = &def
	}
	if !u.FieldsUpdate.Empty() {
		if err := checkGID("task", id); err != nil {
			return tracker.Entity{}, err
		}
		read, err := t.fieldsWrite(ctx, id, u.FieldsUpdate, &tu)
		if err != nil {
			return tracker.Entity{}, err
		}
		if tu.empty() {
			// Everything asked for is so already.
			if read == nil {
				task, err := t.c.Task(ctx, id)
				if err != nil {
					return tracker.Entity{}, gone(err, "task", id)
				}
				read = &task
			}
			return t.entity(ctx, *read)
		}
	}
	task, err := t.c.UpdateTask(ctx, id, tu)
	if err != nil {
		return tracker.Entity{}, gone(err, "task", id)
	}
	return t.entity(ctx, task)
}

// gone marks a 404 as tracker.ErrNotFound too, so the engine can tell a task
// deleted under it from a failure worth retrying.
func gone(err error, kind, id string) error {
	if errors.Is(err, ErrNotFound) {
		return tracker.Errorf(tracker.ErrNotFound, "asana %s %s: %w", kind, id, err)
	}
	return err
}

// AddComment adds a comment (Asana rich text) to a task.
func (t *Tracker) AddComment(ctx context.Context, id, body string) (tracker.Comment, error) {
	s, err := t.c.AddComment(ctx, id, body)
	if err != nil {
		return tracker.Comment{}, gone(err, "task", id)
	}
	return commentOf(s), nil
}

// EditComment replaces a comment's body. Asana lets only a comment's
// author edit it, so editing someone else's comment is refused (403,
// ErrForbidden).
func (t *Tracker) EditComment(ctx context.Context, commentID, body string) (tracker.Comment, error) {
	s, err := t.c.EditComment(ctx, commentID, body)
	if err != nil {
		return tracker.Comment{}, gone(err, "comment", commentID)
	}
	return commentOf(s), nil
}

// OpenAttachment streams an attachment's bytes: from the download URL its
// task's attachments listing carried, while that is fresh (no API call);
// otherwise, or when that fails (expired early, the file host refused),
// from a fresh URL fetched with GET /attachments/{gid}.
func (t *Tracker) OpenAttachment(ctx context.Context, attachmentID string) (io.ReadCloser, tracker.Attachment, error) {
	if a, ok := t.links.take(attachmentID, t.now()); ok {
		if rc, err := t.c.DownloadListed(ctx, a); err == nil {
			return rc, attachmentOf(a), nil
		}
		if ctx.Err() != nil {
			return nil, tracker.Attachment{}, ctx.Err()
		}
	}
	rc, a, err := t.c.Download(ctx, attachmentID)
	if err != nil {
		return nil, tracker.Attachment{}, err
	}
	return rc, attachmentOf(a), nil
}

// AddAttachment uploads a file to a task, typed by its name's extension
// (application/octet-stream when unknown). A file over
// MaxAttachmentSize is refused before anything is sent (ErrTooLarge).
func (t *Tracker) AddAttachment(ctx context.Context, id, name string, size int64, open func() (io.ReadCloser, error)) (tracker.Attachment, error) {
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	a, err := t.c.UploadAttachment(ctx, Upload{Parent: id, Name: name, Size: size, ContentType: ct, Open: open})
	if err != nil {
		return tracker.Attachment{}, gone(err, "task", id)
	}
	return attachmentOf(a), nil
}

// MaxAttachmentSize is Asana's 100 MB upload limit.
func (t *Tracker) MaxAttachmentSize() int64 { return MaxAttachmentSize }

// Changes reads a project's events since cursor (an Events sync token),
// following has_more until none are left, and names each task concerned
// once, in the order first seen: the task of a task event, the parent task
// of a story or attachment event (system stories included: they repeat a
// task change, and ids are deduplicated). Removed and deleted tasks are
// named too, so the engine can record them. An edited comment's event
// names no parent, so its task costs one more call (once per comment); a
// deleted comment or attachment can't be traced to its task and is left
// out. An empty, unknown or expired cursor gives Reset with a new cursor,
// also when the token expires between pages.
//
// Own gives, for a task whose every event was made by the token's own
// user, the events' created_at: the engine matches them with the times
// its writes returned (a create's or update's modified_at, an added
// comment's or file's created_at, which the events repeat) to drop its
// own writes without a read. A task with an event by anyone else, or
// without a time, has no entry.
func (t *Tracker) Changes(ctx context.Context, project, cursor string) (tracker.Changes, error) {
	var ids []string
	seen := map[string]bool{}
	storyTasks := map[string]string{}
	own := map[string][]time.Time{}
	foreign := map[string]bool{}
	for {
		page, err := t.c.Events(ctx, project, cursor)
		if err != nil {
			return tracker.Changes{}, fmt.Errorf("asana: reading the changes in project %s: %w", project, err)
		}
		if page.Reset {
			return tracker.Changes{Reset: true, Cursor: page.Sync}, nil
		}
		for _, ev := range page.Events {
			id, err := t.eventTask(ctx, ev, storyTasks)
			if err != nil {
				return tracker.Changes{}, fmt.Errorf("asana: reading the changes in project %s: %w", project, err)
			}
			if id == "" {
				continue
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
			if t.me != "" && ev.User != nil && ev.User.GID == t.me && !ev.CreatedAt.IsZero() {
				own[id] = append(own[id], ev.CreatedAt)
			} else {
				foreign[id] = true
			}
		}
		if !page.HasMore {
			for id := range foreign {
				delete(own, id)
			}
			return tracker.Changes{IDs: ids, Cursor: page.Sync, Own: own}, nil
		}
		if page.Sync == "" || page.Sync == cursor {
			// More to come from the same place would be read forever.
			return tracker.Changes{}, fmt.Errorf("asana: reading the changes in project %s: the events API said there is more but gave no new sync token", project)
		}
		cursor = page.Sync
	}
}

// eventTask is the gid of the task an event concerns, or "" for events
// about anything else (the project, its sections) and for what can't be
// traced. storyTasks remembers the stories already looked up.
func (t *Tracker) eventTask(ctx context.Context, ev Event, storyTasks map[string]string) (string, error) {
	switch ev.Resource.ResourceType {
	case "task":
		return ev.Resource.GID, nil
	case "story", "attachment":
		if p := ev.Parent; p != nil && (p.ResourceType == "task" || p.ResourceType == "") {
			return p.GID, nil
		}
		if ev.Resource.ResourceType != "story" || ev.Action == "deleted" {
			return "", nil
		}
		if id, ok := storyTasks[ev.Resource.GID]; ok {
			return id, nil
		}
		id, err := t.c.StoryTask(ctx, ev.Resource.GID)
		if errors.Is(err, ErrNotFound) {
			id, err = "", nil // deleted since: nothing left to sync
		}
		if err != nil {
			return "", err
		}
		storyTasks[ev.Resource.GID] = id
		return id, nil
	}
	return "", nil
}

// ChangedSince lists the gids of a project's tasks modified at or after
// since, for the reconcile after a Reset. Asana counts a new comment as
// modifying its task, but the sandbox (as far as we know, Asana too) not
// an edit to one.
func (t *Tracker) ChangedSince(ctx context.Context, project string, since time.Time) ([]string, error) {
	ids, err := t.gids(ctx, project, TaskQuery{ModifiedSince: since})
	if err != nil {
		return nil, fmt.Errorf("asana: listing the tasks of project %s changed since %s: %w", project, since.Format(time.RFC3339), err)
	}
	return ids, nil
}

// ModifiedSince lists the tasks of a project modified at or after since
// with their modified_at, from the same listing as ChangedSince, a page
// at a time (the reconcile after a lost cursor of a 100,000-task project
// held every task decoded: the sending node's peak during a bulk).
func (t *Tracker) ModifiedSince(ctx context.Context, project string, since time.Time) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := t.c.ProjectTaskPages(ctx, project, TaskQuery{ModifiedSince: since}, func(tasks []Task) error {
		for _, task := range tasks {
			out[task.GID] = task.ModifiedAt
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("asana: listing the tasks of project %s changed since %s: %w", project, since.Format(time.RFC3339), err)
	}
	return out, nil
}

// FindBySummary lists the tasks of a project modified at or after since
// whose name is summary, in one call.
func (t *Tracker) FindBySummary(ctx context.Context, project, summary string, since time.Time) ([]string, error) {
	var ids []string
	err := t.c.ProjectTaskPages(ctx, project, TaskQuery{ModifiedSince: since}, func(tasks []Task) error {
		for _, task := range tasks {
			if task.Name == summary {
				ids = append(ids, task.GID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}
