package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store"
)

// crashPrefix starts the name of every task the harness makes; what
// follows the first space is an edit's mark, so the key of a task is its
// first word (a seeded task, never renamed, is keyed by its whole name).
const crashPrefix = "crash-"

func taskKey(summary string) string {
	if strings.HasPrefix(summary, crashPrefix) {
		return strings.Fields(summary)[0]
	}
	return summary
}

// expectations are what the harness wrote, per task key: the last
// summary, and every comment text and file name added on either side.
type expectations struct {
	mu          sync.Mutex
	summaries   map[string]string
	comments    map[string][]string
	attachments map[string][]string
}

func newExpectations() *expectations {
	return &expectations{summaries: map[string]string{}, comments: map[string][]string{}, attachments: map[string][]string{}}
}

func (e *expectations) summary(key, s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.summaries[key] = s
}

func (e *expectations) comment(key, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.comments[key] = append(e.comments[key], text)
}

func (e *expectations) attachment(key, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.attachments[key] = append(e.attachments[key], name)
}

// sideTask is one task as read back from a sandbox.
type sideTask struct {
	ID, Summary, Description string
	// Comments are the bodies without the author line a synced comment
	// carries.
	Comments    []string
	Attachments []string // "name size" or, with hashes, "name size sha256"
}

// side reads one node's project from its sandbox.
type side struct {
	name    string
	client  *asana.Client
	tracker *asana.Tracker
	project string
	// skip are tasks that are no part of the sync (the other side's
	// project was seeded with a few).
	skip map[string]bool
}

// attribution is the line apply puts in front of a synced comment:
// the author in bold and the node it came from.
var attribution = regexp.MustCompile(`^<strong>[^<]*</strong> \((?:Acme|Globex)\): `)

func normalizeComment(body string) string {
	inner := strings.TrimSuffix(strings.TrimPrefix(body, "<body>"), "</body>")
	return attribution.ReplaceAllString(inner, "")
}

// read returns the project's tasks by id, with their comments and files;
// hashes downloads every file to name it by its sha256 too.
func (s side) read(ctx context.Context, hashes bool) (map[string]sideTask, error) {
	ids, err := s.tracker.List(ctx, s.project)
	if err != nil {
		return nil, err
	}
	out := map[string]sideTask{}
	for _, id := range ids {
		if s.skip[id] {
			continue
		}
		e, err := s.tracker.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("%s task %s: %w", s.name, id, err)
		}
		st := sideTask{ID: id, Summary: e.Summary, Description: e.Description}
		for _, c := range e.Comments {
			st.Comments = append(st.Comments, normalizeComment(c.Body))
		}
		for _, a := range e.Attachments {
			desc := fmt.Sprintf("%s %d", a.Name, a.Size)
			if hashes {
				sum, err := s.sha256(ctx, a.ID)
				if err != nil {
					return nil, fmt.Errorf("%s attachment %s of %s: %w", s.name, a.ID, id, err)
				}
				desc += " " + sum
			}
			st.Attachments = append(st.Attachments, desc)
		}
		out[id] = st
	}
	return out, nil
}

