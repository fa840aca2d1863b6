package engine_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/internal/trackers"
)

// TestNoSuchItemInOneLine checks, on a node of every tracker kind, that an
// item the tracker does not have is one line in the tracker's words (its
// item noun, its name, where else the item may be) for exalate and status,
// rather than the client's 404 (trap 8 of issue 14).
func TestNoSuchItemInOneLine(t *testing.T) {
	for _, k := range trackers.All() {
		t.Run(k.Name(), func(t *testing.T) {
			n := startKindNode(t, k, "Globex", &clock{})
			ctx := ctxFor(t)
			ps, err := n.Projects(ctx)
			if err != nil || len(ps) == 0 {
				t.Fatalf("projects: %v %v", ps, err)
			}
			// An item's key made longer: the same form, no such item.
			ref := firstTask(t, n, ps[0].ID).Key + "000"
			v := k.Vocabulary
			want := "No " + v.Item + " " + ref + " in Globex's " + v.Title + " (it may have been deleted, or is " + v.Elsewhere + ")"
			_, err = n.Exalate(ctx, "", ref)
			if !errors.Is(err, engine.ErrNotFound) || err.Error() != want {
				t.Errorf("exalate: err = %v, want %q", err, want)
			}
			_, err = n.Status(ctx, "", ref)
			if !errors.Is(err, engine.ErrNotFound) || err.Error() != want {
				t.Errorf("status: err = %v, want %q", err, want)
			}
		})
	}
}

// TestTypeNoteSaysWhichTypeAndWhy checks the note a sync carries when the
// item could not take the other side's type (trap 13): it names the type
// the item has and why, the type it lacks or the change its tracker
// refused, and reads as what was done, not as a failure.
func TestTypeNoteSaysWhichTypeAndWhy(t *testing.T) {
	jira := pairOf(t, "jira")
	a, b, connA, connB := connectedPair(t, jira.start, jira.project)
	ctx := ctxFor(t)
	noteOf := func(n *testNode, conn, event string) []string {
		t.Helper()
		st, err := n.EventStatus(ctx, conn, event)
		if err != nil {
			t.Fatal(err)
		}
		return st.Notes
	}
	want := func(what string, notes []string, note string) {
		t.Helper()
		if !slices.Contains(notes, note) {
			t.Errorf("%s: notes %q, want %q", what, notes, note)
		}
	}

	// An Asana milestone on Jira, which has none: a Task.
	ms, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Type: "milestone", Summary: "launch day"})
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, ms.URL)
	want("an Asana milestone", noteOf(a, done.ConnectionID, done.EventID),
		done.RemoteKey+` is a "Task": Globex's Jira has no type "milestone", so it got the default type`)

	// A Jira Bug on Asana: a task, named as Asana's users know it.
	bug, err := b.et().Create(ctx, engine.NewEntity{Project: connB.LocalProject, Type: "Bug", Summary: "a Jira bug"})
	if err != nil {
		t.Fatal(err)
	}
	done = exalate(t, b, bug.Key)
	want("a Jira Bug", noteOf(b, done.ConnectionID, done.EventID),
		done.RemoteKey+` is a "task": Acme's Asana has no type "Bug", so it got the default type`)

	// An Epic made a milestone on Asana: Jira refuses to make it a Task.
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
	st, err := b.Status(ctx, "", epic.ID)
	if err != nil {
		t.Fatal(err)
	}
	want("an Epic Jira keeps", st.Notes,
		epic.Key+` is still an "Epic": Globex's Jira refused to change its type to "Task", its default type, as it has no type "milestone"`)
	for _, n := range st.Notes {
		if strings.Contains(n, "could not") || strings.Contains(n, "one of") {
			t.Errorf("a note reads like a failure: %q", n)
		}
	}
}
