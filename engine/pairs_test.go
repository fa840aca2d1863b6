package engine_test

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/internal/trackers"
)

// trackerPairs are the pairs of trackers the two-node tests run over, one
// per kind in trackers.All: Acme is always on Asana (startNode, its Company
// project); Globex is a node of the kind (startKindNode), syncing the
// kind's SandboxProject. A kind added to the list is paired by itself.
func trackerPairs() []trackerPair {
	var ps []trackerPair
	for _, k := range trackers.All() {
		ps = append(ps, pairWith(k), inScriptMode(pairWith(k)))
	}
	return ps
}

// inScriptMode is pair p with its connection made in Script mode: both
// sides run the scripts that do what Basic does (Basic ≡ Script), so every
// pair test must pass the same in both modes.
func inScriptMode(p trackerPair) trackerPair {
	start := p.start
	p.name += "-script"
	p.start = func(t *testing.T, name string, clk *clock, opts ...func(*testNode)) *testNode {
		t.Helper()
		return start(t, name, clk, append(opts, func(n *testNode) { n.mode = engine.ModeScript })...)
	}
	return p
}

// trackerPair is Asana and one tracker kind, with the starter of the
// kind's node and the project it syncs.
type trackerPair struct {
	name    string
	kind    string
	start   func(t *testing.T, name string, clk *clock, opts ...func(*testNode)) *testNode
	project string
}

// pairWith pairs Asana with kind k: Globex starts from k's value alone.
func pairWith(k trackers.Kind) trackerPair {
	return trackerPair{name: "asana-" + k.Name(), kind: k.Name(), project: k.SandboxProject,
		start: func(t *testing.T, name string, clk *clock, opts ...func(*testNode)) *testNode {
			t.Helper()
			return startKindNode(t, k, name, clk, opts...)
		}}
}

// pairTest is a test every pair of trackers runs.
type pairTest struct {
	name string
	run  func(t *testing.T, p trackerPair)
}

// pairTests are the tests every pair runs: each has its Test function
// running it over trackerPairs, and a test kind of the tests' own (the
// fake in fakekind_test.go) runs them all over its pair from its own file.
// A new pair test is a func(*testing.T, trackerPair), its Test function
// (forEachPair) and a line here; TestPairTestsListed fails on a pair test
// left out.
func pairTests() []pairTest {
	return []pairTest{
		{"SyncBothWays", pairSyncBothWays},
		{"InterruptedWritesAreNotDoubled", pairInterruptedWrites},
		{"SummariesWithControlCharactersConverge", pairSummariesConverge},
		{"TypeFallback", pairTypeFallback},
	}
}

// forEachPair runs test over every pair of trackerPairs, as subtests
// named after the pairs; in parallel with the nodes on PostgreSQL
// (parallelOnPostgres).
func forEachPair(t *testing.T, test func(*testing.T, trackerPair)) {
	for _, p := range trackerPairs() {
		t.Run(p.name, func(t *testing.T) {
			parallelOnPostgres(t)
			test(t, p)
		})
	}
}

// connectedPair starts Acme on Asana and Globex on the pair's tracker and
// connects Company with Globex's project by invitation.
func connectedPair(t *testing.T, start func(*testing.T, string, *clock, ...func(*testNode)) *testNode, project string, opts ...func(*testNode)) (a, b *testNode, connA, connB engine.Connection) {
	t.Helper()
	a, b = startNode(t, "Acme", &clock{}), start(t, "Globex", &clock{}, opts...)
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company", Mode: b.mode})
	if err != nil {
		t.Fatal(err)
	}
	if connB, err = b.Accept(ctx, code, project); err != nil {
		t.Fatal(err)
	}
	return a, b, connA, connB
}

