package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
)

// maxCommentPage is the largest comment page Jira serves.
const maxCommentPage = 5000

// renderComment writes a comment as Jira's Comment.
func (c *call) renderComment(is *issue, cm *comment) *object {
	o := &object{}
	o.Set("self", c.link("/issue/"+is.id+"/comment/"+cm.id))
	o.Set("id", cm.id)
	o.Set("author", c.userDetails())
	o.Set("body", cm.body)
	o.Set("updateAuthor", c.userDetails())
	o.Set("created", c.stamp(cm.created))
	o.Set("updated", c.stamp(cm.updated))
	o.Set("jsdPublic", true)
	return o
}

// getComments serves GET /issue/{issueIdOrKey}/comment: offset paging,
// oldest first unless orderBy=-created.
func (s *Sandbox) getComments(c *call) error {
	startAt, maxResults, err := c.pageParams(100, maxCommentPage)
	if err != nil {
		return err
	}
	order := c.r.URL.Query().Get("orderBy")
	switch order {
	case "", "created", "+created", "-created":
	default:
		return badRequest("Invalid orderBy value '%s'. Only 'created' can be used for ordering, optionally prefixed with + or -.", order)
	}
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	is := s.st.issue(c.r.PathValue("issueIdOrKey"))
	if is == nil {
		return issueNotFound()
	}
	all := is.cur.comments
	if order == "-created" {
		all = slices.Clone(all)
		slices.Reverse(all)
	}
	page := window(all, startAt, maxResults)
	cs := make([]any, len(page))
	for i := range page {
		cs[i] = c.renderComment(is, &page[i])
	}
	o := &object{}
	o.Set("comments", cs)
	o.Set("maxResults", maxResults)
	o.Set("total", len(all))
	o.Set("startAt", startAt)
	writeJSON(c.w, http.StatusOK, o)
	return nil
}

// emptyComment is Jira's 400 for a comment with nothing to show: no body,
// a null one, or a document with no text.
func emptyComment() *apiError {
	return fieldErrors(map[string]string{"comment": "Comment body can not be empty!"})
}

// commentBody reads and checks the body member of a comment write. A
// document with nothing to show is refused as Jira does, on add and on
// edit alike.
func commentBody(c *call) (json.RawMessage, error) {
	in, err := c.decodeJSON()
	if err != nil {
		return nil, err
	}
	raw, ok := in["body"]
	if !ok || string(bytes.TrimSpace(raw)) == "null" || adfBlank(raw) {
		return nil, emptyComment()
	}
	doc, err := checkADF(raw)
	if err != nil {
		return nil, fieldErrors(map[string]string{"comment": adfInvalid})
	}
	return doc, nil
}

// addComment serves POST /issue/{issueIdOrKey}/comment → 201 Comment. The
// issue's updated moves too, as in Jira.
func (s *Sandbox) addComment(c *call) error {
	body, err := commentBody(c)
	if err != nil {
		return err
	}
	return s.withIssue(c, func(st *store, is *issue) error {
		at := st.tick()
		is.cur.comments = append(is.cur.comments, comment{id: st.newCommentID(), body: body, created: at, updated: at})
		st.indexed(is, at)
		writeJSON(c.w, http.StatusCreated, c.renderComment(is, &is.cur.comments[len(is.cur.comments)-1]))
		return nil
	})
}

// updateComment serves PUT /issue/{issueIdOrKey}/comment/{id} → 200
// Comment (updateComment in the OpenAPI subset's errata). Only the author may edit a comment; the sandbox has one user, who wrote
// them all.
func (s *Sandbox) updateComment(c *call) error {
	body, err := commentBody(c)
	if err != nil {
		return err
	}
	return s.withIssue(c, func(st *store, is *issue) error {
		id := c.r.PathValue("id")
		i := slices.IndexFunc(is.cur.comments, func(cm comment) bool { return cm.id == id })
		if i < 0 {
			return newError(http.StatusNotFound, "Can not find a comment for the id: %s.", id)
		}
		cm := &is.cur.comments[i]
		if !bytes.Equal(cm.body, body) {
			at := st.tick()
			cm.body, cm.updated = body, at
			st.indexed(is, at)
		}
		writeJSON(c.w, http.StatusOK, c.renderComment(is, cm))
		return nil
	})
}