func (s side) sha256(ctx context.Context, id string) (string, error) {
	rc, _, err := s.client.Download(ctx, id)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pairByKey pairs each task of a with the task of b bearing its key, and
// names every task that has no twin, several, or that appears twice.
func pairByKey(a, b map[string]sideTask) (map[string]string, []string) {
	byKey := func(m map[string]sideTask) map[string][]string {
		out := map[string][]string{}
		for id, t := range m {
			out[taskKey(t.Summary)] = append(out[taskKey(t.Summary)], id)
		}
		return out
	}
	ka, kb := byKey(a), byKey(b)
	pairs := map[string]string{}
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(ka)) {
		if len(ka[k]) != 1 {
			problems = append(problems, fmt.Sprintf("Acme has %d tasks keyed %q: %v", len(ka[k]), k, ka[k]))
		}
		switch len(kb[k]) {
		case 1:
			pairs[ka[k][0]] = kb[k][0]
		case 0:
			problems = append(problems, fmt.Sprintf("Acme task %q (%s) has no twin on Globex", k, ka[k][0]))
		default:
			problems = append(problems, fmt.Sprintf("Acme task %q (%s) has %d copies on Globex: %v", k, ka[k][0], len(kb[k]), kb[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(kb)) {
		if _, ok := ka[k]; !ok {
			problems = append(problems, fmt.Sprintf("Globex has tasks %v keyed %q that match no Acme task", kb[k], k))
		}
	}
	return pairs, problems
}

// contentFigures counts what a comparison looked at.
type contentFigures struct {
	tasks, comments, attachments int
}

// compareTwins checks each pair (Acme id → Globex id): same summary (the
// last one written, for the harness's tasks), same description, the same
// comments and files on both sides, and each the harness added exactly
// once on each side.
func compareTwins(a, b map[string]sideTask, pairs map[string]string, want *expectations) (contentFigures, []string) {
	want.mu.Lock()
	defer want.mu.Unlock()
	var fig contentFigures
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, aid := range slices.Sorted(maps.Keys(pairs)) {
		ta, tb := a[aid], b[pairs[aid]]
		key := taskKey(ta.Summary)
		fig.tasks++
		fig.comments += len(ta.Comments)
		fig.attachments += len(ta.Attachments)
		if ta.Summary != tb.Summary {
			add("%s: summary %q on Acme, %q on Globex", key, ta.Summary, tb.Summary)
		}
		if s, ok := want.summaries[key]; ok && ta.Summary != s {
			add("%s: summary %q on Acme, want the last one written, %q", key, ta.Summary, s)
		}
		if ta.Description != tb.Description {
			add("%s: description %q on Acme, %q on Globex", key, ta.Description, tb.Description)
		}
		if d := multisetDiff(ta.Comments, tb.Comments); d != "" {
			add("%s: comments differ (Acme vs Globex): %s", key, d)
		}
		if d := multisetDiff(ta.Attachments, tb.Attachments); d != "" {
			add("%s: attachments differ (Acme vs Globex): %s", key, d)
		}
		for _, text := range want.comments[key] {
			if na, nb := count(ta.Comments, text), count(tb.Comments, text); na != 1 || nb != 1 {
				add("%s: comment %q is there %d times on Acme and %d on Globex, want once each", key, text, na, nb)
			}
		}
		for _, name := range want.attachments[key] {
			has := func(d string) bool { return strings.HasPrefix(d, name+" ") }
			na, nb := countFunc(ta.Attachments, has), countFunc(tb.Attachments, has)
			if na != 1 || nb != 1 {
				add("%s: file %q is there %d times on Acme and %d on Globex, want once each", key, name, na, nb)
			}
		}
	}
	return fig, problems
}

func count(xs []string, x string) int { return countFunc(xs, func(y string) bool { return y == x }) }

func countFunc(xs []string, f func(string) bool) int {
	n := 0
	for _, x := range xs {
		if f(x) {
			n++
		}
	}
	return n
}

// multisetDiff describes how two multisets differ, or returns "".
func multisetDiff(a, b []string) string {
	ca, cb := map[string]int{}, map[string]int{}
	for _, x := range a {
		ca[x]++
	}
	for _, x := range b {
		cb[x]++
	}
	var diffs []string
	for _, x := range slices.Sorted(maps.Keys(ca)) {
		if ca[x] != cb[x] {
			diffs = append(diffs, fmt.Sprintf("%q ×%d vs ×%d", x, ca[x], cb[x]))
		}
	}
	for _, x := range slices.Sorted(maps.Keys(cb)) {
		if ca[x] == 0 {
			diffs = append(diffs, fmt.Sprintf("%q ×0 vs ×%d", x, cb[x]))
		}
	}
	return strings.Join(diffs, "; ")
}

// nodeDB is what the harness reads from a stopped node's SQLite file.
type nodeDB struct {
	twins map[string]string // local id → remote id
	// stages counts events per direction and stage ("out synchronized").
	stages map[string]int
	// failed are the unfinished events that show why (visibly failed);
	// stuck those that don't.
	failed, stuck []string
	pending       int // rows left in pending_writes
	integrity     error
}

// readNodeDB opens a stopped node's database with the store (as the node
// would on its next start: spec, its file or URL), runs the integrity
// check (PRAGMA integrity_check on SQLite) and reads the
// connection's twins, events and pending writes.
func readNodeDB(ctx context.Context, spec, connID string) (nodeDB, error) {
	st, err := store.Open(ctx, spec)
	if err != nil {
		return nodeDB{}, err
	}
	defer st.Close()
	out := nodeDB{twins: map[string]string{}, stages: map[string]int{}}
	out.integrity = st.IntegrityCheck(ctx)
	db := st.DB()
	if err := eachRow(ctx, db, func(r *sql.Rows) error {
		var local, remote string
		if err := r.Scan(&local, &remote); err != nil {
			return err
		}
		out.twins[local] = remote
		return nil
	}, `SELECT local_id, remote_id FROM twins WHERE connection_id = ?`, connID); err != nil {
		return out, err
	}
	if err := eachRow(ctx, db, func(r *sql.Rows) error {
		var id, dir, stage, errText, entity string
		if err := r.Scan(&id, &dir, &stage, &errText, &entity); err != nil {
			return err
		}
		out.stages[dir+" "+stage]++
		switch {
		case stage == engine.StageSynchronized:
		case errText != "":
			out.failed = append(out.failed, fmt.Sprintf("%s %s (%s) at %s: %s", dir, id, entity, stage, errText))
		default:
			out.stuck = append(out.stuck, fmt.Sprintf("%s %s (%s) at %s with no error", dir, id, entity, stage))
		}
		return nil
	}, `SELECT id, direction, stage, error, entity_id FROM sync_events WHERE connection_id = ?`, connID); err != nil {
		return out, err
	}
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM pending_writes`).Scan(&out.pending)
	return out, err
}

func eachRow(ctx context.Context, db *sql.DB, f func(*sql.Rows) error, query string, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// total sums an event count map.
func (d nodeDB) total() int {
	n := 0
	for _, v := range d.stages {
		n += v
	}
	return n
}

// stageSummary renders the event counts, sorted.
func (d nodeDB) stageSummary() string {
	var parts []string
	for k, v := range d.stages {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// compareTwinTables checks the nodes' own records against what the
// trackers show: Acme's and Globex's twins are each other's inverse and
// agree with the pairs found by name, and every Acme task has one.
func compareTwinTables(acme, globex nodeDB, pairs map[string]string, a, b map[string]sideTask) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for local, remote := range acme.twins {
		if back, ok := globex.twins[remote]; !ok || back != local {
			add("Acme links %s to %s, but Globex links %s to %q", local, remote, remote, back)
		}
		if _, ok := b[remote]; !ok {
			add("Acme links %s to %s, which is not in Globex's project", local, remote)
		}
	}
	for local, remote := range globex.twins {
		if _, ok := acme.twins[remote]; !ok {
			add("Globex links %s to %s, which Acme does not link back", local, remote)
		}
	}
	for aid := range a {
		remote, ok := acme.twins[aid]
		switch {
		case !ok:
			add("Acme task %s (%q) has no twin recorded", aid, a[aid].Summary)
		case pairs[aid] != "" && pairs[aid] != remote:
			add("Acme task %s is recorded as twin of %s but its name matches %s", aid, remote, pairs[aid])
		}
	}
	for bid := range b {
		if _, ok := globex.twins[bid]; !ok {
			add("Globex task %s (%q) is linked to nothing: a copy made twice?", bid, b[bid].Summary)
		}
	}
	return problems
}