// read gets an entity from a node's tracker, failing the test on error.
func read(t *testing.T, n *testNode, id string) engine.Entity {
	t.Helper()
	e, err := n.et().Get(ctxFor(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// attach uploads a file as a user would.
func attach(t *testing.T, n *testNode, id, name string, data []byte) {
	t.Helper()
	if _, err := n.et().AddAttachment(ctxFor(t), id, name, int64(len(data)), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}); err != nil {
		t.Fatal(err)
	}
}

// commentsWith counts an entity's comments whose body contains s.
func commentsWith(e engine.Entity, s string) int {
	n := 0
	for _, c := range e.Comments {
		if strings.Contains(c.Body, s) {
			n++
		}
	}
	return n
}

// richDescription uses every construct both trackers' rich text share.
const richDescription = "<body><h1>Release plan</h1>Ship <strong>on Friday</strong>, not <em>Monday</em>; " +
	"see <a href=\"https://example.com/plan\">the plan</a> and <code>make release</code>.\n" +
	"<ul><li>notes</li><li>binaries</li></ul><ol><li>tag</li><li>announce</li></ol></body>"

// TestTrackerPairsSyncBothWays runs create, edits both ways, comments and
// attachments over each pair of trackers, with no duplicates and no echoes.
func TestTrackerPairsSyncBothWays(t *testing.T) { forEachPair(t, pairSyncBothWays) }

func pairSyncBothWays(t *testing.T, p trackerPair) {
	a, b, connA, connB := connectedPair(t, p.start, p.project)
	ctx := ctxFor(t)
	if got := b.Info().Tracker; got != p.kind {
		t.Fatalf("pair %s started a %s node, want %s", p.name, got, p.kind)
	}

	// Create on Acme, with a comment and a file, and exalate it.
	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Plan the release", Description: richDescription})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.et().AddComment(ctx, src.ID, "<body>First <strong>draft</strong> is in.</body>"); err != nil {
		t.Fatal(err)
	}
	file := bytes.Repeat([]byte("release notes\n"), 5000)
	attach(t, a, src.ID, "notes.txt", file)
	done := exalate(t, a, src.URL)
	twin := read(t, b, done.RemoteKey)
	if twin.Summary != "Plan the release" || twin.Description != read(t, a, src.ID).Description {
		t.Errorf("twin on %s: %q %q, want the source's summary and description %q", p.name, twin.Summary, twin.Description, richDescription)
	}
	if twin.Project != connB.LocalProject {
		t.Errorf("twin made in project %q, want %q", twin.Project, connB.LocalProject)
	}
	if commentsWith(twin, "draft") != 1 || len(twin.Comments) != 1 {
		t.Errorf("twin's comments: %+v, want the one comment, once", twin.Comments)
	}
	if len(twin.Attachments) != 1 || twin.Attachments[0].Name != "notes.txt" || sum(t, b, twin.Attachments[0].ID) != sum(t, a, read(t, a, src.ID).Attachments[0].ID) {
		t.Errorf("twin's attachments: %+v, want notes.txt with the same bytes", twin.Attachments)
	}

	// Globex edits the summary and comments: it reaches Acme on
	// its own (change detection), once.
	newSummary := "Plan the release (moved to Thursday)"
	if _, err := b.et().Update(ctx, twin.ID, engine.EntityUpdate{Summary: &newSummary}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.et().AddComment(ctx, twin.ID, "<body>Thursday works for QA.</body>"); err != nil {
		t.Fatal(err)
	}
	attach(t, b, twin.ID, "qa.log", []byte("all green\n"))
	within(t, 30*time.Second, "Globex's edits on Acme", func() bool {
		e := read(t, a, src.ID)
		return e.Summary == newSummary && commentsWith(e, "Thursday works") == 1 && len(e.Attachments) == 2
	})

	// Globex corrects its comment: the copy on Acme follows.
	eB := read(t, b, twin.ID)
	mine := eB.Comments[len(eB.Comments)-1]
	if _, err := b.et().EditComment(ctx, mine.ID, "<body>Thursday works for QA and docs.</body>"); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "the corrected comment on Acme", func() bool {
		e := read(t, a, src.ID)
		return commentsWith(e, "QA and docs") == 1 && len(e.Comments) == 2
	})

	// Acme rewrites the description: it reaches Globex.
	desc := "<body>Moved: <strong>Thursday</strong>.\n<ul><li>QA signed off</li></ul></body>"
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Description: &desc}); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "Acme's description on Globex", func() bool {
		return read(t, b, twin.ID).Description == read(t, a, src.ID).Description
	})

	// Both sides settle with the same things once each: no
	// duplicate comments, files or items, nothing sent back.
	eA := read(t, a, src.ID)
	eB = read(t, b, twin.ID)
	if len(eA.Comments) != 2 || len(eB.Comments) != 2 || len(eA.Attachments) != 2 || len(eB.Attachments) != 2 {
		t.Errorf("after the edits: Acme %d comments %d files, Globex %d comments %d files; want 2 of each on both",
			len(eA.Comments), len(eA.Attachments), len(eB.Comments), len(eB.Attachments))
	}
	idsB, err := b.et().List(ctx, connB.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	if n := countSummaries(t, b, idsB, newSummary); n != 1 {
		t.Errorf("%d items on Globex named %q, want 1", n, newSummary)
	}
	settledWithoutEcho(t, a, b)
}

