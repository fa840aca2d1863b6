package sandbox

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"
)

// firstID is where Jira Cloud starts numbering projects, issues, comments
// and attachments.
const firstID = 10000

// user is an account of the site: the one the sandbox authenticates (the
// store's me) or one of the people issues are assigned to.
type user struct {
	accountID, displayName, email string
	loc                           *time.Location
	// emailHidden is a profile that shows its e-mail to nobody: Jira
	// leaves emailAddress out, and user search matches the whole address
	// only.
	emailHidden bool
}

func (u *user) stamp(t time.Time) string { return t.In(u.loc).Format(timeLayout) }

// project is a Jira project with its own issue types (team-managed style:
// ids are not shared between projects).
type project struct {
	id, key, name, description string
	types                      []*issueType
	workflow                   *workflow
	nextNum                    int
}

type issueType struct {
	id, name, description string
	level                 int // hierarchyLevel: 1 for Epic, 0 otherwise
}

func (p *project) issueType(id, name string) *issueType {
	for _, t := range p.types {
		if (id != "" && t.id == id) || (id == "" && strings.EqualFold(t.name, name)) {
			return t
		}
	}
	return nil
}

// issue is one issue; cur is its present state and versions the states the
// search index still serves while it lags behind (WithSearchLag).
type issue struct {
	id, key  string
	num      int
	project  *project
	cur      issueState
	versions []version
}

// issueState is everything about an issue that a write can change.
type issueState struct {
	summary     string
	description json.RawMessage // nil: no description (null)
	itype       *issueType
	created     time.Time
	updated     time.Time
	comments    []comment
	attachments []*attachment
	status      *status
	assignee    *user     // nil: unassigned
	priority    *priority // nil: none
	duedate     string    // yyyy-MM-dd, "" for none
	labels      []string  // sorted, no duplicates
}

type version struct {
	at time.Time
	st issueState
}

type comment struct {
	id               string
	body             json.RawMessage
	created, updated time.Time
}

type attachment struct {
	id, filename, mimeType string
	created                time.Time
	data                   []byte // never modified after upload
	issue                  *issue
}

func (st issueState) clone() issueState {
	st.comments = slices.Clone(st.comments)
	st.attachments = slices.Clone(st.attachments)
	st.labels = slices.Clone(st.labels)
	return st
}

// store is the sandbox's state behind one lock.
type store struct {
	mu         sync.RWMutex
	clk        *clock
	ticks      sandboxkit.Ticker // write times, strictly increasing
	lag        time.Duration
	me         *user
	users      []*user // me first
	statuses   []*status
	priorities []*priority
	projects   []*project
	issues     []*issue // creation order
	byID       map[string]*issue
	byKey      map[string]*issue
	files      map[string]*attachment
	nextIssue  int
	nextCmt    int
	nextFile   int
}

func newStore(clk *clock, me *user, lag time.Duration) *store {
	return &store{
		clk: clk, me: me, lag: lag, users: []*user{me}, statuses: siteStatuses(), priorities: newPriorities(),
		byID: map[string]*issue{}, byKey: map[string]*issue{}, files: map[string]*attachment{},
		nextIssue: firstID, nextCmt: firstID, nextFile: firstID,
	}
}

// tick returns the time of a write: now at millisecond precision, and always
// later than the previous write, so every change gives a newer updated.
// Callers hold the write lock.
func (st *store) tick() time.Time { return st.ticks.Tick(st.clk.now()) }

// project finds a project by id or key (keys without regard to case).
func (st *store) project(idOrKey string) *project {
	for _, p := range st.projects {
		if p.id == idOrKey || strings.EqualFold(p.key, idOrKey) {
			return p
		}
	}
	return nil
}

// user finds an account by id.
func (st *store) user(accountID string) *user {
	for _, u := range st.users {
		if u.accountID == accountID {
			return u
		}
	}
	return nil
}

// issue finds an issue by id or key.
func (st *store) issue(idOrKey string) *issue {
	if is := st.byID[idOrKey]; is != nil {
		return is
	}
	return st.byKey[strings.ToUpper(idOrKey)]
}

// addIssue creates an issue in p at time at, in its workflow's first
// status with the default priority; fill, if not nil, sets more of it
// before it is indexed. Callers hold the write lock.
func (st *store) addIssue(p *project, t *issueType, summary string, desc json.RawMessage, at time.Time, fill func(*issueState)) *issue {
	p.nextNum++
	is := &issue{
		id:      strconv.Itoa(st.nextIssue),
		key:     p.key + "-" + strconv.Itoa(p.nextNum),
		num:     p.nextNum,
		project: p,
		cur: issueState{summary: summary, description: desc, itype: t, created: at, updated: at,
			status: p.workflow.initial(), priority: defaultPriority(st.priorities)},
	}
	if fill != nil {
		fill(&is.cur)
	}
	st.nextIssue++
	st.issues = append(st.issues, is)
	st.byID[is.id] = is
	st.byKey[is.key] = is
	st.indexed(is, at)
	return is
}

// indexed records is's current state as written at at, for the lagging
// search index, and forgets versions the index no longer needs.
func (st *store) indexed(is *issue, at time.Time) {
	is.cur.updated = at
	if st.lag == 0 {
		return
	}
	is.versions = append(is.versions, version{at: at, st: is.cur.clone()})
	cutoff := at.Add(-st.lag)
	// Keep the newest version at or before the cutoff and all after it.
	keep := 0
	for i, v := range is.versions {
		if !v.at.After(cutoff) {
			keep = i
		}
	}
	is.versions = is.versions[keep:]
}

// searchable is the state of is that search sees at now: the current one
// when the index is up to date or the issue is reconciled, else the last
// version older than the lag, or nil while the issue is too new.
func (st *store) searchable(is *issue, now time.Time, reconciled bool) *issueState {
	if st.lag == 0 || reconciled {
		return &is.cur
	}
	cutoff := now.Add(-st.lag)
	for i := len(is.versions) - 1; i >= 0; i-- {
		if !is.versions[i].at.After(cutoff) {
			return &is.versions[i].st
		}
	}
	return nil
}

func (st *store) newCommentID() string {
	id := strconv.Itoa(st.nextCmt)
	st.nextCmt++
	return id
}

func (st *store) newFileID() string {
	id := strconv.Itoa(st.nextFile)
	st.nextFile++
	return id
}
