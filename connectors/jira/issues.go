package jira

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// issueFieldNames are the fields Client.Issue reads: everything the Basic
// rules need and the fields beyond them, in one call. A function, so no
// caller can change the list another one reads.
func issueFieldNames() []string {
	return append([]string{"summary", "description", "issuetype", "project", "created", "updated", "comment", "attachment"},
		beyondBasicFields()...)
}

// beyondBasicFields are the fields beyond the Basic ones tandem reads.
func beyondBasicFields() []string {
	return []string{"status", "assignee", "priority", "duedate", "labels"}
}

// Issue reads an issue by id or key with issueFieldNames in one call, then
// the comments Jira did not embed (it embeds a first page), oldest first.
func (c *Client) Issue(ctx context.Context, idOrKey string) (Issue, error) {
	is, err := c.issue(ctx, idOrKey, issueFieldNames())
	if err != nil {
		return Issue{}, err
	}
	page := is.Fields.Comment
	if !page.complete() {
		all, err := c.Comments(ctx, is.ID.String())
		if err != nil {
			return Issue{}, err
		}
		is.Fields.Comment = CommentPage{Comments: all, MaxResults: len(all), Total: len(all)}
	}
	return is, nil
}

// issue reads an issue's fields, and no more.
func (c *Client) issue(ctx context.Context, idOrKey string, fields []string) (Issue, error) {
	if err := checkIssue(idOrKey); err != nil {
		return Issue{}, err
	}
	var is Issue
	q := url.Values{"fields": {strings.Join(fields, ",")}}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/issue/" + idOrKey, endpoint: "/issue/{id}", query: q}, &is); err != nil {
		return Issue{}, err
	}
	if is.ID == "" {
		return Issue{}, fmt.Errorf("jira: GET /issue/%s: the answer names no issue", idOrKey)
	}
	return is, nil
}

// NewIssue is what CreateIssue needs.
type NewIssue struct {
	// Project is the project's key.
	Project string
	// Type is the issue type's name.
	Type    string
	Summary string
	// Description is an ADF document, or nil for none.
	Description json.RawMessage
}

// CreatedIssue is Jira's answer to a create.
type CreatedIssue struct {
	ID   ID     `json:"id"`
	Key  string `json:"key"`
	Self string `json:"self"`
	// At is when the answer came (the Date header, or the local clock).
	At time.Time `json:"-"`
}

type nameRef struct {
	Name string `json:"name"`
}

type keyRef struct {
	Key string `json:"key"`
}

// CreateIssue makes an issue in one call (POST /issue). A failure after
// the request reached Jira matches ErrOutcomeUnknown: it is not sent again.
func (c *Client) CreateIssue(ctx context.Context, n NewIssue) (CreatedIssue, error) {
	if n.Project == "" || n.Type == "" {
		return CreatedIssue{}, fmt.Errorf("jira: creating an issue needs a project key and a type: %w", ErrInvalidRequest)
	}
	fields := map[string]any{
		"project":   keyRef{n.Project},
		"issuetype": nameRef{n.Type},
		"summary":   n.Summary,
	}
	if n.Description != nil {
		fields["description"] = n.Description
	}
	body, err := json.Marshal(map[string]any{"fields": fields})
	if err != nil {
		return CreatedIssue{}, fmt.Errorf("jira: encoding the new issue: %w", err)
	}
	a, err := c.send(ctx, request{method: http.MethodPost, path: "/issue", endpoint: "/issue", body: body})
	if err != nil {
		return CreatedIssue{}, err
	}
	var ci CreatedIssue
	if err := json.Unmarshal(a.Data, &ci); err != nil {
		return CreatedIssue{}, fmt.Errorf("jira: POST /issue: decoding the answer: %w", err)
	}
	if ci.ID == "" || ci.Key == "" {
		return CreatedIssue{}, fmt.Errorf("jira: POST /issue: the answer names no issue")
	}
	ci.At = answerTime(a)
	c.wrote(ci.ID.String())
	return ci, nil
}

// answerTime is the server's Date, or now when it has none.
func answerTime(a answer) time.Time {
	if t, err := http.ParseTime(a.Header.Get("Date")); err == nil {
		return t
	}
	return time.Now().Truncate(time.Millisecond)
}

// IssueUpdate changes the fields that are not nil. A Description pointing
// at nil clears the description; "" clears an Assignee (an account id),
// a Priority (by name) or a DueDate (yyyy-MM-dd), and an empty list the
// Labels. The status is not a field: it changes through DoTransition.
type IssueUpdate struct {
	Type        *string
	Summary     *string
	Description *json.RawMessage
	Assignee    *string
	Priority    *string
	DueDate     *string
	Labels      *[]string
}

// fields is the update as editIssue's fields object; empty when it
// changes nothing.
func (u IssueUpdate) fields() map[string]any {
	fields := map[string]any{}
	if u.Type != nil {
		fields["issuetype"] = nameRef{*u.Type}
	}
	if u.Summary != nil {
		fields["summary"] = *u.Summary
	}
	if u.Description != nil {
		fields["description"] = *u.Description
	}
	orNull := func(name, v string, set any) {
		if v == "" {
			fields[name] = nil
		} else {
			fields[name] = set
		}
	}
	if u.Assignee != nil {
		orNull("assignee", *u.Assignee, accountRef{*u.Assignee})
	}
	if u.Priority != nil {
		orNull("priority", *u.Priority, nameRef{*u.Priority})
	}
	if u.DueDate != nil {
		orNull("duedate", *u.DueDate, *u.DueDate)
	}
	if u.Labels != nil {
		fields["labels"] = append([]string{}, (*u.Labels)...)
	}
	return fields
}