// countSummaries counts the entities among ids whose summary is s.
func countSummaries(t *testing.T, n *testNode, ids []string, s string) int {
	t.Helper()
	c := 0
	for _, id := range ids {
		if read(t, n, id).Summary == s {
			c++
		}
	}
	return c
}

// settledWithoutEcho checks that the nodes stop: every sync finishes, and a few more
// polls of both trackers start none (an echo would).
func settledWithoutEcho(t *testing.T, nodes ...*testNode) {
	t.Helper()
	within(t, 30*time.Second, "every sync to finish", func() bool {
		for _, n := range nodes {
			var open int
			if err := n.Store().DB().QueryRow(`SELECT count(*) FROM sync_events WHERE stage != ?`, engine.StageSynchronized).Scan(&open); err != nil {
				t.Fatal(err)
			}
			if open > 0 {
				return false
			}
		}
		return true
	})
	before := make([]int, len(nodes))
	for i, n := range nodes {
		before[i] = sent(t, n)
	}
	// Two full rounds of change detection on every connection of both
	// nodes, each started after the sides settled, must start nothing.
	for _, n := range nodes {
		cs, err := n.Connections(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			mark := time.Now()
			for range 2 {
				within(t, 30*time.Second, "a round of change detection", func() bool {
					_, checked, err := n.Store().DetectCursor(ctxFor(t), c.ID)
					if err == nil && checked.After(mark) {
						mark = checked
						return true
					}
					return false
				})
			}
		}
	}
	for i, n := range nodes {
		if got := sent(t, n); got != before[i] {
			t.Errorf("%d syncs sent after the sides settled: an echo", got-before[i])
		}
	}
}

// TestTrackerPairsTypeFallback: each of Asana's types arrives on the
// pair's tracker as the type of the same name there (default_task is a
// Task), else as its default type; the twin's status keeps the Asana type
// only when it was not mirrored. The kind-specific cases (Jira's own types,
// a type change Jira refuses) are TestTrackerPairsTypes'.
func TestTrackerPairsTypeFallback(t *testing.T) { forEachPair(t, pairTypeFallback) }

func pairTypeFallback(t *testing.T, p trackerPair) {
	a, b, connA, connB := connectedPair(t, p.start, p.project)
	ctx := ctxFor(t)
	types, def, err := b.et().Types(ctx, connB.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	names := tracker.NewTypeNames(b.kindVocabularies()...)
	for _, from := range []string{"default_task", "milestone", "approval"} {
		want := def
		if i := slices.IndexFunc(types, func(typ string) bool { return names.Same(from, typ) }); i >= 0 {
			want = types[i]
		}
		e, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Type: from, Summary: "an Asana " + from})
		if err != nil {
			t.Fatal(err)
		}
		done := exalate(t, a, e.URL)
		if got := read(t, b, done.RemoteKey).Type; got != want {
			t.Errorf("Asana %s arrived on %s as %s, want %s (its types %v)", from, p.kind, got, want, types)
		}
		st, err := b.Status(ctx, "", done.RemoteKey)
		if err != nil {
			t.Fatal(err)
		}
		if kept := map[bool]string{true: "", false: from}[names.Same(from, want)]; st.RemoteType != kept {
			t.Errorf("%s's status of the Asana %s keeps type %q, want %q", p.kind, from, st.RemoteType, kept)
		}
	}
}

