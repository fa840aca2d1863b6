package sandbox

import (
	"slices"
	"time"
)

// taskFilter holds the time filters shared by the task lists.
type taskFilter struct {
	modifiedSince  time.Time
	completedSince time.Time
	incompleteOnly bool
}

func (f taskFilter) keep(t *task) bool {
	if !f.modifiedSince.IsZero() && t.modifiedAt.Before(f.modifiedSince) {
		return false
	}
	if t.completed {
		if f.incompleteOnly {
			return false
		}
		if !f.completedSince.IsZero() && t.completedAt.Before(f.completedSince) {
			return false
		}
	}
	return true
}

// parseTaskFilter reads completed_since (a date-time or "now") and
// modified_since (a date-time).
func (c *call) parseTaskFilter() (taskFilter, error) {
	var f taskFilter
	q := c.r.URL.Query()
	if v := q.Get("completed_since"); v != "" {
		if v == "now" {
			f.incompleteOnly = true
		} else {
			t, err := parseDateTime(v)
			if err != nil {
				return f, badRequest("completed_since: Not a valid date-time: %q", v)
			}
			f.completedSince = t
		}
	}
	if v := q.Get("modified_since"); v != "" {
		t, err := parseDateTime(v)
		if err != nil {
			return f, badRequest("modified_since: Not a valid date-time: %q", v)
		}
		// Timestamps are kept to the millisecond, like Asana's.
		f.modifiedSince = t.Truncate(time.Millisecond)
	}
	return f, nil
}

// parseDateTime accepts ISO 8601 date-times, and plain dates as midnight UTC
// as Asana does.
func parseDateTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, v)
}

// getProjectTasks serves GET /projects/{project_gid}/tasks.
func (s *Sandbox) getProjectTasks(c *call) error {
	gid, err := c.pathGID("project_gid")
	if err != nil {
		return err
	}
	sel, err := c.selection(s.schema.task, true)
	if err != nil {
		return err
	}
	return s.listTasks(c, sel, func() ([]*task, error) {
		p := s.st.project(gid)
		if p == nil {
			return nil, unknownObject(gid)
		}
		return p.tasks, nil
	})
}

// getTasks serves GET /tasks: by project, by section, or by assignee in a
// workspace, optionally modified or completed since a time.
func (s *Sandbox) getTasks(c *call) error {
	sel, err := c.selection(s.schema.task, true)
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	projectGID, err := c.queryGID("project")
	if err != nil {
		return err
	}
	sectionGID, err := c.queryGID("section")
	if err != nil {
		return err
	}
	wsGID, err := c.queryGID("workspace")
	if err != nil {
		return err
	}
	assignee := q.Get("assignee")
	n := 0
	for _, set := range []bool{projectGID != "", sectionGID != "", assignee != "" || wsGID != ""} {
		if set {
			n++
		}
	}
	if n != 1 || (assignee == "") != (wsGID == "") {
		return badRequest("Must specify exactly one of project, tag, section, user task list, or assignee + workspace")
	}
	return s.listTasks(c, sel, func() ([]*task, error) {
		return s.st.tasksFor(projectGID, sectionGID, wsGID, assignee)
	})
}

// listTasks answers a task list: completed_since and modified_since, then
// the page, applied to what tasks returns. tasks runs under the read lock.
func (s *Sandbox) listTasks(c *call, sel map[string]*fieldNode, tasks func() ([]*task, error)) error {
	f, err := c.parseTaskFilter()
	if err != nil {
		return err
	}
	pg, err := c.paging()
	if err != nil {
		return err
	}
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	ts, err := tasks()
	if err != nil {
		return err
	}
	return writePage(c, s.schema.task, filterTasks(ts, f), sel, pg)
}

// tasksFor lists the tasks of a project, of a section, or assigned to
// assignee in the workspace: whichever one of them GET /tasks named.
// Callers hold the read lock.
func (st *store) tasksFor(projectGID, sectionGID, wsGID, assignee string) ([]*task, error) {
	switch {
	case projectGID != "":
		p := st.project(projectGID)
		if p == nil {
			return nil, unknownParam("project", projectGID)
		}
		return p.tasks, nil
	case sectionGID != "":
		sec := st.section(sectionGID)
		if sec == nil {
			return nil, unknownParam("section", sectionGID)
		}
		var tasks []*task
		for _, t := range sec.project.tasks {
			for _, m := range t.memberships {
				if m.section == sec {
					tasks = append(tasks, t)
				}
			}
		}
		return tasks, nil
	default:
		if wsGID != st.ws.gid {
			return nil, unknownParam("workspace", wsGID)
		}
		u := st.user(assignee)
		if u == nil {
			return nil, unknownParam("assignee", assignee)
		}
		return st.assignedTo(u), nil
	}
}

// assignedTo lists the live tasks assigned to u, in gid order.
func (st *store) assignedTo(u *user) []*task {
	var out []*task
	for _, p := range st.projects {
		for _, t := range p.tasks {
			if t.assignee == u {
				out = append(out, t)
			}
		}
	}
	for _, o := range st.objects {
		if t, ok := o.(*task); ok && !t.deleted && t.assignee == u && len(t.memberships) == 0 {
			out = append(out, t)
		}
	}
	seen := map[*task]bool{}
	uniq := out[:0]
	for _, t := range out {
		if !seen[t] {
			seen[t] = true
			uniq = append(uniq, t)
		}
	}
	slices.SortFunc(uniq, func(a, b *task) int { return cmpGID(a.gid, b.gid) })
	return uniq
}

func filterTasks(ts []*task, f taskFilter) []*task {
	var out []*task
	for _, t := range ts {
		if f.keep(t) {
			out = append(out, t)
		}
	}
	return out
}
