package sandbox

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

const (
	// defaultSearchPage and maxSearchPage bound a search page. Jira serves
	// up to 5000 ids-only; the sandbox keeps one cap for every shape.
	defaultSearchPage = 50
	maxSearchPage     = 100
	// maxReconcile is how many ids reconcileIssues takes.
	maxReconcile = 50
)

// searchRequest is a search from either GET query parameters or a POST body.
type searchRequest struct {
	jql        string
	token      string
	maxResults int
	fields     []string
	reconcile  []string
}

// searchRemovedMessage is Jira Cloud's answer to the search operations it
// removed (CHANGE-2046), word for word.
const searchRemovedMessage = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. " +
	"A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"

// searchRemoved serves GET and POST /search, which Jira Cloud removed: 410
// Gone pointing to /search/jql, whatever the query or body.
func searchRemoved(*call) error {
	return newError(http.StatusGone, "%s", searchRemovedMessage)
}

// searchGet serves GET /search/jql.
func (s *Sandbox) searchGet(c *call) error {
	q := c.r.URL.Query()
	req := searchRequest{jql: q.Get("jql"), token: q.Get("nextPageToken"), fields: q["fields"]}
	var err error
	if req.maxResults, err = c.queryInt("maxResults", defaultSearchPage); err != nil {
		return err
	}
	for _, v := range q["reconcileIssues"] {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				req.reconcile = append(req.reconcile, id)
			}
		}
	}
	return s.search(c, req)
}

// searchPost serves POST /search/jql.
func (s *Sandbox) searchPost(c *call) error {
	body, err := c.decodeJSON()
	if err != nil {
		return err
	}
	var in struct {
		JQL           *string  `json:"jql"`
		NextPageToken *string  `json:"nextPageToken"`
		MaxResults    *int     `json:"maxResults"`
		Fields        []string `json:"fields"`
		Reconcile     []int64  `json:"reconcileIssues"`
	}
	raw, _ := json.Marshal(body)
	if err := json.Unmarshal(raw, &in); err != nil {
		return badRequest("Invalid request payload. Refer to the REST API documentation and try again.")
	}
	req := searchRequest{maxResults: defaultSearchPage, fields: in.Fields}
	if in.JQL != nil {
		req.jql = *in.JQL
	}
	if in.NextPageToken != nil {
		req.token = *in.NextPageToken
	}
	if in.MaxResults != nil {
		req.maxResults = *in.MaxResults
	}
	for _, id := range in.Reconcile {
		req.reconcile = append(req.reconcile, strconv.FormatInt(id, 10))
	}
	return s.search(c, req)
}