// TestTrackerPairsTypes: types are mirrored where both sides have them, a
// type the destination lacks becomes its default type, and the original
// type is kept so that edits from the other side never lose it.
func TestTrackerPairsTypes(t *testing.T) {
	asanaPair, jira := pairOf(t, "asana"), pairOf(t, "jira")
	t.Run("asana-asana", func(t *testing.T) {
		parallelOnPostgres(t)
		a, b, connA, _ := connectedPair(t, asanaPair.start, asanaPair.project)
		for _, typ := range []string{"default_task", "milestone", "approval"} {
			e, err := a.et().Create(ctxFor(t), engine.NewEntity{Project: connA.LocalProject, Type: typ, Summary: "a " + typ})
			if err != nil {
				t.Fatal(err)
			}
			done := exalate(t, a, e.URL)
			if got := read(t, b, done.RemoteKey).Type; got != typ {
				t.Errorf("%s arrived as %s", typ, got)
			}
		}
	})

	t.Run("asana-jira", func(t *testing.T) {
		parallelOnPostgres(t)
		a, b, connA, connB := connectedPair(t, jira.start, jira.project)
		ctx := ctxFor(t)
		for _, c := range []struct{ from, want string }{
			{"default_task", "Task"}, // the same type under two names
			{"milestone", "Task"},    // KAN has no Milestone: Jira's default
			{"approval", "Task"},
		} {
			e, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Type: c.from, Summary: "an Asana " + c.from})
			if err != nil {
				t.Fatal(err)
			}
			done := exalate(t, a, e.URL)
			if got := read(t, b, done.RemoteKey).Type; got != c.want {
				t.Errorf("Asana %s arrived on Jira as %s, want %s", c.from, got, c.want)
			}
			st, err := b.Status(ctx, "", done.RemoteKey)
			if err != nil {
				t.Fatal(err)
			}
			if kept := map[bool]string{true: c.from, false: ""}[c.from != "default_task"]; st.RemoteType != kept {
				t.Errorf("Jira's status of the %s keeps type %q, want %q", c.from, st.RemoteType, kept)
			}
		}

		// Jira's own types: a Bug, a Story and an Improvement become Asana
		// tasks, a Task a task without anything kept.
		for _, typ := range []string{"Bug", "Story", "Improvement", "Task"} {
			e, err := b.et().Create(ctx, engine.NewEntity{Project: connB.LocalProject, Type: typ, Summary: "a Jira " + typ})
			if err != nil {
				t.Fatal(err)
			}
			done := exalate(t, b, e.Key)
			asanaTask := read(t, a, done.RemoteKey)
			if asanaTask.Type != "default_task" {
				t.Errorf("Jira %s arrived on Asana as %s, want default_task", typ, asanaTask.Type)
			}
			st, err := a.Status(ctx, "", asanaTask.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := typ
			if typ == "Task" {
				want = ""
			}
			if st.RemoteType != want {
				t.Errorf("Asana's status of the Jira %s keeps type %q, want %q", typ, st.RemoteType, want)
			}
			if typ == "Task" {
				continue
			}
			synced, err := b.EventStatus(ctx, done.ConnectionID, done.EventID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(synced.Notes, func(n string) bool { return strings.Contains(n, fmt.Sprintf("%q", typ)) }) {
				t.Errorf("the sync of the Jira %s says nothing of its type: notes %q", typ, synced.Notes)
			}

			// An Asana user renames the task: the rename reaches Jira,
			// and the issue is still a Bug (Story, Improvement).
			renamed := "a Jira " + typ + ", renamed on Asana"
			if _, err := a.et().Update(ctx, asanaTask.ID, engine.EntityUpdate{Summary: &renamed}); err != nil {
				t.Fatal(err)
			}
			within(t, 30*time.Second, "the rename on Jira", func() bool { return read(t, b, e.ID).Summary == renamed })
			if got := read(t, b, e.ID).Type; got != typ {
				t.Errorf("after a rename on Asana the Jira %s is a %s", typ, got)
			}
		}

		// A type change on Jira to a type Asana lacks: Asana keeps its
		// default and remembers Bug; Jira's own memory of the Asana
		// milestone it could not hold is gone, since Jira's type now
		// stands.
		ms, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Type: "milestone", Summary: "launch day"})
		if err != nil {
			t.Fatal(err)
		}
		done := exalate(t, a, ms.URL)
		bug := "Bug"
		if _, err := b.et().Update(ctx, done.RemoteKey, engine.EntityUpdate{Type: &bug}); err != nil {
			t.Fatal(err)
		}
		within(t, 30*time.Second, "Jira's Bug on Asana", func() bool { return read(t, a, ms.ID).Type == "default_task" })
		settledWithoutEcho(t, a, b)
		if st, err := a.Status(ctx, "", ms.ID); err != nil || st.RemoteType != "Bug" {
			t.Errorf("Asana keeps %q (%v), want Bug", st.RemoteType, err)
		}
		if st, err := b.Status(ctx, "", done.RemoteKey); err != nil || st.RemoteType != "" {
			t.Errorf("Jira still keeps %q (%v) for an Asana type that was replaced", st.RemoteType, err)
		}
		if got := read(t, b, done.RemoteKey).Type; got != "Bug" {
			t.Errorf("the Jira issue is a %s, want Bug", got)
		}

		// A type change Jira refuses (an Epic can't become a Task by an
		// edit): the rename in the same change goes through, the Epic
		// stays, and the sync says so.
		epic, err := b.et().Create(ctx, engine.NewEntity{Project: connB.LocalProject, Type: "Epic", Summary: "Q3 launch"})
		if err != nil {
			t.Fatal(err)
		}
		done = exalate(t, b, epic.Key)
		milestone, renamed := "milestone", "Q3 launch (moved)"
		if _, err := a.et().Update(ctx, done.RemoteKey, engine.EntityUpdate{Type: &milestone, Summary: &renamed}); err != nil {
			t.Fatal(err)
		}
		within(t, 30*time.Second, "the rename on Jira", func() bool { return read(t, b, epic.ID).Summary == renamed })
		settledWithoutEcho(t, a, b)
		if got := read(t, b, epic.ID).Type; got != "Epic" {
			t.Errorf("the Epic became a %s", got)
		}
		st, err := b.Status(ctx, "", epic.ID)
		if err != nil || st.RemoteType != "milestone" || !slices.ContainsFunc(st.Notes, func(n string) bool { return strings.Contains(n, `"milestone"`) }) {
			t.Errorf("Jira's status of the Epic: kept %q, notes %q (%v); want milestone, said", st.RemoteType, st.Notes, err)
		}
		if got := read(t, a, done.RemoteKey).Type; got != "milestone" {
			t.Errorf("the Asana task went from milestone to %s", got)
		}
	})

	t.Run("jira default type is a node setting", func(t *testing.T) {
		parallelOnPostgres(t)
		a, b, connA, _ := connectedPair(t, jira.start, jira.project, func(n *testNode) { n.defaultType = "Story" })
		e, err := a.et().Create(ctxFor(t), engine.NewEntity{Project: connA.LocalProject, Type: "milestone", Summary: "a milestone"})
		if err != nil {
			t.Fatal(err)
		}
		done := exalate(t, a, e.URL)
		if got := read(t, b, done.RemoteKey).Type; got != "Story" {
			t.Errorf("with default type Story, a milestone arrived as %s", got)
		}
	})
}
