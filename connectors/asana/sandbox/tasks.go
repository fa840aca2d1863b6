package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// taskInput is the validated data of a POST or PUT on tasks. Pointers are
// nil when the member was absent.
type taskInput struct {
	name           *string
	htmlNotes      *string
	subtype        *string
	completed      *bool
	approvalStatus *string
	assignee       **user
	dueOn, dueAt   *string
	startOn        *string
	customFields   []cfChange // read apart, once the task's projects are known
	// create only
	workspace   string
	memberships []membership
	followers   []*user
	tags        []*tag
}

// parseTaskInput validates everything before anything changes, the way
// Asana refuses a whole request for one bad member. Callers hold the store
// lock (it looks up users, projects and sections).
func (s *Sandbox) parseTaskInput(data map[string]json.RawMessage, create bool) (*taskInput, error) {
	st := s.st
	in := &taskInput{}
	if v, ok, err := str(data, "name"); err != nil {
		return nil, err
	} else if ok {
		in.name = &v
	}
	notes, hasNotes, err := str(data, "notes")
	if err != nil {
		return nil, err
	}
	html, hasHTML, err := str(data, "html_notes")
	if err != nil {
		return nil, err
	}
	switch {
	case hasNotes && hasHTML:
		return nil, badRequest("html_notes: You may only specify one of notes and html_notes")
	case hasHTML:
		if html == "" {
			html = "<body></body>"
		}
		if e := validateRichText("html_notes", html); e != nil {
			return nil, e
		}
		in.htmlNotes = &html
	case hasNotes:
		h := textToHTML(notes)
		in.htmlNotes = &h
	}
	if v, ok, err := str(data, "resource_subtype"); err != nil {
		return nil, err
	} else if ok {
		switch v {
		case "default_task", "milestone", "approval":
		case "custom":
			return nil, badRequest("resource_subtype: custom requires custom_type, which the sandbox does not model")
		default:
			return nil, badRequest("resource_subtype: Invalid value %q (want default_task, milestone or approval)", v)
		}
		in.subtype = &v
	}
	if v, ok, err := boolean(data, "completed"); err != nil {
		return nil, err
	} else if ok {
		in.completed = &v
	}
	if v, ok, err := str(data, "approval_status"); err != nil {
		return nil, err
	} else if ok {
		switch v {
		case "pending", "approved", "rejected", "changes_requested":
		default:
			return nil, badRequest("approval_status: Invalid value %q", v)
		}
		in.approvalStatus = &v
	}
	if v, ok, err := str(data, "assignee"); err != nil {
		return nil, err
	} else if ok {
		var u *user
		if v != "" {
			if u = st.user(v); u == nil {
				return nil, unknownParam("assignee", v)
			}
		}
		in.assignee = &u
	}
	for _, f := range []struct {
		name   string
		dst    **string
		layout string
	}{{"due_on", &in.dueOn, time.DateOnly}, {"due_at", &in.dueAt, time.RFC3339}, {"start_on", &in.startOn, time.DateOnly}} {
		v, ok, err := str(data, f.name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if v != "" {
			t, perr := time.Parse(f.layout, v)
			if perr != nil {
				return nil, badRequest("%s: Not a valid date: %q", f.name, v)
			}
			if f.layout == time.RFC3339 {
				v = t.UTC().Format(tsLayout)
			}
		}
		*f.dst = &v
	}
	if !create {
		for _, name := range []string{"memberships", "projects", "workspace", "parent", "tags", "followers"} {
			if _, ok := data[name]; ok {
				return nil, badRequest("%s: Cannot be changed with PUT after the task is created; use addProject, removeProject and friends", name)
			}
		}
		return in, nil
	}
	return in, s.parseCreateOnly(data, in)
}

// parseCreateOnly reads where a new task goes: workspace, projects or
// memberships (project plus optional section).
func (s *Sandbox) parseCreateOnly(data map[string]json.RawMessage, in *taskInput) error {
	st := s.st
	if v, ok, err := str(data, "workspace"); err != nil {
		return err
	} else if ok && v != "" {
		if v != st.ws.gid {
			return unknownParam("workspace", v)
		}
		in.workspace = v
	}
	if _, ok := data["parent"]; ok && string(data["parent"]) != "null" {
		return badRequest("parent: Subtasks are not supported by the sandbox")
	}
	seen := map[string]bool{}
	add := func(p *project, sec *section) {
		if seen[p.gid] {
			return
		}
		seen[p.gid] = true
		if sec == nil {
			sec = p.sections[0]
		}
		in.memberships = append(in.memberships, membership{project: p, section: sec})
	}
	projects, _, err := strs(data, "projects")
	if err != nil {
		return err
	}
	for _, gid := range projects {
		p := st.project(gid)
		if p == nil {
			return unknownParam("projects", gid)
		}
		add(p, nil)
	}
	if raw, ok := data["memberships"]; ok {
		var ms []struct {
			Project string `json:"project"`
			Section string `json:"section"`
		}
		if err := json.Unmarshal(raw, &ms); err != nil {
			return badRequest("memberships: Not an array of {project, section} objects")
		}
		for _, m := range ms {
			p := st.project(m.Project)
			if p == nil {
				return unknownParam("memberships.project", m.Project)
			}
			var sec *section
			if m.Section != "" {
				if sec = st.section(m.Section); sec == nil {
					return unknownParam("memberships.section", m.Section)
				}
				if sec.project != p {
					return badRequest("memberships.section: Section %s is not in project %s", sec.gid, p.gid)
				}
			}
			add(p, sec)
		}
	}
	if in.workspace == "" && len(in.memberships) == 0 {
		return badRequest("workspace: Missing input; a new task needs a workspace, projects or memberships")
	}
	followers, _, err := strs(data, "followers")
	if err != nil {
		return err
	}
	for _, ref := range followers {
		u := st.user(ref)
		if u == nil {
			return unknownParam("followers", ref)
		}
		in.followers = append(in.followers, u)
	}
	tags, _, err := strs(data, "tags")
	if err != nil {
		return err
	}
	in.tags, err = st.parseTags(tags)
	return err
}

// getTask serves GET /tasks/{task_gid}.
func (s *Sandbox) getTask(c *call) error {
	return getOne(c, "task_gid", s.schema.task, s.st.task)
}

// createTask serves POST /tasks: 201 with a Location header.
func (s *Sandbox) createTask(c *call) error {
	data, sel, err := c.input(s.schema.task)
	if err != nil {
		return err
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	in, err := s.parseTaskInput(data, true)
	if err != nil {
		return err
	}
	if in.customFields, err = st.parseCustomFields(data, customFieldsOf(in.memberships)); err != nil {
		return err
	}
	t := st.createTask(in, st.me, st.tick())
	c.w.Header().Set("Location", c.location("/tasks/"+t.gid))
	return c.writeFull(http.StatusCreated, s.schema.task, t, sel)
}

// createTask adds a task and its events. Callers hold the write lock.
func (st *store) createTask(in *taskInput, by *user, at time.Time) *task {
	t := &task{
		gid:            st.runtimeGID(),
		subtype:        "default_task",
		htmlNotes:      "<body></body>",
		createdAt:      at,
		modifiedAt:     at,
		createdBy:      by,
		approvalStatus: "pending",
		memberships:    in.memberships,
		followers:      []*user{by},
		tags:           in.tags,
	}
	for _, u := range in.followers {
		if u != by {
			t.followers = append(t.followers, u)
		}
	}
	st.objects[t.gid] = t
	st.applyTask(t, in, by, at, false)
	for _, m := range t.memberships {
		m.project.tasks = append(m.project.tasks, t)
		st.taskAdded(t, m.project, by, at)
	}
	return t
}

// updateTask serves PUT /tasks/{task_gid}.
func (s *Sandbox) updateTask(c *call) error {
	gid, err := c.pathGID("task_gid")
	if err != nil {
		return err
	}
	data, sel, err := c.input(s.schema.task)
	if err != nil {
		return err
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.task(gid)
	if t == nil {
		return unknownObject(gid)
	}
	in, err := s.parseTaskInput(data, false)
	if err != nil {
		return err
	}
	if in.customFields, err = st.parseCustomFields(data, t.customFields()); err != nil {
		return err
	}
	st.applyTask(t, in, st.me, st.tick(), true)
	return c.writeFull(http.StatusOK, s.schema.task, t, sel)
}

// applyTask writes the changed members of in to t. On updates (record) each
// real change bumps modified_at and, like Asana, leaves a system story and a
// "changed" event behind.
func (st *store) applyTask(t *task, in *taskInput, by *user, at time.Time, record bool) {
	changed := func(field string, newValue any, sys *story) {
		t.touch(at)
		if !record {
			return
		}
		st.taskChanged(t, by, at, field, newValue)
		if sys != nil {
			st.addSystemStory(t, sys, by, at)
		}
	}
	if in.name != nil && *in.name != t.name {
		old := t.name
		t.name = *in.name
		changed("name", nil, &story{subtype: "name_changed", text: "changed the name to \"" + t.name + "\"", oldName: old, newName: t.name})
	}
	if in.htmlNotes != nil && *in.htmlNotes != t.htmlNotes {
		t.htmlNotes = *in.htmlNotes
		changed("notes", nil, &story{subtype: "notes_changed", text: "changed the description"})
	}
	if in.subtype != nil && *in.subtype != t.subtype {
		old := t.subtype
		t.subtype = *in.subtype
		changed("resource_subtype", nil, &story{subtype: "resource_subtype_changed",
			text: "changed this task from " + subtypeWords(old) + " to " + subtypeWords(t.subtype), oldSubtype: old, newSubtype: t.subtype})
	}
	if in.approvalStatus != nil && *in.approvalStatus != t.approvalStatus {
		t.approvalStatus = *in.approvalStatus
		changed("approval_status", nil, nil)
		done := t.approvalStatus != "pending"
		in.completed = &done
	}
	if in.completed != nil && *in.completed != t.completed {
		t.completed = *in.completed
		sys := &story{subtype: "marked_incomplete", text: "marked incomplete"}
		if t.completed {
			t.completedAt, t.completedBy = at, by
			sys = &story{subtype: "marked_complete", text: "marked this task complete"}
			if t.subtype == "approval" && t.approvalStatus == "pending" {
				t.approvalStatus = "approved"
			}
		} else {
			t.completedAt, t.completedBy = time.Time{}, nil
			if t.subtype == "approval" {
				t.approvalStatus = "pending"
			}
		}
		changed("completed", nil, sys)
	}
	if in.assignee != nil && *in.assignee != t.assignee {
		t.assignee = *in.assignee
		if t.assignee == nil {
			changed("assignee", nil, &story{subtype: "unassigned", text: "unassigned"})
		} else {
			if !slices.Contains(t.followers, t.assignee) {
				t.followers = append(t.followers, t.assignee) // Asana makes the assignee a collaborator
			}
			changed("assignee", t.assignee, &story{subtype: "assigned", text: "assigned to " + t.assignee.name, assignee: t.assignee})
		}
	}
	for _, f := range []struct {
		field string
		dst   *string
		v     *string
	}{{"due_on", &t.dueOn, in.dueOn}, {"due_at", &t.dueAt, in.dueAt}, {"start_on", &t.startOn, in.startOn}} {
		if f.v != nil && *f.v != *f.dst {
			*f.dst = *f.v
			changed(f.field, nil, &story{subtype: "due_date_changed", text: "changed the due date"})
		}
	}
	st.applyCustomFields(t, in.customFields, by, at, record)
}

func subtypeWords(subtype string) string {
	switch subtype {
	case "milestone":
		return "a milestone"
	case "approval":
		return "an approval"
	}
	return "a task"
}

// deleteTask serves DELETE /tasks/{task_gid}.
func (s *Sandbox) deleteTask(c *call) error {
	return deleteOne(c, "task_gid", s.st.task, s.st.deleteTask)
}

// deleteTask removes t from its projects and its stories and attachments
// from the store. t itself stays, marked deleted, so that its events can
// still be read. Callers hold the write lock.
func (st *store) deleteTask(t *task) error {
	at := st.tick()
	t.touch(at)
	st.taskDeleted(t, st.me, at)
	t.deleted = true
	for _, m := range t.memberships {
		m.project.tasks = removeItem(m.project.tasks, t)
	}
	for _, x := range t.stories {
		delete(st.objects, x.gid)
	}
	for _, a := range t.attachments {
		delete(st.objects, a.gid)
	}
	return nil
}

func removeItem[T comparable](xs []T, x T) []T {
	out := xs[:0:0]
	for _, y := range xs {
		if y != x {
			out = append(out, y)
		}
	}
	return out
}
