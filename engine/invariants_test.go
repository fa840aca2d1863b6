package engine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store"
)

// The invariants checker: after a sync under faults, both projects must
// agree. It reads both trackers through clients of its own (whose reads
// retry through any fault the sandboxes inject) and both nodes' stores, and
// checks that
//
//   - every task in either project has exactly one twin in the other, and
//     both nodes' twin records agree;
//   - summaries are duplicated in one project exactly as in the other;
//   - twins have the same type, summary and description;
//   - each twin pair's comments are equal as multisets (modulo the
//     "<strong>author</strong> (origin): " the sync puts in front of what it
//     copies), and every comment is linked to one comment of the twin, the
//     same way on both nodes;
//   - attachments are equal as multisets of (name, size, sha256 of the
//     bytes), and linked the same way;
//   - every sync event on both nodes is Synchronized.

// pairing is a connection and its two ends, what the checker looks at.
type pairing struct {
	a, b         *testNode
	connA, connB engine.Connection
}

// invariantsReport is what a successful check saw.
type invariantsReport struct {
	// Tasks, Comments and Files count what was compared, per side.
	Tasks, Comments, Files int
	// Events counts the sync events on both nodes, all Synchronized.
	Events int
	// Rounds is how many full reads it took to see the invariants hold.
	Rounds int
	// Waited is the time from the call to the invariants holding.
	Waited time.Duration
	// Skipped lists what the nodes reported as not applied, and why.
	Skipped []string
	// A and B are the tasks read on each side, by id.
	A, B map[string]taskState
	// AtoB and BtoA map a task's id to its twin's (the two sandboxes
	// number their objects alike: ids of the two sides may collide).
	AtoB, BtoA map[string]string
}

// checkInvariants waits until both nodes have settled and the invariants
// hold, or within has passed; then it fails the test with the precise
// differences (and the syncs that are not done, with their errors).
func checkInvariants(t *testing.T, p pairing, within time.Duration) invariantsReport {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(30*time.Second))
	defer cancel()
	ra, rb := newReader(t, p.a), newReader(t, p.b)
	var diffs []string
	for round := 1; ; round++ {
		settle(ctx, p, deadline)
		sa, err := readSide(ctx, p.a, ra, p.connA, p.b.Info().Name)
		if err != nil {
			t.Fatalf("reading %s for the check: %v", p.a.Info().Name, err)
		}
		sb, err := readSide(ctx, p.b, rb, p.connB, p.a.Info().Name)
		if err != nil {
			t.Fatalf("reading %s for the check: %v", p.b.Info().Name, err)
		}
		var rep invariantsReport
		rep, diffs = compareSides(sa, sb)
		if len(diffs) == 0 {
			rep.Rounds, rep.Waited = round, time.Since(start)
			t.Logf("invariants hold after %v (%d reads): %d twin pairs, %d comments and %d attachments per side, %d sync events",
				rep.Waited.Round(time.Millisecond), round, rep.Tasks, rep.Comments, rep.Files, rep.Events)
			for _, s := range rep.Skipped {
				t.Logf("reported as not applied: %s", s)
			}
			return rep
		}
		if time.Now().After(deadline) {
			break
		}
	}
	if len(diffs) > 60 {
		diffs = append(diffs[:60], fmt.Sprintf("… and %d more", len(diffs)-60))
	}
	t.Fatalf("after %v the two sides still differ:\n  %s", within, strings.Join(diffs, "\n  "))
	return invariantsReport{}
}

