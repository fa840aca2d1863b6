package sandbox

import (
	"strings"
)

// Workflows: an issue's status changes only through a transition of its
// project's workflow, never by an edit. Statuses belong to the site (the
// same ids in every workflow) and each to one of Jira's fixed categories,
// which is what tells clients that an issue is done.

// statusCategory is one of Jira's status categories.
type statusCategory struct {
	id               int
	key, name, color string
}

// status is a workflow status of the site.
type status struct {
	id, name, description string
	category              statusCategory
}

// Jira's categories, with their ids and keys as Jira Cloud has them.
var (
	categoryToDo       = statusCategory{2, "new", "To Do", "blue-gray"}
	categoryInProgress = statusCategory{4, "indeterminate", "In Progress", "yellow"}
	categoryDone       = statusCategory{3, "done", "Done", "green"}
)

// siteStatuses are a new site's statuses: Jira's defaults, and a review
// step some teams add.
func siteStatuses() []*status {
	return []*status{
		{"10000", "To Do", "", categoryToDo},
		{"3", "In Progress", "This issue is being actively worked on at the moment by the assignee.", categoryInProgress},
		{"10002", "In Review", "The work is done and waits for a review.", categoryInProgress},
		{"10001", "Done", "", categoryDone},
	}
}

// statusNamed finds one of statuses by name, without regard to case.
func statusNamed(statuses []*status, name string) *status {
	for _, s := range statuses {
		if strings.EqualFold(s.name, name) {
			return s
		}
	}
	return nil
}

// workflow is a project's workflow: its statuses (the first is where new
// issues start) and the transitions between them.
type workflow struct {
	name        string
	statuses    []*status
	transitions []*transition
}

// transition moves an issue to a status. One with no from is global: it
// leads from any other status, as the transitions of Jira's simplified
// workflows do.
type transition struct {
	id, name string
	from     []*status
	to       *status
}

// newWorkflow builds a project's workflow on the site's statuses: Jira's
// simplified workflow (any status to To Do, In Progress or Done), and with
// review, an In Review status reached only from In Progress, so that some
// moves (To Do to In Review) have no transition.
func newWorkflow(statuses []*status, projectKey string, review bool) *workflow {
	todo, doing, done := statusNamed(statuses, "To Do"), statusNamed(statuses, "In Progress"), statusNamed(statuses, "Done")
	wf := &workflow{
		name:     "Software Simplified Workflow for Project " + projectKey,
		statuses: []*status{todo, doing, done},
		transitions: []*transition{
			{id: "11", name: "To Do", to: todo},
			{id: "21", name: "In Progress", to: doing},
			{id: "31", name: "Done", to: done},
		},
	}
	if review {
		inReview := statusNamed(statuses, "In Review")
		wf.statuses = []*status{todo, doing, inReview, done}
		wf.transitions = append(wf.transitions, &transition{id: "41", name: "Request review", from: []*status{doing}, to: inReview})
	}
	return wf
}

// initial is where new issues start.
func (wf *workflow) initial() *status { return wf.statuses[0] }

// status finds a status of the workflow by id.
func (wf *workflow) status(id string) *status {
	for _, s := range wf.statuses {
		if s.id == id {
			return s
		}
	}
	return nil
}

// available lists the transitions an issue in status from can take, in
// the workflow's order; none leads to the status it is in.
func (wf *workflow) available(from *status) []*transition {
	var out []*transition
	for _, t := range wf.transitions {
		if t.to == from {
			continue
		}
		if len(t.from) == 0 || containsStatus(t.from, from) {
			out = append(out, t)
		}
	}
	return out
}

func containsStatus(list []*status, s *status) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// priority is one of the site's priorities.
type priority struct {
	id, name, description, color, icon string
}

// newPriorities are Jira Cloud's default priorities, highest first.
func newPriorities() []*priority {
	return []*priority{
		{"1", "Highest", "This problem will block progress.", "#d04437", "highest"},
		{"2", "High", "Serious problem that could block progress.", "#f15C75", "high"},
		{"3", "Medium", "Has the potential to affect progress.", "#f79232", "medium"},
		{"4", "Low", "Minor problem or easily worked around.", "#707070", "low"},
		{"5", "Lowest", "Trivial problem with little or no impact on progress.", "#999999", "lowest"},
	}
}

// defaultPriority is the priority new issues get: Medium.
func defaultPriority(ps []*priority) *priority {
	for _, p := range ps {
		if p.name == "Medium" {
			return p
		}
	}
	return nil
}

// findPriority finds a priority by id, or else by name without regard to
// case.
func findPriority(ps []*priority, id, name string) *priority {
	for _, p := range ps {
		if (id != "" && p.id == id) || (id == "" && strings.EqualFold(p.name, name)) {
			return p
		}
	}
	return nil
}

// renderStatus writes a status as Jira's StatusDetails.
func (c *call) renderStatus(s *status) *object {
	cat := &object{}
	cat.Set("self", c.link("/statuscategory/"+itoa(s.category.id)))
	cat.Set("id", s.category.id)
	cat.Set("key", s.category.key)
	cat.Set("colorName", s.category.color)
	cat.Set("name", s.category.name)
	o := &object{}
	o.Set("self", c.link("/status/"+s.id))
	o.Set("description", s.description)
	o.Set("iconUrl", c.base+"/images/icons/statuses/generic.png")
	o.Set("name", s.name)
	o.Set("id", s.id)
	o.Set("statusCategory", cat)
	return o
}

// renderPriority writes a priority as issues embed it.
func (c *call) renderPriority(p *priority) *object {
	o := &object{}
	o.Set("self", c.link("/priority/"+p.id))
	o.Set("iconUrl", c.base+"/images/icons/priorities/"+p.icon+".svg")
	o.Set("name", p.name)
	o.Set("id", p.id)
	return o
}
