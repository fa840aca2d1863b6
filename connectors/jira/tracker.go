package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/tandem-sync/tandem/connectors/jira/adf"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// DefaultType is the issue type used when an entity names none and the
// tracker was given no other default.
const DefaultType = "Task"

// typesTTL is how long a project's issue types are kept: they change
// rarely, and Create consults them on every call.
const typesTTL = 5 * time.Minute

// Tracker is a Jira site seen through tracker.Tracker and
// tracker.EntityTracker: an entity is an issue (project by key, type by
// name), its comments are the issue's comments and its attachments the
// issue's attachments. Descriptions and comment bodies are ADF on Jira and
// rich text in the engine, converted by package adf at this edge.
//
// Ids: an entity's ID is the issue id ("10004"), and Key its key
// ("KAN-5"); every method taking an issue accepts either. A comment's ID
// is "<issueID>/<commentID>", so EditComment finds the issue. An
// attachment's ID is Jira's attachment id.
type Tracker struct {
	c       *Client
	defType string
	maxSize atomic.Int64
	// searchLag is SearchLag in nanoseconds; 0 means DefaultSearchLag.
	searchLag atomic.Int64

	mu       sync.Mutex
	types    map[string]projectTypes // project key → its types, for typesTTL
	accounts map[string]account      // lower-case e-mail → its account, for accountsTTL
}

type projectTypes struct {
	names []string
	def   string
	at    time.Time
}

var (
	_ tracker.SearchLagger  = (*Tracker)(nil)
	_ tracker.EntityTracker = (*Tracker)(nil)
	_ tracker.ItemLister    = (*Tracker)(nil)
	_ tracker.UserFinder    = (*Tracker)(nil)
)

// NewTracker fronts the site c talks to. defaultType is the issue type of
// entities that name none, when the project has it ("" means DefaultType).
// Nothing is fetched until Check.
func NewTracker(c *Client, defaultType string) *Tracker {
	t := &Tracker{c: c, defType: strings.TrimSpace(defaultType), types: map[string]projectTypes{}, accounts: map[string]account{}}
	if t.defType == "" {
		t.defType = DefaultType
	}
	t.maxSize.Store(DefaultMaxAttachmentSize)
	return t
}

// SetMaxAttachmentSize sets the site's upload limit in bytes, for a site
// whose admin lowered Jira Cloud's default (DefaultMaxAttachmentSize);
// n <= 0 restores the default.
func (t *Tracker) SetMaxAttachmentSize(n int64) {
	if n <= 0 {
		n = DefaultMaxAttachmentSize
	}
	t.maxSize.Store(n)
}

// MaxAttachmentSize is the site's upload limit (SetMaxAttachmentSize).
func (t *Tracker) MaxAttachmentSize() int64 { return t.maxSize.Load() }

// Kind is "jira".
func (t *Tracker) Kind() string { return "jira" }

// Check verifies the credentials (GET /myself), keeps the account's time
// zone for JQL, and names the site: its host on atlassian.net, else its
// serverTitle (one more call).
func (t *Tracker) Check(ctx context.Context) (tracker.TrackerAccount, error) {
	me, err := t.c.Myself(ctx)
	if errors.Is(err, ErrUnauthorized) {
		return tracker.TrackerAccount{}, fmt.Errorf("Jira refused the email and API token at %s: check --jira-email and --jira-token (or JIRA_EMAIL and JIRA_TOKEN): %w", t.c.BaseURL(), err)
	}
	if err != nil {
		return tracker.TrackerAccount{}, err
	}
	t.c.setLocation(me.TimeZone)
	space := t.c.site.Hostname()
	if !strings.HasSuffix(space, ".atlassian.net") {
		if si, err := t.c.ServerInfo(ctx); err == nil && si.ServerTitle != "" {
			space = si.ServerTitle
		}
	}
	return tracker.TrackerAccount{User: me.DisplayName, Space: space}, nil
}

// Projects lists the projects the account can see; a project's ID is its
// key (KAN), which is what JQL and creates name it by.
func (t *Tracker) Projects(ctx context.Context) ([]tracker.Project, error) {
	ps, err := t.c.Projects(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]tracker.Project, len(ps))
	for i, p := range ps {
		out[i] = tracker.Project{ID: p.Key, Name: p.Name}
	}
	return out, nil
}

