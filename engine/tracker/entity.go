package tracker

import (
	"context"
	"io"
	"time"
)

// Entities are what the sync pipeline moves between trackers. They are
// tracker-neutral: a connector maps its tracker's items onto them, and the
// rules work on them alone.
//
// Rich text (Description, Comment.Body) travels between nodes in one
// neutral form, defined and checked by the richtext sub-package: XML in
// <body>…</body> over a small tag set. Asana's html_notes happens to be
// that form, so an Asana node passes descriptions and comments through
// untouched; other trackers convert at their edge (Jira's ADF in
// connectors/jira/adf).

// Entity is one tracker item with everything the Basic rules sync.
type Entity struct {
	// ID is the tracker's id (an Asana gid).
	ID string `json:"id"`
	// Key is what users call it (a gid on Asana, KAN-19 on Jira).
	Key string `json:"key"`
	// URL links to the item in the tracker's web app.
	URL string `json:"url"`
	// Project is the id of the project the item belongs to.
	Project string `json:"project"`
	// Type is the tracker's type name (Asana: default_task, milestone,
	// approval; Jira: Task, Bug, ...).
	Type        string    `json:"type"`
	Summary     string    `json:"summary"`
	Description string    `json:"description"` // rich text
	ModifiedAt  time.Time `json:"modified_at"`
	// Comments are the item's comments, oldest first.
	Comments []Comment `json:"comments"`
	// Attachments are the item's files, metadata only.
	Attachments []Attachment `json:"attachments"`
	// Deleted says the item is gone from the tracker.
	Deleted bool `json:"deleted,omitempty"`
	// Fields are the item's fields beyond Basic (fields.go), for Script
	// mode; Basic ignores them.
	Fields
}

// Comment is a comment on an entity.
type Comment struct {
	ID        string    `json:"id"`
	Author    string    `json:"author"`
	Body      string    `json:"body"` // rich text
	CreatedAt time.Time `json:"created_at"`
	// Edited says the comment changed after it was written.
	Edited bool `json:"edited,omitempty"`
}

// Attachment is a file on an entity.
type Attachment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Size int64  `json:"size"`
	// CreatedAt is when it was attached (the tracker's clock), as
	// AddAttachment returns it; zero where the tracker doesn't say. It
	// stays on the node (a replica doesn't carry it).
	CreatedAt time.Time `json:"-"`
}

// NewEntity is what Create needs.
type NewEntity struct {
	Project     string
	Type        string // "" for the tracker's default type
	Summary     string
	Description string // rich text; "" for none
}

// EntityUpdate changes the fields that are not nil.
type EntityUpdate struct {
	Type        *string
	Summary     *string
	Description *string
	// FieldsUpdate changes fields beyond Basic (Script mode); Basic sets
	// none.
	FieldsUpdate
}

// Changes is one round of change detection on a project.
type Changes struct {
	// IDs are the entities that changed (created, edited, commented,
	// attached, deleted) since the cursor, each once.
	IDs []string
	// Cursor is where the next round starts.
	Cursor string
	// Reset says the cursor was unusable (first round, or expired): the
	// caller must reconcile with ChangedSince, then go on from Cursor.
	Reset bool
	// Own are, for some of IDs, the times (the tracker's clock) of every
	// change seen on that entity since the cursor, when the tracker can
	// tell that each was made by the node's own account: its comments,
	// files and edits included. An entity whose changes include one the
	// tracker can't vouch for (another user's, or one without a time) has
	// no entry. The engine drops an entity whose every time is one its own
	// writes returned (an echo) without reading it; nil is allowed.
	Own map[string][]time.Time
}

// EntityTracker is what the sync pipeline needs of a tracker beyond
// Tracker. Every method honours ctx and returns errors that say what failed
// for which item.
type EntityTracker interface {
	Tracker
	// ParseRef turns what a user pastes (an id, a key, a link) into an id.
	ParseRef(ref string) (string, error)
	// Get reads one entity whole (fields, comments, attachment metadata) in
	// as few API calls as the tracker allows.
	Get(ctx context.Context, id string) (Entity, error)
	// List returns the ids of a project's entities.
	List(ctx context.Context, project string) ([]string, error)
	// Types lists the tracker's types for a project and names its default.
	Types(ctx context.Context, project string) (types []string, def string, err error)
	// Create makes a new entity and returns it as Get would, without
	// reading it back: a new entity has no comments or attachments yet.
	Create(ctx context.Context, e NewEntity) (Entity, error)
	// Update changes an entity's fields and returns its fields as they
	// are after the change (ModifiedAt included), which is what the caller
	// records. Comments and Attachments are nil, not read: fetching them
	// would triple the cost of every update; Get reads them.
	Update(ctx context.Context, id string, u EntityUpdate) (Entity, error)
	// AddComment adds a comment (rich text) and returns it.
	AddComment(ctx context.Context, id, body string) (Comment, error)
	// EditComment replaces a comment's body.
	EditComment(ctx context.Context, commentID, body string) (Comment, error)
	// OpenAttachment streams an attachment's bytes; the caller closes it.
	OpenAttachment(ctx context.Context, attachmentID string) (io.ReadCloser, Attachment, error)
	// AddAttachment uploads a file of exactly size bytes; open is called
	// once per attempt so a retry streams it again.
	AddAttachment(ctx context.Context, id, name string, size int64, open func() (io.ReadCloser, error)) (Attachment, error)
	// MaxAttachmentSize is the tracker's upload limit in bytes.
	MaxAttachmentSize() int64
	// Changes reports what changed in a project since cursor.
	Changes(ctx context.Context, project, cursor string) (Changes, error)
	// ChangedSince lists the ids of a project's entities modified at or
	// after t (the reconcile after a Reset).
	ChangedSince(ctx context.Context, project string, t time.Time) ([]string, error)
	// FindBySummary lists the ids of a project's entities modified at or
	// after t whose summary is summary: how a retried create finds what an
	// attempt whose outcome was unknown may have made.
	FindBySummary(ctx context.Context, project, summary string, t time.Time) ([]string, error)
}
