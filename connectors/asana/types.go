package asana

import (
	"strconv"
	"time"
)

// Ref is Asana's compact shape of any named object: {gid, resource_type, name}.
type Ref struct {
	GID          string `json:"gid"`
	ResourceType string `json:"resource_type,omitempty"`
	Name         string `json:"name,omitempty"`
}

// User is a user as GET /users/me returns it.
type User struct {
	GID          string `json:"gid"`
	ResourceType string `json:"resource_type"`
	Name         string `json:"name"`
	Email        string `json:"email,omitempty"`
	Workspaces   []Ref  `json:"workspaces,omitempty"`
}

// Workspace is a workspace or organization the token can see.
type Workspace struct {
	GID            string `json:"gid"`
	ResourceType   string `json:"resource_type"`
	Name           string `json:"name"`
	IsOrganization bool   `json:"is_organization"`
}

// Project is a project of a workspace.
type Project struct {
	GID          string `json:"gid"`
	ResourceType string `json:"resource_type"`
	Name         string `json:"name"`
	PermalinkURL string `json:"permalink_url,omitempty"`
	Workspace    *Ref   `json:"workspace,omitempty"`
}

// Task subtypes the Basic rules know. Asana also has "custom" (custom task
// types) and, in old data, "section".
const (
	SubtypeDefaultTask = "default_task"
	SubtypeMilestone   = "milestone"
	SubtypeApproval    = "approval"
)

// Membership places a task in a project (and a section of it).
type Membership struct {
	Project *Ref `json:"project,omitempty"`
	Section *Ref `json:"section,omitempty"`
}

// Task is a task with the fields the Basic rules need. Which fields are
// filled depends on the call: Task fills them all, list calls only the
// compact shape plus modified_at.
type Task struct {
	GID             string       `json:"gid"`
	ResourceType    string       `json:"resource_type"`
	Name            string       `json:"name"`
	ResourceSubtype string       `json:"resource_subtype"`
	HTMLNotes       string       `json:"html_notes,omitempty"`
	Notes           string       `json:"notes,omitempty"`
	PermalinkURL    string       `json:"permalink_url,omitempty"`
	CreatedAt       time.Time    `json:"created_at,omitzero"`
	ModifiedAt      time.Time    `json:"modified_at,omitzero"`
	Completed       bool         `json:"completed,omitempty"`
	Memberships     []Membership `json:"memberships,omitempty"`
	Workspace       *Ref         `json:"workspace,omitempty"`
	CreatedBy       *Ref         `json:"created_by,omitempty"`
	// Assignee is nil for nobody. Its Email is empty unless it was asked
	// for: the document lets a task name its assignee's gid and name only.
	Assignee *User `json:"assignee,omitempty"`
	// DueOn is the due date, YYYY-MM-DD, or "" for none.
	DueOn string `json:"due_on,omitempty"`
	// Tags are the task's tags, in the order they were added.
	Tags []Ref `json:"tags,omitempty"`
	// CustomFields hold a value (maybe empty) for every custom field of
	// the task's projects.
	CustomFields []CustomField `json:"custom_fields,omitempty"`
}

// Custom field types (resource_subtype) tandem reads and writes; Asana
// also has multi_enum, date, people and reference, which are read through
// their display_value and never written.
const (
	FieldEnum   = "enum"
	FieldText   = "text"
	FieldNumber = "number"
)

// CustomField is a task's value of one custom field, and (when asked for)
// the field's enum options.
type CustomField struct {
	GID             string       `json:"gid"`
	Name            string       `json:"name"`
	ResourceSubtype string       `json:"resource_subtype,omitempty"`
	DisplayValue    *string      `json:"display_value,omitempty"`
	EnumValue       *EnumOption  `json:"enum_value,omitempty"`
	NumberValue     *float64     `json:"number_value,omitempty"`
	EnumOptions     []EnumOption `json:"enum_options,omitempty"`
}

// Value is the field's value as text: an enum's option name, a text, a
// number in full (display_value rounds it to the field's precision), any
// other type as Asana shows it; "" for none.
func (f CustomField) Value() string {
	if f.EnumValue != nil {
		return f.EnumValue.Name
	}
	if f.NumberValue != nil {
		return strconv.FormatFloat(*f.NumberValue, 'f', -1, 64)
	}
	if f.DisplayValue != nil {
		return *f.DisplayValue
	}
	return ""
}

// EnumOption is one option of an enum custom field.
type EnumOption struct {
	GID     string `json:"gid"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
}

// Story types: comments are what users write; system stories record
// changes and are never synced.
const (
	StoryTypeComment = "comment"
	StoryTypeSystem  = "system"
)

// Story is an entry of a task's activity feed. Comments have Type
// "comment" and ResourceSubtype "comment_added".
type Story struct {
	GID             string    `json:"gid"`
	ResourceType    string    `json:"resource_type"`
	ResourceSubtype string    `json:"resource_subtype"`
	Type            string    `json:"type"`
	Text            string    `json:"text"`
	HTMLText        string    `json:"html_text,omitempty"`
	CreatedAt       time.Time `json:"created_at,omitzero"`
	CreatedBy       *Ref      `json:"created_by,omitempty"`
	IsEdited        bool      `json:"is_edited,omitempty"`
}

// Attachment is a file attached to a task. DownloadURL is short-lived
// (about two minutes) and must never be stored; Download fetches a fresh one.
type Attachment struct {
	GID             string    `json:"gid"`
	ResourceType    string    `json:"resource_type"`
	ResourceSubtype string    `json:"resource_subtype,omitempty"`
	Name            string    `json:"name"`
	Size            int64     `json:"size,omitempty"`
	Host            string    `json:"host,omitempty"`
	DownloadURL     string    `json:"download_url,omitempty"`
	PermanentURL    string    `json:"permanent_url,omitempty"`
	CreatedAt       time.Time `json:"created_at,omitzero"`
	Parent          *Ref      `json:"parent,omitempty"`
}

// Event is one change reported by the Events API. Resource is the object
// that changed (a task, a story, an attachment), Parent the object it was
// added to or removed from, if any.
type Event struct {
	Action    string    `json:"action"`
	Resource  Ref       `json:"resource"`
	Parent    *Ref      `json:"parent"`
	User      *Ref      `json:"user"`
	CreatedAt time.Time `json:"created_at"`
	Change    *Change   `json:"change,omitempty"`
}

// Change details an event whose Action is "changed".
type Change struct {
	Field  string `json:"field"`
	Action string `json:"action"`
}

// EventPage is one answer of the Events API.
type EventPage struct {
	// Events are the changes since the token, oldest first.
	Events []Event
	// Sync is the token to pass next time. Always set.
	Sync string
	// HasMore says more events are waiting: call again at once with Sync.
	HasMore bool
	// Reset says the token given was missing, unknown or expired (Asana's
	// 412): events may have been missed, so the caller must reconcile by
	// listing what changed (ProjectTasks with ModifiedSince) and then go on
	// with Sync.
	Reset bool
}
