package engine_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/store"
)

// compareSides checks the invariants and returns every difference found.
func compareSides(a, b *sideState) (invariantsReport, []string) {
	rep := invariantsReport{A: a.tasks, B: b.tasks, AtoB: map[string]string{}, BtoA: map[string]string{}, Events: a.events + b.events}
	rep.Skipped = append(slices.Clone(a.skipped), b.skipped...)
	var diffs []string
	diffs = append(diffs, a.unfinished...)
	diffs = append(diffs, b.unfinished...)
	diffs = append(diffs, twinDiffs(a, b, rep.AtoB)...)
	diffs = append(diffs, twinDiffs(b, a, rep.BtoA)...)
	diffs = append(diffs, multisetDiff("summary", a.name, b.name, summaries(a), summaries(b))...)
	for _, id := range slices.Sorted(maps.Keys(a.tasks)) {
		ta := a.tasks[id]
		other, ok := rep.AtoB[id]
		if !ok {
			continue // reported by twinDiffs
		}
		tb := b.tasks[other]
		rep.Tasks++
		rep.Comments += len(ta.Comments)
		rep.Files += len(ta.Files)
		what := fmt.Sprintf("%s %q ↔ %s %s", ta.ID, ta.Summary, b.name, tb.ID)
		for _, f := range []struct{ name, x, y string }{{"type", ta.Type, tb.Type}, {"summary", ta.Summary, tb.Summary},
			{"description", ta.Description, tb.Description}} {
			if f.x != f.y {
				diffs = append(diffs, fmt.Sprintf("%s: %s %q on %s, %q on %s", what, f.name, f.x, a.name, f.y, b.name))
			}
		}
		var ca, cb, fa, fb []string
		for _, c := range ta.Comments {
			ca = append(ca, c.core())
		}
		for _, c := range tb.Comments {
			cb = append(cb, c.core())
		}
		for _, f := range ta.Files {
			fa = append(fa, f.core())
		}
		for _, f := range tb.Files {
			fb = append(fb, f.core())
		}
		diffs = append(diffs, prefixed(what+": ", multisetDiff("comment", a.name, b.name, ca, cb))...)
		diffs = append(diffs, prefixed(what+": ", multisetDiff("attachment", a.name, b.name, fa, fb))...)
		diffs = append(diffs, prefixed(what+": ", linkDiffs(a, b, store.LinkComment, commentIDs(ta), commentIDs(tb)))...)
		diffs = append(diffs, prefixed(what+": ", linkDiffs(a, b, store.LinkAttachment, fileIDs(ta), fileIDs(tb)))...)
	}
	return rep, diffs
}

// twinDiffs checks that every task of x has one twin in y's project that
// y's records link back, and that x records no twin outside its project.
func twinDiffs(x, y *sideState, twinOf map[string]string) []string {
	var diffs []string
	for _, id := range slices.Sorted(maps.Keys(x.tasks)) {
		tw, ok := x.twins[id]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: task %s %q has no twin", x.name, id, x.tasks[id].Summary))
			continue
		case tw.LocalDeleted || tw.RemoteDeleted:
			diffs = append(diffs, fmt.Sprintf("%s: task %s's twin is recorded as deleted", x.name, id))
		}
		if _, ok := y.tasks[tw.RemoteID]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: the twin of %s %q is %s, which is not in %s's project", x.name, id, x.tasks[id].Summary, tw.RemoteID, y.name))
			continue
		}
		if back := y.twins[tw.RemoteID].RemoteID; back != id {
			diffs = append(diffs, fmt.Sprintf("%s links %s to %s, but %s links %s to %q", x.name, id, tw.RemoteID, y.name, tw.RemoteID, back))
			continue
		}
		twinOf[id] = tw.RemoteID
	}
	for _, id := range slices.Sorted(maps.Keys(x.twins)) {
		if _, ok := x.tasks[id]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: a twin is recorded for %s, which is not in its project", x.name, id))
		}
	}
	return diffs
}

// linkDiffs checks that every item of a twin pair is linked, on both
// nodes, to one item of the other side, and that the links agree.
func linkDiffs(a, b *sideState, kind string, onA, onB []string) []string {
	var diffs []string
	check := func(x, y *sideState, mine, theirs []string) {
		for _, id := range mine {
			other, ok := x.links[kind][id]
			switch {
			case !ok:
				diffs = append(diffs, fmt.Sprintf("%s's %s %s is not linked", x.name, kind, id))
			case !slices.Contains(theirs, other):
				diffs = append(diffs, fmt.Sprintf("%s links its %s %s to %s, which is not on the twin on %s", x.name, kind, id, other, y.name))
			case y.links[kind][other] != id:
				diffs = append(diffs, fmt.Sprintf("%s links %s %s to %s, %s links it to %q", x.name, kind, id, other, y.name, y.links[kind][other]))
			}
		}
	}
	check(a, b, onA, onB)
	check(b, a, onB, onA)
	return diffs
}

// multisetDiff names each value whose count differs between the sides.
func multisetDiff(what, nameA, nameB string, a, b []string) []string {
	count := map[string][2]int{}
	for _, v := range a {
		c := count[v]
		c[0]++
		count[v] = c
	}
	for _, v := range b {
		c := count[v]
		c[1]++
		count[v] = c
	}
	var diffs []string
	for _, v := range slices.Sorted(maps.Keys(count)) {
		if c := count[v]; c[0] != c[1] {
			diffs = append(diffs, fmt.Sprintf("%s %q: %d on %s, %d on %s", what, v, c[0], nameA, c[1], nameB))
		}
	}
	return diffs
}