// search runs a parsed request against the (possibly lagging) index.
func (s *Sandbox) search(c *call, req searchRequest) error {
	if req.maxResults < 0 {
		return badRequest("The 'maxResults' parameter must not be negative.")
	}
	if req.maxResults == 0 {
		req.maxResults = defaultSearchPage
	}
	req.maxResults = min(req.maxResults, maxSearchPage)
	if len(req.reconcile) > maxReconcile {
		return badRequest("The 'reconcileIssues' parameter takes at most %d issue ids.", maxReconcile)
	}
	reconciled := map[string]bool{}
	for _, id := range req.reconcile {
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			return badRequest("The value '%s' is not a valid issue id for 'reconcileIssues'.", id)
		}
		reconciled[id] = true
	}
	q, err := parseJQL(req.jql, s.st.me.loc, c.now)
	if err != nil {
		return err
	}
	if len(q.clauses) == 0 {
		return badRequest("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
	}
	key := strings.TrimSpace(req.jql)
	offset := 0
	if req.token != "" {
		var ok bool
		if offset, ok = s.openToken(req.token, key, c.now); !ok {
			return badRequest("The provided next page token is invalid or expired.")
		}
	}
	sel := parseFields(req.fields, "id")

	st := s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.resolve(q); err != nil {
		return err
	}
	type hit struct {
		is *issue
		st *issueState
	}
	var hits []hit
	for _, is := range st.issues {
		state := st.searchable(is, c.now, reconciled[is.id])
		if state != nil && q.matches(is, state) {
			hits = append(hits, hit{is, state})
		}
	}
	order := q.order
	if len(order) == 0 {
		order = []jqlSort{{field: "key", desc: true}} // Jira's default: newest key first
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		for _, o := range order {
			var r int
			switch o.field {
			case "updated":
				r = a.st.updated.Compare(b.st.updated)
			case "created":
				r = a.st.created.Compare(b.st.created)
			case "key":
				r = cmp.Or(cmp.Compare(a.is.project.key, b.is.project.key), cmp.Compare(a.is.num, b.is.num))
			}
			if o.desc {
				r = -r
			}
			if r != 0 {
				return r
			}
		}
		return cmp.Compare(a.is.num, b.is.num)
	})
	page := window(hits, offset, req.maxResults)
	issues := make([]any, len(page))
	for i, h := range page {
		issues[i] = c.renderIssue(h.is, h.st, sel)
	}
	o := &object{}
	o.Set("issues", issues)
	last := offset+len(page) >= len(hits)
	if !last {
		o.Set("nextPageToken", s.makeToken(key, offset+len(page), c.now))
	}
	o.Set("isLast", last)
	writeJSON(c.w, http.StatusOK, o)
	return nil
}

// resolve checks the values of project, issuetype and key clauses against
// the store and normalises them, with Jira's messages for unknown ones.
// Callers hold the read lock.
func (st *store) resolve(q *jqlQuery) error {
	for i := range q.clauses {
		c := &q.clauses[i]
		for j, v := range c.values {
			switch c.field {
			case "project":
				p := st.project(v)
				if p == nil {
					for _, cand := range st.projects {
						if strings.EqualFold(cand.name, v) {
							p = cand
						}
					}
				}
				if p == nil {
					return jqlError("The value '%s' does not exist for the field 'project'.", v)
				}
				c.values[j] = p.id
			case "issuetype":
				found := false
				for _, p := range st.projects {
					for _, t := range p.types {
						found = found || t.id == v || strings.EqualFold(t.name, v)
					}
				}
				if !found {
					return jqlError("The value '%s' does not exist for the field 'issuetype'.", v)
				}
			case "key":
				is := st.issue(v)
				if is == nil {
					if _, err := strconv.Atoi(v); err == nil {
						c.values[j] = "" // an unknown id matches nothing, as in Jira
						continue
					}
					return jqlError("An issue with key '%s' does not exist for field 'key'.", v)
				}
				c.values[j] = is.id
			}
		}
	}
	return nil
}

// matches evaluates every clause on one state of an issue.
func (q *jqlQuery) matches(is *issue, st *issueState) bool {
	for _, c := range q.clauses {
		if !c.matches(is, st) {
			return false
		}
	}
	return true
}

func (c *jqlClause) matches(is *issue, st *issueState) bool {
	switch c.field {
	case "project":
		return slices.Contains(c.values, is.project.id)
	case "key":
		return slices.Contains(c.values, is.id)
	case "issuetype":
		return slices.ContainsFunc(c.values, func(v string) bool {
			return v == st.itype.id || strings.EqualFold(v, st.itype.name)
		})
	case "summary":
		text := strings.ToLower(st.summary)
		for _, w := range strings.Fields(strings.ToLower(c.values[0])) {
			if w = strings.Trim(w, "*?.,;:!\"'"); w != "" && !strings.Contains(text, w) {
				return false
			}
		}
		return true
	case "updated", "created":
		t := st.updated
		if c.field == "created" {
			t = st.created
		}
		switch c.op {
		case "=":
			return t.Equal(c.at)
		case ">":
			return t.After(c.at)
		case ">=":
			return !t.Before(c.at)
		case "<":
			return t.Before(c.at)
		case "<=":
			return !t.After(c.at)
		}
	}
	return false
}