// newReader is a client of n's sandbox for the checker alone: its reads
// retry quickly and many times, so injected faults and 429s delay them but
// never fail them, and it shares no rate-limit hold with the node's client.
func newReader(t *testing.T, n *testNode) *asana.Tracker {
	t.Helper()
	c, err := asana.New(asana.Config{BaseURL: n.asanaURL, Token: n.sb.Token(), RequestsPerMinute: -1,
		MaxRetries: 60, BackoffBase: 5 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tr := asana.NewTracker(c, "")
	if _, err := tr.Check(ctxFor(t)); err != nil { // as a node does first: it finds the workspace
		t.Fatal(err)
	}
	return tr
}

// settle waits (at most until deadline) until neither node has a sync in
// progress, both have looked for changes since, and still none is in
// progress: then what the trackers hold is what the syncs made of it.
func settle(ctx context.Context, p pairing, deadline time.Time) {
	ends := []struct {
		n    *testNode
		conn string
	}{{p.a, p.connA.ID}, {p.b, p.connB.ID}}
	busy := func() bool {
		for _, e := range ends {
			var n int
			e.n.Store().DB().QueryRowContext(ctx, `SELECT count(*) FROM sync_events WHERE stage != 'synchronized'`).Scan(&n)
			if n > 0 {
				return true
			}
		}
		return false
	}
	looked := func(since time.Time) bool {
		for _, e := range ends {
			if _, at, err := e.n.Store().DetectCursor(ctx, e.conn); err != nil || !at.After(since) {
				return false
			}
		}
		return true
	}
	poll := func(done func() bool) bool {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for !done() {
			if time.Now().After(deadline) {
				return false
			}
			<-tick.C
		}
		return true
	}
	if !poll(func() bool { return !busy() }) {
		return
	}
	since := time.Now()
	if !poll(func() bool { return looked(since) }) {
		return
	}
	poll(func() bool { return !busy() })
}

// taskState is one task as the checker read it.
type taskState struct {
	ID, Summary, Description, Type string
	Comments                       []commentState
	Files                          []fileState
}

// commentState is a comment with the sync's attribution taken off: Author
// and Body are the original author's and words on either side.
type commentState struct{ ID, Author, Body string }

func (c commentState) core() string { return c.Author + " | " + c.Body }

// fileState is an attachment and the sha256 of its bytes.
type fileState struct {
	ID, Name string
	Size     int64
	SHA256   string
}

func (f fileState) core() string {
	return fmt.Sprintf("%s (%d bytes, sha256 %.12s)", f.Name, f.Size, f.SHA256)
}

// sideState is one end of the connection: its project's tasks and what its
// store records.
type sideState struct {
	name  string
	tasks map[string]taskState
	twins map[string]store.Twin
	// links maps a link kind and a local item id to the remote item id.
	links      map[string]map[string]string
	events     int
	unfinished []string
	skipped    []string
}

// attribution is what the sync puts in front of a comment it copies.
var attribution = regexp.MustCompile(`^<body><strong>(.*?)</strong> \((.*?)\): `)

// readSide reads n's project through r, and n's records for conn. Copied
// comments are recognised by their attribution to origin, the other node.
func readSide(ctx context.Context, n *testNode, r *asana.Tracker, conn engine.Connection, origin string) (*sideState, error) {
	s := &sideState{name: n.Info().Name, tasks: map[string]taskState{}, twins: map[string]store.Twin{},
		links: map[string]map[string]string{store.LinkComment: {}, store.LinkAttachment: {}}}
	ids, err := r.List(ctx, conn.LocalProject)
	if err != nil {
		return nil, err
	}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
		work  = make(chan string)
	)
	for range 6 {
		wg.Go(func() {
			for id := range work {
				ts, err := readTask(ctx, r, id, origin)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				s.tasks[id] = ts
				mu.Unlock()
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return s, s.readStore(ctx, n.Store(), conn.ID)
}

// readTask reads one task, its comments and its attachments' bytes.
func readTask(ctx context.Context, r *asana.Tracker, id, origin string) (taskState, error) {
	e, err := r.Get(ctx, id)
	if err != nil {
		return taskState{}, err
	}
	ts := taskState{ID: e.ID, Summary: e.Summary, Description: e.Description, Type: e.Type}
	for _, c := range e.Comments {
		cs := commentState{ID: c.ID, Author: c.Author, Body: c.Body}
		if m := attribution.FindStringSubmatch(c.Body); m != nil && m[2] == origin {
			cs.Author, cs.Body = html.UnescapeString(m[1]), "<body>"+strings.TrimPrefix(c.Body, m[0])
		}
		ts.Comments = append(ts.Comments, cs)
	}
	for _, a := range e.Attachments {
		sum, size, err := fileSum(ctx, r, a.ID)
		if err != nil {
			return taskState{}, fmt.Errorf("attachment %s (%s) of task %s: %w", a.ID, a.Name, id, err)
		}
		ts.Files = append(ts.Files, fileState{ID: a.ID, Name: a.Name, Size: size, SHA256: sum})
	}
	return ts, nil
}

// fileSum downloads an attachment and hashes it, trying again when a
// fault cuts the download.
func fileSum(ctx context.Context, r *asana.Tracker, id string) (string, int64, error) {
	var err error
	for range 10 {
		var rc io.ReadCloser
		rc, _, err = r.OpenAttachment(ctx, id)
		if err != nil {
			if errors.Is(err, asana.ErrNotFound) || ctx.Err() != nil {
				return "", 0, err
			}
			continue
		}
		h := sha256.New()
		var size int64
		size, err = io.Copy(h, rc)
		rc.Close()
		if err == nil {
			return hex.EncodeToString(h.Sum(nil)), size, nil
		}
	}
	return "", 0, err
}

// readStore reads the node's twins, links and events for the connection.
func (s *sideState) readStore(ctx context.Context, st *store.Store, connID string) error {
	db := st.DB()
	rows, err := db.QueryContext(ctx, `SELECT local_id FROM twins WHERE connection_id = ?`, connID)
	if err != nil {
		return err
	}
	var locals []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		locals = append(locals, id)
	}
	rows.Close()
	for _, id := range locals {
		tw, err := st.Twin(ctx, nil, connID, id)
		if err != nil {
			return err
		}
		s.twins[id] = tw
	}
	rows, err = db.QueryContext(ctx, `SELECT kind, local_id, remote_id FROM item_links WHERE connection_id = ?`, connID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var kind, local, remote string
		if err := rows.Scan(&kind, &local, &remote); err != nil {
			rows.Close()
			return err
		}
		s.links[kind][local] = remote
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT id, direction, stage, error, local_key, result FROM sync_events WHERE connection_id = ?`, connID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, dir, stage, errText, key string
		var result []byte
		if err := rows.Scan(&id, &dir, &stage, &errText, &key, &result); err != nil {
			return err
		}
		s.events++
		if stage != engine.StageSynchronized {
			s.unfinished = append(s.unfinished, fmt.Sprintf("%s: %s sync %s of %q is at %s (error: %q)", s.name, dir, id, key, stage, errText))
		}
		var res engine.ApplyResult
		if dir == "in" && len(result) > 0 && json.Unmarshal(result, &res) == nil {
			for _, why := range res.Skipped {
				s.skipped = append(s.skipped, s.name+": "+why)
			}
		}
	}
	return rows.Err()
}