func summaries(s *sideState) []string {
	var out []string
	for _, t := range s.tasks {
		out = append(out, t.Summary)
	}
	return out
}

func commentIDs(t taskState) []string {
	var out []string
	for _, c := range t.Comments {
		out = append(out, c.ID)
	}
	return out
}

func fileIDs(t taskState) []string {
	var out []string
	for _, f := range t.Files {
		out = append(out, f.ID)
	}
	return out
}

func prefixed(p string, ss []string) []string {
	for i := range ss {
		ss[i] = p + ss[i]
	}
	return ss
}

// twoAgreeingSides builds two sides that agree: Acme's tasks 1 and 2 are
// Globex's 2 and 3 (the sandboxes' ids collide), each with a comment
// copied across and a file.
func twoAgreeingSides() (*sideState, *sideState) {
	side := func(name string) *sideState {
		return &sideState{name: name, tasks: map[string]taskState{}, twins: map[string]store.Twin{},
			links: map[string]map[string]string{store.LinkComment: {}, store.LinkAttachment: {}}}
	}
	a, b := side("Acme"), side("Globex")
	for _, pair := range [][2]string{{"1", "2"}, {"2", "3"}} {
		x, y := pair[0], pair[1]
		task := func(id, c, f string) taskState {
			return taskState{ID: id, Summary: "Task " + x, Description: "<body>D</body>", Type: "default_task",
				Comments: []commentState{{ID: c, Author: "Alex Rivera", Body: "<body>Hi from " + x + "</body>"}},
				Files:    []fileState{{ID: f, Name: "f.bin", Size: 3, SHA256: "abc" + x}}}
		}
		a.tasks[x], b.tasks[y] = task(x, "c"+x, "f"+x), task(y, "c"+y, "f"+y)
		a.twins[x], b.twins[y] = store.Twin{LocalID: x, RemoteID: y}, store.Twin{LocalID: y, RemoteID: x}
		a.links[store.LinkComment]["c"+x], b.links[store.LinkComment]["c"+y] = "c"+y, "c"+x
		a.links[store.LinkAttachment]["f"+x], b.links[store.LinkAttachment]["f"+y] = "f"+y, "f"+x
	}
	return a, b
}

// TestInvariantsCheckerSeesDifferences: the checker passes two sides that
// agree and names each way they can differ.
func TestInvariantsCheckerSeesDifferences(t *testing.T) {
	a, b := twoAgreeingSides()
	rep, diffs := compareSides(a, b)
	if len(diffs) != 0 || rep.Tasks != 2 || rep.Comments != 2 || rep.Files != 2 {
		t.Fatalf("two agreeing sides: %d pairs, %d comments, %d files, differences %q", rep.Tasks, rep.Comments, rep.Files, diffs)
	}
	cases := []struct {
		name  string
		spoil func(a, b *sideState)
		want  []string
	}{
		{"a comment doubled", func(a, b *sideState) {
			tk := b.tasks["2"]
			tk.Comments = append(tk.Comments, commentState{ID: "c9", Author: "Alex Rivera", Body: "<body>Hi from 1</body>"})
			b.tasks["2"] = tk
		}, []string{`1 on Acme, 2 on Globex`, "Globex's comment c9 is not linked"}},
		{"a task without a twin", func(a, b *sideState) {
			b.tasks["4"] = taskState{ID: "4", Summary: "Task 1"}
		}, []string{`Globex: task 4 "Task 1" has no twin`, `summary "Task 1": 1 on Acme, 2 on Globex`}},
		{"a summary differs", func(a, b *sideState) {
			tk := b.tasks["3"]
			tk.Summary = "Renamed"
			b.tasks["3"] = tk
		}, []string{`summary "Task 2" on Acme, "Renamed" on Globex`}},
		{"a file's bytes differ", func(a, b *sideState) {
			tk := b.tasks["3"]
			tk.Files = []fileState{{ID: "f3", Name: "f.bin", Size: 3, SHA256: "zzz"}}
			b.tasks["3"] = tk
		}, []string{"attachment \"f.bin (3 bytes, sha256 abc2)\": 1 on Acme, 0 on Globex"}},
		{"twin records disagree", func(a, b *sideState) {
			b.twins["3"] = store.Twin{LocalID: "3", RemoteID: "9"}
		}, []string{`Acme links 2 to 3, but Globex links 3 to "9"`}},
		{"a link points elsewhere", func(a, b *sideState) {
			a.links[store.LinkComment]["c1"] = "c1"
		}, []string{"Acme links its comment c1 to c1, which is not on the twin on Globex"}},
		{"a sync is not done", func(a, b *sideState) {
			a.unfinished = append(a.unfinished, "Acme: out sync e1 is at sending")
		}, []string{"Acme: out sync e1 is at sending"}},
	}
	for _, c := range cases {
		a, b := twoAgreeingSides()
		c.spoil(a, b)
		_, diffs := compareSides(a, b)
		for _, w := range c.want {
			if !slices.ContainsFunc(diffs, func(d string) bool { return strings.Contains(d, w) }) {
				t.Errorf("%s: no difference says %q; got %q", c.name, w, diffs)
			}
		}
	}
}
