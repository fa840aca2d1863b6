package sandbox

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"
)

// firstGID is where gids start; like Asana's, they are 16-digit numeric
// strings that only grow.
const firstGID = 1200000000000000

// tsLayout is Asana's timestamp format: UTC with milliseconds.
const tsLayout = "2006-01-02T15:04:05.000Z"

// store is the sandbox's data. Every field is guarded by mu; handlers hold
// the read lock while rendering and the write lock while changing anything.
type store struct {
	mu      sync.RWMutex
	rng     *sandboxkit.Rand
	seeding bool // while seeding, gids are consecutive and stories come from the web app

	lastGID int64
	clock   sandboxkit.Ticker // modified_at and friends, strictly increasing

	ws      *workspace
	me      *user
	users   []*user
	objects map[string]any // every live object by gid, plus deleted tasks (for events)

	projects []*project // in creation (gid) order
	webhooks []*webhook
	tags     []*tag         // the workspace's tags, in creation order
	fields   []*customField // the workspace's custom fields, in creation order

	events     []*event
	firstSeq   int64 // seq of events[0]
	syncTokens map[string]syncToken
}

type workspace struct {
	gid, name, domain string
}

type user struct {
	gid, name, email string
}

type project struct {
	gid, name  string
	htmlNotes  string
	color      string
	createdAt  time.Time
	modifiedAt time.Time
	owner      *user
	sections   []*section
	tasks      []*task // in the order Asana lists them: creation order
	// fieldSettings are the custom fields added to the project, in order.
	fieldSettings []*fieldSetting
}

type section struct {
	gid, name string
	createdAt time.Time
	project   *project
}

type membership struct {
	project *project
	section *section
}

type task struct {
	gid            string
	name           string
	subtype        string
	htmlNotes      string
	createdAt      time.Time
	modifiedAt     time.Time
	createdBy      *user
	completed      bool
	completedAt    time.Time
	completedBy    *user
	approvalStatus string
	assignee       *user
	dueOn, dueAt   string
	startOn        string
	memberships    []membership
	followers      []*user
	tags           []*tag             // in the order they were added
	values         map[string]cfValue // custom field values by field gid; absent is empty
	stories        []*story           // creation order
	attachments    []*attachment      // creation order
	deleted        bool
}

type story struct {
	gid        string
	task       *task
	createdAt  time.Time
	createdBy  *user
	comment    bool   // type "comment"; otherwise "system"
	subtype    string // comment_added, name_changed, ...
	htmlText   string // comments: the rich text as stored
	text       string // system stories: the generated sentence
	isPinned   bool
	isEdited   bool
	source     string
	oldName    string
	newName    string
	oldSubtype string
	newSubtype string
	project    *project // added_to_project
	assignee   *user    // assigned
}

type attachment struct {
	gid         string
	name        string
	task        *task
	createdAt   time.Time
	createdBy   *user
	external    bool
	url         string // external attachments
	contentType string
	size        int64
	chunks      [][]byte // the bytes, kept as read to avoid a second copy
}

// reader returns the attachment's bytes; chunks never change after upload.
func (a *attachment) reader() io.Reader {
	rs := make([]io.Reader, len(a.chunks))
	for i, c := range a.chunks {
		rs[i] = bytes.NewReader(c)
	}
	return io.MultiReader(rs...)
}

type webhook struct {
	gid       string
	resource  resRef
	target    string
	filters   []webhookFilter
	createdAt time.Time
	secret    string

	// Delivery state (hooks.go), guarded by the store's lock like the rest.
	lastSuccessAt, lastFailureAt time.Time
	lastFailureContent           string
	retryCount                   int
	failingSince                 time.Time // first failure since the last success
	nextAttemptAfter             time.Time
	failureDeletionAt            time.Time
	pos                          int64              // seq of the first event not yet delivered
	kick                         chan struct{}      // something to deliver; nil until started
	stop                         context.CancelFunc // ends the delivery loop; nil until started
}

type webhookFilter struct {
	resourceType, resourceSubtype, action string
	fields                                []string
}

func newStore(rng *sandboxkit.Rand) *store {
	return &store{
		rng:        rng,
		lastGID:    firstGID,
		objects:    map[string]any{},
		syncTokens: map[string]syncToken{},
		firstSeq:   1,
	}
}

// newGID allocates the next gid. Gaps are random (deterministic under
// WithRandSeed) so that clients cannot come to rely on consecutive gids; the
// seed passes gap 1 so its gids never change.
func (st *store) newGID(gap int64) string {
	st.lastGID += gap
	return strconv.FormatInt(st.lastGID, 10)
}

func (st *store) runtimeGID() string {
	if st.seeding {
		return st.newGID(1)
	}
	return st.newGID(1 + st.rng.Int64N(8))
}

// tick reads the monotonic clock: the wall clock in UTC at millisecond
// resolution, but never equal to or before a previous reading, so
// modified_at values are strictly increasing.
func (st *store) tick() time.Time { return st.clock.Tick(time.Now().UTC()) }

func (st *store) task(gid string) *task {
	t, _ := st.objects[gid].(*task)
	if t == nil || t.deleted {
		return nil
	}
	return t
}

func (st *store) project(gid string) *project {
	p, _ := st.objects[gid].(*project)
	return p
}

func (st *store) story(gid string) *story {
	s, _ := st.objects[gid].(*story)
	return s
}

func (st *store) attachment(gid string) *attachment {
	a, _ := st.objects[gid].(*attachment)
	return a
}

func (st *store) section(gid string) *section {
	s, _ := st.objects[gid].(*section)
	return s
}

// user finds a user by gid, e-mail (in any case) or "me", as Asana's user
// parameters do.
func (st *store) user(ref string) *user {
	if ref == "me" {
		return st.me
	}
	for _, u := range st.users {
		if u.gid == ref || strings.EqualFold(u.email, ref) {
			return u
		}
	}
	return nil
}

// projects returns the task's projects in membership order.
func (t *task) projects() []*project {
	ps := make([]*project, len(t.memberships))
	for i, m := range t.memberships {
		ps[i] = m.project
	}
	return ps
}

func (t *task) projectGIDs() []string {
	gids := make([]string, len(t.memberships))
	for i, m := range t.memberships {
		gids[i] = m.project.gid
	}
	return gids
}

// touch records a change to the task at time at.
func (t *task) touch(at time.Time) { t.modifiedAt = at }

// gidLess orders numeric gids; all are digits, so length first, then bytes.
func gidLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// isGID reports whether s looks like a gid (digits only).
func isGID(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func itoa(n int) string { return strconv.Itoa(n) }

// cmpGID orders gids for slices.SortFunc.
func cmpGID(a, b string) int {
	switch {
	case gidLess(a, b):
		return -1
	case gidLess(b, a):
		return 1
	}
	return 0
}