type accountRef struct {
	AccountID string `json:"accountId"`
}

// UpdateIssue changes an issue (PUT /issue/{idOrKey}, 204). A 409
// (conflicting update) is retried.
func (c *Client) UpdateIssue(ctx context.Context, idOrKey string, u IssueUpdate) error {
	if err := checkIssue(idOrKey); err != nil {
		return err
	}
	fields := u.fields()
	if len(fields) == 0 {
		return nil
	}
	body, err := json.Marshal(map[string]any{"fields": fields})
	if err != nil {
		return fmt.Errorf("jira: encoding the update of %s: %w", idOrKey, err)
	}
	err = c.do(ctx, request{method: http.MethodPut, path: "/issue/" + idOrKey, endpoint: "/issue/{id}", body: body, issue: idOrKey}, nil)
	if err == nil {
		c.wrote(idOrKey)
	}
	return err
}

// searchPath is the JQL search; the old /search is gone (410).
const searchPath = "/search/jql"

// Search is a JQL search.
type Search struct {
	JQL string
	// Fields are the fields to return; Jira returns ids only without them.
	Fields []string
	// Limit stops after this many issues; 0 means all.
	Limit int
}

type searchBody struct {
	JQL             string   `json:"jql"`
	Fields          []string `json:"fields,omitempty"`
	MaxResults      int      `json:"maxResults"`
	NextPageToken   string   `json:"nextPageToken,omitempty"`
	ReconcileIssues []int64  `json:"reconcileIssues,omitempty"`
}

type searchPage struct {
	Issues        []Issue `json:"issues"`
	IsLast        *bool   `json:"isLast"`
	NextPageToken string  `json:"nextPageToken"`
}

// Search runs a JQL search (POST /search/jql), following nextPageToken. It
// passes the ids of the issues this client wrote in the last minute as
// reconcileIssues, so an issue just written is found as written although
// Jira's search index lags. A page token that comes back a second time is
// an error: following it would read the same pages for ever.
func (c *Client) Search(ctx context.Context, s Search) ([]Issue, error) {
	var all []Issue
	err := c.SearchPages(ctx, s, func(p []Issue) error {
		all = append(all, p...)
		return nil
	})
	if s.Limit > 0 && len(all) > s.Limit {
		all = all[:s.Limit]
	}
	return all, err
}

// SearchPages runs the search as Search does, handing each page of issues
// (up to 100) to each as it comes, so a caller that doesn't keep them holds
// one page at a time; an error from each stops it and is returned. Limit,
// when set, stops the search once that many issues were handed over (the
// last page may carry more).
func (c *Client) SearchPages(ctx context.Context, s Search, each func([]Issue) error) error {
	b := searchBody{JQL: s.JQL, Fields: s.Fields, MaxResults: pageSize, ReconcileIssues: c.recentWrites()}
	if s.Limit > 0 && s.Limit < pageSize {
		b.MaxResults = s.Limit
	}
	if len(b.Fields) == 0 {
		b.Fields = []string{"id"}
	}
	tokens := map[string]bool{}
	handed := 0
	for {
		body, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("jira: encoding the search %q: %w", s.JQL, err)
		}
		var p searchPage
		if err := c.do(ctx, request{method: http.MethodPost, path: searchPath, endpoint: searchPath, body: body}, &p); err != nil {
			return err
		}
		if err := each(p.Issues); err != nil {
			return err
		}
		handed += len(p.Issues)
		if s.Limit > 0 && handed >= s.Limit {
			return nil
		}
		if (p.IsLast != nil && *p.IsLast) || p.NextPageToken == "" {
			return nil
		}
		if tokens[p.NextPageToken] {
			return fmt.Errorf("jira: POST /search/jql: the answer names page token %q again", p.NextPageToken)
		}
		tokens[p.NextPageToken] = true
		b.NextPageToken = p.NextPageToken
	}
}

// reconcileWindow and maxReconcile bound reconcileIssues: Jira takes up to
// 50 ids, and its index catches up within seconds.
const (
	reconcileWindow = time.Minute
	maxReconcile    = 50
)

// wrote notes a write to an issue id (keys are not accepted by
// reconcileIssues and are skipped).
func (c *Client) wrote(id string) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.written[n] = time.Now()
	c.pruneWritten()
}

// pruneWritten drops writes older than the window and keeps the newest
// maxReconcile; c.writeMu is held.
func (c *Client) pruneWritten() {
	cutoff := time.Now().Add(-reconcileWindow)
	for id, at := range c.written {
		if at.Before(cutoff) {
			delete(c.written, id)
		}
	}
	if len(c.written) <= maxReconcile {
		return
	}
	ids := c.sortedWrites()
	for _, id := range ids[maxReconcile:] {
		delete(c.written, id)
	}
}

// sortedWrites lists written ids newest first; c.writeMu is held.
func (c *Client) sortedWrites() []int64 {
	ids := make([]int64, 0, len(c.written))
	for id := range c.written {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b int64) int {
		if d := c.written[b].Compare(c.written[a]); d != 0 {
			return d
		}
		return cmp.Compare(b, a)
	})
	return ids
}

// recentWrites is reconcileIssues: the ids written in the last minute,
// newest first, at most 50.
func (c *Client) recentWrites() []int64 {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.pruneWritten()
	return c.sortedWrites()
}
