package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxSummary is Jira's limit on a summary's length.
const maxSummary = 255

// maxEmbeddedComments bounds fields.comment, as Jira's server limit does
// (WithEmbeddedComments lowers it).
const maxEmbeddedComments = 5000

// issueExpand is the expand list Jira puts on every issue.
const issueExpand = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"

// issueFields are the fields the sandbox keeps, in Jira's order; navigable
// marks those *navigable returns (comment is not navigable in Jira).
var issueFields = []struct {
	name      string
	navigable bool
}{
	{"summary", true}, {"issuetype", true}, {"project", true}, {"created", true},
	{"updated", true}, {"status", true}, {"assignee", true}, {"priority", true},
	{"duedate", true}, {"labels", true}, {"description", true}, {"attachment", true},
	{"comment", false},
}

// selection is a parsed fields parameter.
type selection struct {
	idOnly bool
	names  map[string]bool
}

// parseFields reads Jira's fields list: *all, *navigable, names, and -name
// exclusions, comma-separated in one or more values. Unknown names are
// ignored, as Jira does. def applies when nothing is given.
func parseFields(values []string, def string) selection {
	var items []string
	for _, v := range values {
		for _, it := range strings.Split(v, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
	}
	if len(items) == 0 {
		items = []string{def}
	}
	sel := selection{names: map[string]bool{}}
	var excluded []string
	onlyID := true
	for _, it := range items {
		switch {
		case it == "*all":
			onlyID = false
			for _, f := range issueFields {
				sel.names[f.name] = true
			}
		case it == "*navigable":
			onlyID = false
			for _, f := range issueFields {
				sel.names[f.name] = sel.names[f.name] || f.navigable
			}
		case strings.HasPrefix(it, "-"):
			excluded = append(excluded, it[1:])
		case it == "id":
		default:
			onlyID = false
			sel.names[it] = true
		}
	}
	for _, x := range excluded {
		delete(sel.names, x)
	}
	sel.idOnly = onlyID
	return sel
}

// renderIssue writes an issue (in state st, which search may take from its
// lagging index) as Jira's IssueBean with the selected fields.
func (c *call) renderIssue(is *issue, st *issueState, sel selection) *object {
	o := &object{}
	if sel.idOnly {
		o.Set("id", is.id)
		return o
	}
	o.Set("expand", issueExpand)
	o.Set("id", is.id)
	o.Set("self", c.link("/issue/"+is.id))
	o.Set("key", is.key)
	f := &object{}
	for _, fd := range issueFields {
		if !sel.names[fd.name] {
			continue
		}
		switch fd.name {
		case "summary":
			f.Set("summary", st.summary)
		case "issuetype":
			f.Set("issuetype", c.renderIssueType(st.itype))
		case "project":
			p := &object{}
			p.Set("self", c.link("/project/"+is.project.id))
			p.Set("id", is.project.id)
			p.Set("key", is.project.key)
			p.Set("name", is.project.name)
			p.Set("projectTypeKey", "software")
			p.Set("simplified", true)
			f.Set("project", p)
		case "created":
			f.Set("created", c.stamp(st.created))
		case "updated":
			f.Set("updated", c.stamp(st.updated))
		case "status":
			f.Set("status", c.renderStatus(st.status))
		case "assignee":
			if st.assignee == nil {
				f.Set("assignee", nil)
			} else {
				f.Set("assignee", c.renderUser(st.assignee))
			}
		case "priority":
			if st.priority == nil {
				f.Set("priority", nil)
			} else {
				f.Set("priority", c.renderPriority(st.priority))
			}
		case "duedate":
			if st.duedate == "" {
				f.Set("duedate", nil)
			} else {
				f.Set("duedate", st.duedate)
			}
		case "labels":
			f.Set("labels", append([]string{}, st.labels...))
		case "description":
			if st.description == nil {
				f.Set("description", nil)
			} else {
				f.Set("description", st.description)
			}
		case "attachment":
			atts := make([]any, len(st.attachments))
			for i, a := range st.attachments {
				atts[i] = c.renderAttachment(a)
			}
			f.Set("attachment", atts)
		case "comment":
			list := window(st.comments, 0, c.s.embedded)
			cs := make([]any, len(list))
			for i := range list {
				cs[i] = c.renderComment(is, &list[i])
			}
			page := &object{}
			page.Set("comments", cs)
			page.Set("self", c.link("/issue/"+is.id+"/comment"))
			page.Set("maxResults", len(cs))
			page.Set("total", len(st.comments))
			page.Set("startAt", 0)
			f.Set("comment", page)
		}
	}
	o.Set("fields", f)
	return o
}

// getIssue serves GET /issue/{issueIdOrKey}; fields defaults to *all.
func (s *Sandbox) getIssue(c *call) error {
	sel := parseFields(c.r.URL.Query()["fields"], "*all")
	if sel.idOnly {
		sel = selection{names: map[string]bool{}} // an issue always has id, key, self
	}
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	is := s.st.issue(c.r.PathValue("issueIdOrKey"))
	if is == nil {
		return issueNotFound()
	}
	writeJSON(c.w, http.StatusOK, c.renderIssue(is, &is.cur, sel))
	return nil
}

// issueInput is a checked fields object of a create or edit.
type issueInput struct {
	project     *project
	itype       *issueType
	summary     *string
	description json.RawMessage // set when hasDesc; nil means null
	hasDesc     bool
	typeRef     json.RawMessage
	// The fields beyond the Basic ones, each set when its has… is.
	assignee    *user // nil: unassigned
	hasAssignee bool
	priority    *priority // nil: none
	hasPriority bool
	duedate     string // "" clears
	hasDuedate  bool
	labels      []string // sorted, without duplicates
	hasLabels   bool
}

// readIssueInput checks fields against Jira's rules and collects one error
// per field. p is the issue's project on edit, nil on create. Callers hold
// the store lock.
func (s *Sandbox) readIssueInput(fields map[string]json.RawMessage, p *project) (*issueInput, error) {
	in := &issueInput{project: p}
	errs := map[string]string{}
	create := p == nil
	for name, raw := range fields {
		switch name {
		case "project":
			if !create {
				errs[name] = "Field 'project' cannot be set. It is not on the appropriate screen, or unknown."
				continue
			}
			if id, key, ok := reference(raw); ok {
				if id != "" {
					key = id
				}
				in.project = s.st.project(key)
			}
			if in.project == nil {
				errs[name] = "Specify a valid project ID or key"
			}
		case "issuetype":
			in.typeRef = raw
		case "summary":
			v, ok := rawString(raw)
			switch {
			case !ok && string(raw) != "null":
				errs[name] = "Operation value must be a string"
			case strings.TrimSpace(v) == "":
				errs[name] = "You must specify a summary of the issue."
			case utf8.RuneCountInString(v) > maxSummary:
				errs[name] = "Summary must be less than 255 characters."
			default:
				v = strings.TrimSpace(v)
				in.summary = &v
			}
		case "description":
			in.hasDesc = true
			if string(bytes.TrimSpace(raw)) == "null" {
				continue
			}
			doc, err := checkADF(raw)
			if err != nil {
				errs[name] = adfInvalid
				continue
			}
			in.description = doc
		case "assignee", "priority", "duedate", "labels":
			if msg := s.readField(in, name, raw); msg != "" {
				errs[name] = msg
			}
		default:
			// status among them: it changes only through a transition.
			errs[name] = "Field '" + name + "' cannot be set. It is not on the appropriate screen, or unknown."
		}
	}
	if create {
		if _, ok := fields["project"]; !ok {
			errs["project"] = "Specify a valid project ID or key"
		}
		if _, ok := fields["summary"]; !ok {
			errs["summary"] = "You must specify a summary of the issue."
		}
		if in.typeRef == nil {
			errs["issuetype"] = "Specify an issue type"
		}
	}
	if in.typeRef != nil && in.project != nil {
		id, name, ok := reference(in.typeRef)
		if ok {
			in.itype = in.project.issueType(id, name)
		}
		if in.itype == nil {
			errs["issuetype"] = "Specify a valid issue type"
		}
	}
	if len(errs) > 0 {
		return nil, fieldErrors(errs)
	}
	return in, nil
}

// withIssue runs fn under the store's write lock on the issue named in
// the path; an unknown issue is Jira's 404.
func (s *Sandbox) withIssue(c *call, fn func(st *store, is *issue) error) error {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	is := st.issue(c.r.PathValue("issueIdOrKey"))
	if is == nil {
		return issueNotFound()
	}
	return fn(st, is)
}

// decodeFields reads a create or edit body and returns its fields member.
func (c *call) decodeFields() (map[string]json.RawMessage, error) {
	body, err := c.decodeJSON()
	if err != nil {
		return nil, err
	}
	for k, v := range body {
		switch k {
		case "fields", "properties", "historyMetadata":
		case "update":
			var ops map[string]json.RawMessage
			if json.Unmarshal(v, &ops) != nil || len(ops) > 0 {
				return nil, badRequest("The sandbox supports only 'fields'; use fields instead of update operations.")
			}
		default:
			return nil, badRequest("Unrecognized field \"%s\".", k)
		}
	}
	var fields map[string]json.RawMessage
	if raw, ok := body["fields"]; ok && json.Unmarshal(raw, &fields) != nil {
		return nil, badRequest("Can not deserialize 'fields': it must be an object.")
	}
	if fields == nil {
		fields = map[string]json.RawMessage{}
	}
	return fields, nil
}

// createIssue serves POST /issue → 201 {id,key,self}.
func (s *Sandbox) createIssue(c *call) error {
	fields, err := c.decodeFields()
	if err != nil {
		return err
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	in, err := s.readIssueInput(fields, nil)
	if err != nil {
		return err
	}
	is := st.addIssue(in.project, in.itype, *in.summary, in.description, st.tick(), func(st *issueState) { in.apply(st) })
	o := &object{}
	o.Set("id", is.id)
	o.Set("key", is.key)
	o.Set("self", c.link("/issue/"+is.id))
	writeJSON(c.w, http.StatusCreated, o)
	return nil
}

// editIssue serves PUT /issue/{issueIdOrKey} → 204, or 200 with the issue
// when returnIssue=true. A write that changes nothing leaves updated alone,
// as Jira records no change for it.
func (s *Sandbox) editIssue(c *call) error {
	q := c.r.URL.Query()
	for _, name := range []string{"notifyUsers", "returnIssue", "overrideScreenSecurity", "overrideEditableFlag"} {
		if v := q.Get(name); v != "" && v != "true" && v != "false" {
			return badRequest("The value '%s' is not valid for the parameter '%s'.", v, name)
		}
	}
	fields, err := c.decodeFields()
	if err != nil {
		return err
	}
	return s.withIssue(c, func(st *store, is *issue) error {
		return s.edit(c, st, is, fields)
	})
}

// edit applies an editIssue body to is and answers; the caller holds the
// write lock.
func (s *Sandbox) edit(c *call, st *store, is *issue, fields map[string]json.RawMessage) error {
	in, err := s.readIssueInput(fields, is.project)
	if err != nil {
		return err
	}
	cur := &is.cur
	if in.itype != nil && in.itype.level != cur.itype.level {
		// As on Jira: an edit can't move an issue between hierarchy
		// levels (an Epic to a Task); that takes a move.
		return fieldErrors(map[string]string{"issuetype": "The issue type selected is invalid: an edit can't change an issue's hierarchy level (" +
			cur.itype.name + " to " + in.itype.name + "); move the issue instead."})
	}
	changed := false
	if in.summary != nil && *in.summary != cur.summary {
		cur.summary, changed = *in.summary, true
	}
	if in.hasDesc && !bytes.Equal(in.description, cur.description) {
		cur.description, changed = slices.Clone(in.description), true
	}
	if in.itype != nil && in.itype != cur.itype {
		cur.itype, changed = in.itype, true
	}
	if in.apply(cur) {
		changed = true
	}
	if changed {
		st.indexed(is, st.tick())
	}
	if c.r.URL.Query().Get("returnIssue") == "true" {
		writeJSON(c.w, http.StatusOK, c.renderIssue(is, cur, parseFields(nil, "*all")))
		return nil
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
