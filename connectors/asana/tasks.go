package asana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

// taskFields are every field the Basic rules need, and the fields beyond
// Basic Script mode maps (Entity.Fields), so that one GET per task is
// enough (gid and resource_type always come).
var taskFields = []string{
	"name", "resource_subtype", "html_notes", "permalink_url", "created_at", "modified_at",
	"completed", "memberships.project.name", "memberships.section.name", "workspace.name",
	"assignee.name", "due_on", "tags.name",
	"custom_fields.name", "custom_fields.resource_subtype", "custom_fields.display_value", "custom_fields.enum_value.name",
	"custom_fields.number_value",
}

// fieldOptions are what a task's custom fields accept, asked for only
// before setting some (TaskFieldOptions).
var fieldOptions = []string{"custom_fields.enum_options.name", "custom_fields.enum_options.enabled"}

// Task fetches one task with every field the Basic rules need, in one call.
func (c *Client) Task(ctx context.Context, gid string) (Task, error) {
	if err := checkGID("task", gid); err != nil {
		return Task{}, err
	}
	return get[Task](ctx, c, "/tasks/"+gid, "/tasks/{gid}", fields(taskFields...))
}

// TaskFieldOptions fetches a task as Task does, with the enum options of
// its custom fields too, in one call: what setting custom fields by option
// name needs.
func (c *Client) TaskFieldOptions(ctx context.Context, gid string) (Task, error) {
	if err := checkGID("task", gid); err != nil {
		return Task{}, err
	}
	return get[Task](ctx, c, "/tasks/"+gid, "/tasks/{gid}", fields(append(slices.Clone(taskFields), fieldOptions...)...))
}

// TaskQuery selects the tasks ProjectTasks lists.
type TaskQuery struct {
	// ModifiedSince keeps only tasks changed at or after this time (the
	// reconcile after an expired sync token). Zero lists every task.
	ModifiedSince time.Time
	// Full asks for every field Task returns, so a bulk sync needs no
	// further GET per task; otherwise tasks come in compact shape plus
	// modified_at and permalink_url.
	Full bool
}

// ProjectTasks lists the tasks of a project, following every page.
func (c *Client) ProjectTasks(ctx context.Context, projectGID string, q TaskQuery) ([]Task, error) {
	var all []Task
	err := c.ProjectTaskPages(ctx, projectGID, q, func(p []Task) error {
		all = append(all, p...)
		return nil
	})
	return all, err
}

// ProjectTaskPages lists the tasks of a project as ProjectTasks does, a
// page (up to 100 tasks) at a time: each gets every page in turn, and an
// error from it stops the listing. Nothing holds more than one page.
func (c *Client) ProjectTaskPages(ctx context.Context, projectGID string, q TaskQuery, each func([]Task) error) error {
	if err := checkGID("project", projectGID); err != nil {
		return err
	}
	v := fields("name", "resource_subtype", "modified_at", "permalink_url")
	if q.Full {
		v = fields(taskFields...)
	}
	v.Set("project", projectGID)
	if !q.ModifiedSince.IsZero() {
		v.Set("modified_since", q.ModifiedSince.UTC().Format(time.RFC3339Nano))
	}
	return pages(ctx, c, "/tasks", "/tasks", v, each)
}

// NewTask is what CreateTask needs.
type NewTask struct {
	// Project is the project the task is created in (memberships are set at
	// create only).
	Project string
	Name    string
	// HTMLNotes is the description as Asana rich text (<body>…</body>);
	// empty leaves it empty.
	HTMLNotes string
	// Subtype is default_task (when empty), milestone or approval.
	Subtype string
}

type taskWrite struct {
	Name            *string           `json:"name,omitempty"`
	HTMLNotes       *string           `json:"html_notes,omitempty"`
	ResourceSubtype *string           `json:"resource_subtype,omitempty"`
	Projects        []string          `json:"projects,omitempty"`
	Completed       *bool             `json:"completed,omitempty"`
	DueOn           *orNull           `json:"due_on,omitempty"`
	Assignee        *orNull           `json:"assignee,omitempty"`
	CustomFields    map[string]string `json:"custom_fields,omitempty"`
}

// orNull is a string sent as null when empty: how due_on and assignee are
// cleared.
type orNull string

func (s orNull) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// CreateTask creates a task in a project and returns it with every field
// Task returns, so no GET has to follow.
func (c *Client) CreateTask(ctx context.Context, t NewTask) (Task, error) {
	if err := checkGID("project", t.Project); err != nil {
		return Task{}, err
	}
	w := taskWrite{Name: &t.Name, Projects: []string{t.Project}}
	if t.HTMLNotes != "" {
		if err := richtext.Validate(t.HTMLNotes); err != nil {
			return Task{}, fmt.Errorf("asana: creating task %q: html_notes: %w", t.Name, err)
		}
		w.HTMLNotes = &t.HTMLNotes
	}
	if t.Subtype != "" {
		w.ResourceSubtype = &t.Subtype
	}
	return send[Task](ctx, c, http.MethodPost, "/tasks", "/tasks", fields(taskFields...), w)
}

// TaskUpdate changes the fields that are not nil.
type TaskUpdate struct {
	Name      *string
	HTMLNotes *string // Asana rich text
	Subtype   *string
	Completed *bool
	// DueOn is a date, YYYY-MM-DD; "" clears it.
	DueOn *string
	// Assignee is a user's gid or e-mail, or "me"; "" unassigns.
	Assignee *string
	// CustomFields maps custom field gids to values: an enum option's
	// gid, a text, a number written as text. The document types them as
	// strings only, so a value can't be cleared (null) but for a text's "".
	CustomFields map[string]string
}

func (u TaskUpdate) empty() bool {
	return u.Name == nil && u.HTMLNotes == nil && u.Subtype == nil && u.Completed == nil && u.DueOn == nil &&
		u.Assignee == nil && len(u.CustomFields) == 0
}

// UpdateTask changes a task and returns it with every field Task returns.
func (c *Client) UpdateTask(ctx context.Context, gid string, u TaskUpdate) (Task, error) {
	if err := checkGID("task", gid); err != nil {
		return Task{}, err
	}
	if u.empty() {
		return Task{}, errors.New("asana: updating task " + gid + ": nothing to change")
	}
	if u.HTMLNotes != nil {
		if err := richtext.Validate(*u.HTMLNotes); err != nil {
			return Task{}, fmt.Errorf("asana: updating task %s: html_notes: %w", gid, err)
		}
	}
	w := taskWrite{Name: u.Name, HTMLNotes: u.HTMLNotes, ResourceSubtype: u.Subtype, Completed: u.Completed,
		DueOn: (*orNull)(u.DueOn), Assignee: (*orNull)(u.Assignee), CustomFields: u.CustomFields}
	return send[Task](ctx, c, http.MethodPut, "/tasks/"+gid, "/tasks/{gid}", fields(taskFields...), w)
}

// DeleteTask deletes a task. The sync engine never propagates deletes; this
// exists for tests and clean-ups.
func (c *Client) DeleteTask(ctx context.Context, gid string) error {
	if err := checkGID("task", gid); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/tasks/" + gid, endpoint: "/tasks/{gid}", query: url.Values{}}, nil)
}
