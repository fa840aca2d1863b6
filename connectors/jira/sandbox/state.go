package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// stateVersion numbers the state file's format; a file of another version
// is refused rather than half read.
const stateVersion = 1

// The state file: what State writes and WithState reads back, so a sandbox
// can be stopped and started again with its data (tandem demo --data keeps
// it between runs). Issues name their project by key and their type by id.
// The search index's lagging versions (WithSearchLag) are not kept: after a
// restart the index is up to date. The fields beyond the Basic ones and the
// site's people came later: a file without them reads as issues with a
// new issue's defaults and the seeded people. Workflows, statuses and
// priorities are the site's configuration, not data: issues name their
// status and priority by id.
type (
	stateFile struct {
		Version   int            `json:"version"`
		Token     string         `json:"token"`
		AccountID string         `json:"account_id"`
		Clock     time.Time      `json:"clock"`
		NextIssue int            `json:"next_issue"`
		NextCmt   int            `json:"next_comment"`
		NextFile  int            `json:"next_file"`
		Projects  []stateProject `json:"projects"`
		Issues    []stateIssue   `json:"issues"`
		Users     []stateUser    `json:"users,omitempty"`
	}
	stateUser struct {
		AccountID, Name, Email string
		Hidden                 bool `json:",omitempty"`
	}
	stateProject struct {
		ID, Key, Name, Description string
		NextNum                    int
		Types                      []stateType
	}
	stateType struct {
		ID, Name, Description string
		Level                 int
	}
	stateIssue struct {
		ID, Key, Project, Type string
		Num                    int
		Summary                string
		Description            json.RawMessage
		Created, Updated       time.Time
		Comments               []stateComment
		Attachments            []stateAttachment
		Status                 string   `json:",omitempty"`
		Assignee               string   `json:",omitempty"`
		Priority               *string  `json:",omitempty"` // nil: the default; "" none
		DueDate                string   `json:",omitempty"`
		Labels                 []string `json:",omitempty"`
	}
	stateComment struct {
		ID               string
		Body             json.RawMessage
		Created, Updated time.Time
	}
	stateAttachment struct {
		ID, Filename, MimeType string
		Created                time.Time
		Data                   []byte
	}
)

// WithState starts the sandbox from a state State wrote earlier instead of
// a seed: its projects, issues, comments, attachments, account and token.
// WithToken, given too, wins over the saved token.
func WithState(b []byte) Option { return func(c *config) { c.state = b } }

// State encodes the sandbox's data for WithState.
func (s *Sandbox) State() ([]byte, error) {
	st := s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	f := stateFile{Version: stateVersion, Token: s.token, AccountID: st.me.accountID, Clock: st.ticks.Last(),
		NextIssue: st.nextIssue, NextCmt: st.nextCmt, NextFile: st.nextFile}
	for _, p := range st.projects {
		sp := stateProject{ID: p.id, Key: p.key, Name: p.name, Description: p.description, NextNum: p.nextNum}
		for _, t := range p.types {
			sp.Types = append(sp.Types, stateType{t.id, t.name, t.description, t.level})
		}
		f.Projects = append(f.Projects, sp)
	}
	for _, u := range st.users[1:] {
		f.Users = append(f.Users, stateUser{u.accountID, u.displayName, u.email, u.emailHidden})
	}
	for _, is := range st.issues {
		x := stateIssue{ID: is.id, Key: is.key, Project: is.project.key, Type: is.cur.itype.id, Num: is.num,
			Summary: is.cur.summary, Description: is.cur.description, Created: is.cur.created, Updated: is.cur.updated}
		for _, c := range is.cur.comments {
			x.Comments = append(x.Comments, stateComment{c.id, c.body, c.created, c.updated})
		}
		for _, a := range is.cur.attachments {
			x.Attachments = append(x.Attachments, stateAttachment{a.id, a.filename, a.mimeType, a.created, a.data})
		}
		x.Status, x.DueDate, x.Labels = is.cur.status.id, is.cur.duedate, is.cur.labels
		if is.cur.assignee != nil {
			x.Assignee = is.cur.assignee.accountID
		}
		prio := ""
		if is.cur.priority != nil {
			prio = is.cur.priority.id
		}
		x.Priority = &prio
		f.Issues = append(f.Issues, x)
	}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(f); err != nil {
		return nil, fmt.Errorf("encoding the sandbox state: %w", err)
	}
	return b.Bytes(), nil
}