// Get reads an issue whole in one call (two or more when it has more
// comments than Jira embeds), the fields beyond the Basic ones with it. An issue that doesn't exist, was deleted or
// can't be seen gives Entity{ID: id, Deleted: true} and an error matching
// both ErrNotFound and tracker.ErrNotFound, which is what the engine
// branches on. Comments and Attachments are never nil.
func (t *Tracker) Get(ctx context.Context, id string) (tracker.Entity, error) {
	is, err := t.c.Issue(ctx, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return tracker.Entity{ID: id, Deleted: true}, gone(err, id)
		}
		return tracker.Entity{}, err
	}
	e := t.entityOf(is)
	e.Comments = make([]tracker.Comment, len(is.Fields.Comment.Comments))
	for i, cm := range is.Fields.Comment.Comments {
		e.Comments[i] = t.commentOf(is.ID.String(), cm)
	}
	e.Attachments = make([]tracker.Attachment, len(is.Fields.Attachment))
	for i, a := range is.Fields.Attachment {
		e.Attachments[i] = attachmentOf(a)
	}
	return e, nil
}

// entityOf maps an issue's fields; comments and attachments are left nil.
func (t *Tracker) entityOf(is Issue) tracker.Entity {
	e := tracker.Entity{
		ID:          is.ID.String(),
		Key:         is.Key,
		URL:         t.browseURL(is.Key),
		Summary:     is.Fields.Summary,
		Description: t.richText(is.ID.String(), is.Fields.Description),
		ModifiedAt:  is.Fields.Updated.Time,
		Fields:      fieldsOf(is.Fields),
	}
	if p := is.Fields.Project; p != nil {
		e.Project = p.Key
	}
	if it := is.Fields.IssueType; it != nil {
		e.Type = it.Name
	}
	return e
}

func (t *Tracker) browseURL(key string) string {
	if key == "" {
		return ""
	}
	return t.c.BaseURL() + "/browse/" + key
}

// richText converts ADF to rich text. A document the converter refuses
// still syncs, as its plain text, rather than stopping its issue's sync.
func (t *Tracker) richText(issue string, doc json.RawMessage) string {
	rich, err := adf.ToRichText(doc)
	if err == nil {
		return rich
	}
	t.c.log.Warn("jira: a document could not be converted; syncing its plain text", "issue", issue, "err", err)
	text := adf.Text(doc)
	if text == "" {
		return ""
	}
	return "<body>" + html.EscapeString(text) + "</body>"
}

// commentOf maps a comment; its ID is "<issueID>/<commentID>".
func (t *Tracker) commentOf(issueID string, cm Comment) tracker.Comment {
	out := tracker.Comment{
		ID:        issueID + "/" + cm.ID.String(),
		Body:      t.richText(issueID, cm.Body),
		CreatedAt: cm.Created.Time,
		Edited:    !cm.Updated.IsZero() && !cm.Updated.Equal(cm.Created.Time),
	}
	if cm.Author != nil {
		out.Author = cm.Author.DisplayName
	}
	return out
}

func attachmentOf(a Attachment) tracker.Attachment {
	return tracker.Attachment{ID: a.ID.String(), Name: a.Filename, Size: a.Size}
}

// gone marks a 404 as tracker.ErrNotFound too, so the engine can tell an
// issue deleted under it from a failure worth retrying.
func gone(err error, id string) error {
	if errors.Is(err, ErrNotFound) {
		return tracker.Errorf(tracker.ErrNotFound, "jira issue %s: %w", id, err)
	}
	return err
}

// Types lists a project's issue types that are not subtasks, and its
// default: the tracker's default type if the project has it, else Task,
// else the first. One call per project every few minutes.
func (t *Tracker) Types(ctx context.Context, project string) ([]string, string, error) {
	t.mu.Lock()
	pt, ok := t.types[project]
	t.mu.Unlock()
	if ok && time.Since(pt.at) < typesTTL {
		return slices.Clone(pt.names), pt.def, nil
	}
	p, err := t.c.Project(ctx, project)
	if err != nil {
		return nil, "", fmt.Errorf("jira: reading the issue types of project %s: %w", project, err)
	}
	pt = projectTypes{at: time.Now()}
	for _, it := range p.IssueTypes {
		if !it.Subtask && it.Name != "" && !slices.Contains(pt.names, it.Name) {
			pt.names = append(pt.names, it.Name)
		}
	}
	if len(pt.names) == 0 {
		return nil, "", fmt.Errorf("jira: project %s has no issue types this account may create", project)
	}
	switch {
	case slices.Contains(pt.names, t.defType):
		pt.def = t.defType
	case slices.Contains(pt.names, DefaultType):
		pt.def = DefaultType
	default:
		pt.def = pt.names[0]
	}
	t.mu.Lock()
	t.types[project] = pt
	t.mu.Unlock()
	return slices.Clone(pt.names), pt.def, nil
}

// issueType is typ if the project has it, else the project's default.
func (t *Tracker) issueType(ctx context.Context, project, typ string) (string, error) {
	names, def, err := t.Types(ctx, project)
	if err != nil {
		return "", err
	}
	if typ != "" && slices.Contains(names, typ) {
		return typ, nil
	}
	return def, nil
}

