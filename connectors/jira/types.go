package jira

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeLayout is how Jira writes timestamps (not RFC 3339: no colon in the
// offset, always milliseconds).
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// Time is a Jira timestamp. It reads Jira's layout, and RFC 3339 as
// proxies and older answers write it; null or "" is the zero time.
type Time struct{ time.Time }

// UnmarshalJSON reads a Jira timestamp.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("jira: timestamp %s is not a string", b)
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range []string{TimeLayout, "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("jira: %q is not a timestamp like 2021-01-17T12:34:00.000+0000", s)
}

// MarshalJSON writes Jira's layout.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Format(TimeLayout))
}

// ID is a Jira id. Jira writes ids as strings ("10004"), but some answers
// (attachments in the spec's own examples) as numbers: both are read.
type ID string

// UnmarshalJSON reads a string or a number.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*id = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("jira: id %s is neither a string nor a number", b)
	}
	*id = ID(n.String())
	return nil
}

// String is the id as text.
func (id ID) String() string { return string(id) }

// User is a Jira account as /myself, authors, assignees and user search
// describe it. EmailAddress is empty when the user's profile hides it.
type User struct {
	AccountID    string `json:"accountId"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress,omitempty"`
	// AccountType is atlassian for people, app for integrations and
	// customer for service desk customers.
	AccountType string `json:"accountType,omitempty"`
	// TimeZone is an IANA name such as Europe/Berlin; JQL dates are read in it.
	TimeZone string `json:"timeZone,omitempty"`
}

// ServerInfo is the site as /serverInfo describes it.
type ServerInfo struct {
	BaseURL        string `json:"baseUrl"`
	ServerTitle    string `json:"serverTitle"`
	Version        string `json:"version"`
	DeploymentType string `json:"deploymentType"`
	ServerTime     Time   `json:"serverTime"`
}

// Project is a Jira project; IssueTypes is only filled by Client.Project.
type Project struct {
	ID         ID          `json:"id"`
	Key        string      `json:"key"`
	Name       string      `json:"name"`
	IssueTypes []IssueType `json:"issueTypes,omitempty"`
}

// IssueType is one of a project's issue types.
type IssueType struct {
	ID             ID     `json:"id"`
	Name           string `json:"name"`
	Subtask        bool   `json:"subtask"`
	HierarchyLevel int    `json:"hierarchyLevel"`
}

// Issue is an issue with the fields tandem reads.
type Issue struct {
	ID     ID          `json:"id"`
	Key    string      `json:"key"`
	Self   string      `json:"self,omitempty"`
	Fields IssueFields `json:"fields"`
}

// IssueFields are the fields of an issue tandem reads; those not asked
// for stay empty.
type IssueFields struct {
	Summary string `json:"summary"`
	// Description is an ADF document, or nil for none.
	Description json.RawMessage `json:"description,omitempty"`
	IssueType   *IssueType      `json:"issuetype,omitempty"`
	Project     *Project        `json:"project,omitempty"`
	Created     Time            `json:"created"`
	Updated     Time            `json:"updated"`
	Comment     CommentPage     `json:"comment"`
	Attachment  []Attachment    `json:"attachment,omitempty"`
	// The fields beyond the Basic ones; nil or empty when unset or not
	// asked for.
	Status   *Status   `json:"status,omitempty"`
	Assignee *User     `json:"assignee,omitempty"`
	Priority *Priority `json:"priority,omitempty"`
	// DueDate is yyyy-MM-dd.
	DueDate string   `json:"duedate,omitempty"`
	Labels  []string `json:"labels,omitempty"`
}

// Status is a workflow status (Jira's StatusDetails).
type Status struct {
	ID             ID              `json:"id"`
	Name           string          `json:"name"`
	StatusCategory *StatusCategory `json:"statusCategory,omitempty"`
}

// StatusCategory is one of Jira's fixed status categories; Key is new,
// indeterminate or done (undefined for none).
type StatusCategory struct {
	ID   int    `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
}

// Status category keys.
const (
	CategoryToDo = "new"
	CategoryDone = "done"
)

// Category is the status's category key, "" when Jira sent none.
func (s *Status) Category() string {
	if s == nil || s.StatusCategory == nil {
		return ""
	}
	return s.StatusCategory.Key
}

// Priority is an issue's priority.
type Priority struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// CommentPage is a page of an issue's comments. Jira embeds the first page
// in the issue's comment field as an object; the spec's example shows a
// bare array, which is read too (as a page holding every comment).
type CommentPage struct {
	Comments   []Comment `json:"comments"`
	StartAt    int       `json:"startAt"`
	MaxResults int       `json:"maxResults"`
	Total      int       `json:"total"`
}

// UnmarshalJSON reads the object or the array form.
func (p *CommentPage) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*p = CommentPage{}
		return nil
	case len(b) > 0 && b[0] == '[':
		var cs []Comment
		if err := json.Unmarshal(b, &cs); err != nil {
			return err
		}
		*p = CommentPage{Comments: cs, MaxResults: len(cs), Total: len(cs)}
		return nil
	}
	type plain CommentPage
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = CommentPage(v)
	return nil
}

// complete says the page holds every comment of its issue: it starts at
// the first and reaches Jira's total.
func (p CommentPage) complete() bool {
	return p.StartAt == 0 && p.Total <= len(p.Comments)
}

// Comment is a comment on an issue.
type Comment struct {
	ID     ID    `json:"id"`
	Author *User `json:"author,omitempty"`
	// Body is an ADF document.
	Body    json.RawMessage `json:"body,omitempty"`
	Created Time            `json:"created"`
	Updated Time            `json:"updated"`
}

// Attachment is a file on an issue.
type Attachment struct {
	ID       ID     `json:"id"`
	Filename string `json:"filename"`
	MimeType string `json:"mimeType,omitempty"`
	Size     int64  `json:"size"`
	Created  Time   `json:"created"`
	// Content is the URL of the bytes (GET /attachment/content/{id}).
	Content string `json:"content,omitempty"`
	Author  *User  `json:"author,omitempty"`
}

// isIssueID says s is a numeric issue id.
func isIssueID(s string) bool {
	if s == "" || len(s) > 18 || strings.Trim(s, "0123456789") != "" {
		return false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

// isIssueKey says s is an issue key such as KAN-19 (upper case).
func isIssueKey(s string) bool {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || i == len(s)-1 || !isIssueID(s[i+1:]) {
		return false
	}
	p := s[:i]
	if p[0] < 'A' || p[0] > 'Z' {
		return false
	}
	for _, r := range p {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// checkIssue refuses anything but an issue id or key before it reaches a
// URL path, so a pasted link or a typo gives a clear error instead of a
// request to the wrong endpoint.
func checkIssue(idOrKey string) error {
	if isIssueID(idOrKey) || isIssueKey(idOrKey) {
		return nil
	}
	return fmt.Errorf("jira: %q is not an issue id (such as 10004) or key (such as KAN-19): %w", idOrKey, ErrInvalidRequest)
}