// loadState fills an empty store from a state file and returns the saved
// token.
func loadState(st *store, b []byte) (string, error) {
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil {
		return "", fmt.Errorf("reading the sandbox state: %w", err)
	}
	if f.Version != stateVersion {
		return "", fmt.Errorf("the sandbox state is of version %d; this build reads version %d", f.Version, stateVersion)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.me.accountID = f.AccountID
	st.ticks.Observe(f.Clock)
	st.nextIssue, st.nextCmt, st.nextFile = f.NextIssue, f.NextCmt, f.NextFile
	if len(f.Users) > 0 {
		st.users = st.users[:1]
		for _, u := range f.Users {
			st.users = append(st.users, &user{accountID: u.AccountID, displayName: u.Name, email: u.Email, loc: st.me.loc, emailHidden: u.Hidden})
		}
	}
	for _, sp := range f.Projects {
		p := &project{id: sp.ID, key: sp.Key, name: sp.Name, description: sp.Description, nextNum: sp.NextNum,
			workflow: newWorkflow(st.statuses, sp.Key, seededReview(sp.Key))}
		for _, t := range sp.Types {
			p.types = append(p.types, &issueType{t.ID, t.Name, t.Description, t.Level})
		}
		st.projects = append(st.projects, p)
	}
	for _, x := range f.Issues {
		p := st.project(x.Project)
		if p == nil {
			return "", fmt.Errorf("reading the sandbox state: issue %s is in an unknown project %s", x.Key, x.Project)
		}
		t := p.issueType(x.Type, "")
		if t == nil {
			return "", fmt.Errorf("reading the sandbox state: issue %s has an unknown type %s", x.Key, x.Type)
		}
		is := &issue{id: x.ID, key: x.Key, num: x.Num, project: p, cur: issueState{summary: x.Summary,
			description: x.Description, itype: t, created: x.Created, updated: x.Updated}}
		if err := st.loadFields(&is.cur, p, x); err != nil {
			return "", fmt.Errorf("reading the sandbox state: issue %s %w", x.Key, err)
		}
		for _, c := range x.Comments {
			is.cur.comments = append(is.cur.comments, comment{c.ID, c.Body, c.Created, c.Updated})
		}
		for _, a := range x.Attachments {
			y := &attachment{id: a.ID, filename: a.Filename, mimeType: a.MimeType, created: a.Created, data: a.Data, issue: is}
			is.cur.attachments = append(is.cur.attachments, y)
			st.files[y.id] = y
		}
		st.issues = append(st.issues, is)
		st.byID[is.id] = is
		st.byKey[is.key] = is
		st.indexed(is, is.cur.updated)
	}
	return f.Token, nil
}

// seededReview says whether the seeded project of that key has the In
// Review step; a project no seed has gets the simplified workflow.
func seededReview(key string) bool {
	for _, sp := range seedProjects {
		if sp.key == key {
			return sp.review
		}
	}
	return false
}

// loadFields reads an issue's fields beyond the Basic ones from the state
// file: those it lacks are a new issue's.
func (st *store) loadFields(cur *issueState, p *project, x stateIssue) error {
	cur.status = p.workflow.initial()
	if x.Status != "" {
		if cur.status = p.workflow.status(x.Status); cur.status == nil {
			return fmt.Errorf("has a status %s its project's workflow lacks", x.Status)
		}
	}
	cur.priority = defaultPriority(st.priorities)
	if x.Priority != nil {
		cur.priority = nil
		if *x.Priority != "" {
			if cur.priority = findPriority(st.priorities, *x.Priority, ""); cur.priority == nil {
				return fmt.Errorf("has an unknown priority %s", *x.Priority)
			}
		}
	}
	if x.Assignee != "" {
		if cur.assignee = st.user(x.Assignee); cur.assignee == nil {
			return fmt.Errorf("is assigned to an unknown user %s", x.Assignee)
		}
	}
	cur.duedate, cur.labels = x.DueDate, x.Labels
	return nil
}