// Create makes an issue in one call (plus the project's types, read every
// few minutes) and returns it as Get would, without reading it back: no
// comments or attachments, the description as Get would convert it, and
// ModifiedAt the time of Jira's answer. A type the project lacks becomes
// its default. The fields beyond the Basic ones are left zero: a new
// issue's status and priority are the site's configuration, which only
// reading it back would tell.
func (t *Tracker) Create(ctx context.Context, e tracker.NewEntity) (tracker.Entity, error) {
	typ, err := t.issueType(ctx, e.Project, e.Type)
	if err != nil {
		return tracker.Entity{}, err
	}
	doc, err := adf.FromRichText(e.Description)
	if err != nil {
		return tracker.Entity{}, fmt.Errorf("jira: converting the description of a new issue in %s: %w", e.Project, err)
	}
	summary := jiraSummary(e.Summary)
	ci, err := t.c.CreateIssue(ctx, NewIssue{Project: e.Project, Type: typ, Summary: summary, Description: doc})
	if refusedType(err) {
		// The project refuses that type for new issues (a required field
		// it alone has, say): its default type rather than no issue.
		def, derr := t.issueType(ctx, e.Project, "")
		if derr == nil && def != typ {
			t.c.log.Warn("jira: the project refused the type; creating with its default", "project", e.Project, "type", typ, "default", def)
			typ = def
			ci, err = t.c.CreateIssue(ctx, NewIssue{Project: e.Project, Type: typ, Summary: summary, Description: doc})
		}
	}
	if err != nil {
		return tracker.Entity{}, fmt.Errorf("jira: creating an issue in %s: %w", e.Project, err)
	}
	return tracker.Entity{
		ID:          ci.ID.String(),
		Key:         ci.Key,
		URL:         t.browseURL(ci.Key),
		Project:     e.Project,
		Type:        typ,
		Summary:     summary,
		Description: t.richText(ci.ID.String(), doc),
		ModifiedAt:  ci.At,
		Comments:    []tracker.Comment{},
		Attachments: []tracker.Attachment{},
	}, nil
}

// DefaultSearchLag is how long Jira's search may take to show a write:
// its index is eventually consistent, usually within seconds.
const DefaultSearchLag = 10 * time.Second

// SearchLag is how long a search may miss what was just written
// (tracker.SearchLagger); SetSearchLag changes it.
func (t *Tracker) SearchLag() time.Duration {
	if d := time.Duration(t.searchLag.Load()); d > 0 {
		return d
	}
	return DefaultSearchLag
}

// SetSearchLag sets SearchLag; 0 or less restores the default.
func (t *Tracker) SetSearchLag(d time.Duration) { t.searchLag.Store(int64(d)) }

// maxSummary is the longest summary Jira stores, in characters.
const maxSummary = 255

// jiraSummary is a summary as Jira stores it: one line, without leading or
// trailing spaces, at most 255 characters, never empty (Jira refuses all
// of these, while Asana allows them). Create and Update return this form,
// so the twin records what a later Get reads, not what was asked.
func jiraSummary(s string) string {
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)), " ")
	if s == "" {
		return "(no summary)"
	}
	if r := []rune(s); len(r) > maxSummary {
		s = string(r[:maxSummary-1]) + "…"
	}
	return s
}

// refusedType says Jira refused a request because of its issue type.
func refusedType(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusBadRequest && e.Fields["issuetype"] != ""
}

// updateFields are what Update reads back; a fresh slice each call, like
// issueFieldNames.
func updateFields() []string {
	return append([]string{"summary", "description", "issuetype", "project", "updated"}, beyondBasicFields()...)
}

// Update changes an issue (PUT, retried on 409) and reads its fields back
// (GET), two calls; Comments and Attachments are nil (not read). An empty
// Type means the project's default type.
//
// The fields beyond the Basic ones go in the same PUT, but for the status,
// which changes through a transition: one call to list the issue's
// transitions and one to take the one leading there (Status by name, or
// for Completed alone, to a done or to-do status). An assignee is found
// by e-mail through user search, one call per e-mail every few minutes.
// Those lookups come before any write, so a status no transition leads to
// (an error saying "no transition from X to Y", marked
// tracker.ErrBadRequest) or an e-mail no user has
// (tracker.ErrUnknownUser) changes nothing. Section and Custom are refused
// the same way: Jira has neither here.
func (t *Tracker) Update(ctx context.Context, id string, u tracker.EntityUpdate) (tracker.Entity, error) {
	var iu IssueUpdate
	if u.Summary != nil {
		summary := jiraSummary(*u.Summary)
		iu.Summary = &summary
	}
	if u.Type != nil {
		typ := *u.Type
		if typ == "" {
			is, err := t.c.issue(ctx, id, []string{"project"})
			if err != nil {
				return tracker.Entity{}, gone(err, id)
			}
			if is.Fields.Project != nil {
				if typ, err = t.issueType(ctx, is.Fields.Project.Key, ""); err != nil {
					return tracker.Entity{}, err
				}
			}
		}
		if typ != "" {
			iu.Type = &typ
		}
	}
	if u.Description != nil {
		doc, err := adf.FromRichText(*u.Description)
		if err != nil {
			return tracker.Entity{}, fmt.Errorf("jira: converting the description of issue %s: %w", id, err)
		}
		iu.Description = &doc
	}
	move, err := t.prepareFields(ctx, id, u.FieldsUpdate, &iu)
	if err != nil {
		return tracker.Entity{}, err
	}
	err = t.c.UpdateIssue(ctx, id, iu)
	if refusedType(err) {
		// Jira refuses some type changes (another workflow or field
		// configuration): the rest of the change still goes in, and the
		// type read back says what the issue kept.
		t.c.log.Warn("jira: the issue type change was refused; applying the rest", "issue", id, "type", *iu.Type)
		iu.Type = nil
		err = t.c.UpdateIssue(ctx, id, iu)
	}
	if err != nil {
		return tracker.Entity{}, gone(refusedField(err, id, iu), id)
	}
	if move != nil {
		if err := t.c.DoTransition(ctx, id, move.ID); err != nil {
			return tracker.Entity{}, gone(fmt.Errorf("jira: issue %s: moving it to %s: %w", id, move.To.Name, err), id)
		}
	}
	is, err := t.c.issue(ctx, id, updateFields())
	if err != nil {
		return tracker.Entity{}, gone(err, id)
	}
	return t.entityOf(is), nil
}

// AddComment adds a comment (rich text) to an issue. A body with nothing
// to show is written as EmptyComment (see commentDoc).
func (t *Tracker) AddComment(ctx context.Context, id, body string) (tracker.Comment, error) {
	doc, err := commentDoc(body)
	if err != nil {
		return tracker.Comment{}, fmt.Errorf("jira: converting a comment on issue %s: %w", id, err)
	}
	cm, err := t.c.AddComment(ctx, id, doc)
	if err != nil {
		return tracker.Comment{}, gone(err, id)
	}
	return t.commentOf(id, cm), nil
}

// EditComment replaces a comment's body; commentID is
// "<issueID>/<commentID>" as Get and AddComment return it. A body with
// nothing to show is written as EmptyComment, as in AddComment.
func (t *Tracker) EditComment(ctx context.Context, commentID, body string) (tracker.Comment, error) {
	issue, cid, ok := strings.Cut(commentID, "/")
	if !ok || checkIssue(issue) != nil || !isIssueID(cid) {
		return tracker.Comment{}, tracker.Errorf(tracker.ErrBadRequest, "jira: %q is not a comment id of the form <issueID>/<commentID>", commentID)
	}
	doc, err := commentDoc(body)
	if err != nil {
		return tracker.Comment{}, fmt.Errorf("jira: converting comment %s: %w", commentID, err)
	}
	cm, err := t.c.UpdateComment(ctx, issue, cid, doc)
	if err != nil {
		return tracker.Comment{}, gone(err, commentID)
	}
	return t.commentOf(issue, cm), nil
}

// OpenAttachment streams an attachment's bytes.
func (t *Tracker) OpenAttachment(ctx context.Context, attachmentID string) (io.ReadCloser, tracker.Attachment, error) {
	rc, a, err := t.c.Download(ctx, attachmentID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			err = tracker.Errorf(tracker.ErrNotFound, "jira attachment %s: %w", attachmentID, err)
		}
		return nil, tracker.Attachment{}, err
	}
	return rc, attachmentOf(a), nil
}

// AddAttachment uploads a file to an issue, typed by its name's extension
// (application/octet-stream when unknown). A file over MaxAttachmentSize
// is refused before anything is sent (ErrTooLarge).
func (t *Tracker) AddAttachment(ctx context.Context, id, name string, size int64, open func() (io.ReadCloser, error)) (tracker.Attachment, error) {
	if limit := t.MaxAttachmentSize(); size > limit {
		return tracker.Attachment{}, fmt.Errorf("jira: attaching %q (%d bytes) to issue %s: over the %d-byte limit: %w", name, size, id, limit, ErrTooLarge)
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	a, err := t.c.UploadAttachment(ctx, Upload{Issue: id, Name: name, Size: size, ContentType: ct, Open: open})
	if err != nil {
		return tracker.Attachment{}, gone(err, id)
	}
	return attachmentOf(a), nil
}
