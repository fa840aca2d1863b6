package script

// SCRIPTING.md's examples, run: each ```starlark block of the page starts
// with "# example: NAME", and docExamples says what NAME must do. A block
// without a test, or a test without its block, fails, so the page can't
// say one thing while tandem does another.

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine/tracker"
)

const docPath = "../../SCRIPTING.md"

// docBlocks are the page's Starlark blocks by example name.
func docBlocks(t *testing.T) (map[string]string, string) {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	blocks := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)```starlark\n(.*?)```").FindAllStringSubmatch(page, -1) {
		first, _, _ := strings.Cut(m[1], "\n")
		name, ok := strings.CutPrefix(first, "# example: ")
		if !ok {
			t.Errorf("a starlark block of SCRIPTING.md does not start with \"# example: NAME\": %q", first)
			continue
		}
		if _, dup := blocks[name]; dup {
			t.Errorf("two examples named %q", name)
		}
		blocks[name] = m[1]
	}
	return blocks, page
}

// docCheck runs one example, compiled as p.
type docCheck func(t *testing.T, p *Program, src string)

func TestScriptingExamples(t *testing.T) {
	blocks, _ := docBlocks(t)
	checks := docExamples()
	for name := range blocks {
		if checks[name] == nil {
			t.Errorf("SCRIPTING.md's example %q has no test in docExamples", name)
		}
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range checks {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Run(name, func(t *testing.T) {
			src, ok := blocks[name]
			if !ok {
				t.Fatalf("SCRIPTING.md has no example %q", name)
			}
			fileName := OutgoingName
			if strings.Contains(src, "def incoming(") {
				fileName = IncomingName
			}
			checks[name](t, compile(t, fileName, src), src)
		})
	}
}

// The page's numbers and helpers are the package's.
func TestScriptingReference(t *testing.T) {
	_, page := docBlocks(t)
	for _, want := range []string{
		fmt.Sprintf("step budget (%s Starlark steps)", thousands(DefaultSteps)),
		fmt.Sprintf("time budget\n(%d second)", int(DefaultTime.Seconds())),
		fmt.Sprintf("(up to %d KiB)", MaxLog>>10),
		fmt.Sprintf("budget of %d steps (an endless loop?)", DefaultSteps),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("SCRIPTING.md does not say %q", want)
		}
	}
	for name := range helpers() {
		if !strings.Contains(page, "| `"+name+"(") {
			t.Errorf("SCRIPTING.md's helpers table lacks %s", name)
		}
	}
	for _, f := range Fields() {
		if !strings.Contains(page, "`item."+f) {
			t.Errorf("SCRIPTING.md's model lacks item.%s", f)
		}
	}
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// incomingCase is one run of an incoming example and the update it must
// make.
type incomingCase struct {
	name string
	in   IncomingInput
	want tracker.EntityUpdate
	// notes and log, when set, are what the run must say.
	notes []string
	log   string
}

func checkIncoming(cases ...incomingCase) docCheck {
	return func(t *testing.T, p *Program, _ string) {
		for _, c := range cases {
			res, err := p.Incoming(context.Background(), testEnv(), c.in)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if !reflect.DeepEqual(res.Update, c.want) {
				t.Errorf("%s: update %s, want %s", c.name, showUpdate(res.Update), showUpdate(c.want))
			}
			if c.notes != nil && strings.Join(res.Notes, "\n") != strings.Join(c.notes, "\n") {
				t.Errorf("%s: notes %q, want %q", c.name, res.Notes, c.notes)
			}
			if c.log != "" && res.Log != c.log {
				t.Errorf("%s: log %q, want %q", c.name, res.Log, c.log)
			}
		}
	}
}

func showUpdate(u tracker.EntityUpdate) string {
	var parts []string
	for name, p := range map[string]*string{"type": u.Type, "summary": u.Summary, "description": u.Description,
		"status": u.Status, "section": u.Section, "assignee": u.Assignee, "due_date": u.DueDate, "priority": u.Priority} {
		if p != nil {
			parts = append(parts, fmt.Sprintf("%s=%q", name, *p))
		}
	}
	if u.Completed != nil {
		parts = append(parts, fmt.Sprintf("completed=%v", *u.Completed))
	}
	if u.Labels != nil {
		parts = append(parts, fmt.Sprintf("labels=%q", *u.Labels))
	}
	if u.Custom != nil {
		parts = append(parts, fmt.Sprintf("custom=%v", u.Custom))
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, " ") + "}"
}

// received is a replica from the other side, KAN-2, as f makes it: the
// fields with a value are set, and so are those f lists in Set (an
// assignee of nobody, a completed of False).
func received(f func(r *Replica)) Replica {
	r := Replica{ID: "10001", Key: "KAN-2", URL: "https://jira.test/browse/KAN-2", Type: "Task", Summary: "Crash on login"}
	f(&r)
	explicit := r.Set
	r.Set = nil
	h := holder{&r.Type, &r.Summary, &r.Description, &r.Fields}
	for _, name := range Fields() {
		if v := fieldString(name, h); slices.Contains(explicit, name) || v != "" && v != "false" {
			r.Set = append(r.Set, name)
		}
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func docExamples() map[string]docCheck {
	existing := func(f func(e *tracker.Entity)) *tracker.Entity {
		e := tracker.Entity{ID: "1201", Key: "1201", Type: "default_task", Summary: "Crash on login"}
		f(&e)
		return &e
	}
	return map[string]docCheck{
		"basic-outgoing": func(t *testing.T, _ *Program, src string) {
			if _, body, _ := strings.Cut(src, "\n"); body != BasicScripts().Outgoing {
				t.Errorf("SCRIPTING.md's basic-outgoing is not BasicScripts().Outgoing:\n%s", body)
			}
		},
		"basic-incoming": func(t *testing.T, _ *Program, src string) {
			if _, body, _ := strings.Cut(src, "\n"); body != BasicScripts().Incoming {
				t.Errorf("SCRIPTING.md's basic-incoming is not BasicScripts().Incoming:\n%s", body)
			}
		},
		"trigger": func(t *testing.T, p *Program, _ string) {
			for _, c := range []struct {
				fields tracker.Fields
				want   bool
			}{
				{tracker.Fields{Labels: []string{"partner", "web"}}, true},
				{tracker.Fields{Labels: []string{"partner"}, Completed: true}, false},
				{tracker.Fields{Labels: []string{"web"}}, false},
				{tracker.Fields{}, false},
			} {
				e := someItem()
				e.Fields = c.fields
				res, err := p.Trigger(context.Background(), Env{}, e)
				if err != nil || res.Sync != c.want {
					t.Errorf("trigger on %+v: %v, %v; want %v", c.fields, res.Sync, err, c.want)
				}
			}
		},
		"status-to-jira": checkIncoming(
			incomingCase{name: "completed", in: IncomingInput{Replica: received(func(r *Replica) { r.Completed, r.Section = true, "Doing" })},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Status: ptr("Done")}}},
			incomingCase{name: "reopened in a section",
				in: IncomingInput{Item: existing(func(e *tracker.Entity) { e.Status = "Done" }),
					Replica: received(func(r *Replica) { r.Section, r.Set = "Doing", []string{FieldCompleted} }), Changed: []string{FieldCompleted}},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Status: ptr("In Progress")}}},
			incomingCase{name: "a section Jira has no status for",
				in: IncomingInput{Item: existing(func(e *tracker.Entity) { e.Status = "In Progress" }),
					Replica: received(func(r *Replica) { r.Section = "Ideas" }), Changed: []string{FieldSection}},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Status: ptr("To Do")}}},
			incomingCase{name: "nothing changed there",
				in: IncomingInput{Item: existing(func(e *tracker.Entity) { e.Status = "In Review" }),
					Replica: received(func(r *Replica) { r.Section = "Doing" }), Changed: []string{FieldSummary}}},
		),
		"status-to-asana": checkIncoming(
			incomingCase{name: "done", in: IncomingInput{Item: existing(func(*tracker.Entity) {}),
				Replica: received(func(r *Replica) { r.Status = "Done" }), Changed: []string{FieldStatus}},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Completed: ptr(true)}}},
			incomingCase{name: "reopened", in: IncomingInput{Item: existing(func(e *tracker.Entity) { e.Completed = true }),
				Replica: received(func(r *Replica) { r.Status = "In Progress" }), Changed: []string{FieldStatus}},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Completed: ptr(false)}}},
			incomingCase{name: "already done", in: IncomingInput{Item: existing(func(e *tracker.Entity) { e.Completed = true }),
				Replica: received(func(r *Replica) { r.Status = "Won't Do" }), Changed: []string{FieldStatus}}},
		),
		"assignee": checkIncoming(
			incomingCase{name: "known here", in: IncomingInput{Item: existing(func(*tracker.Entity) {}),
				Replica: received(func(r *Replica) { r.Assignee = &tracker.User{Email: "Ann@Example.com", Name: "Ann"} }),
				Changed: []string{FieldAssignee}},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Assignee: ptr("ann@example.com")}}, notes: []string{}},
			incomingCase{name: "unknown here", in: IncomingInput{Item: existing(func(e *tracker.Entity) { e.Assignee = &tracker.User{Email: "ann@example.com"} }),
				Replica: received(func(r *Replica) { r.Assignee = &tracker.User{Email: "zoe@partner.example"} }),
				Changed: []string{FieldAssignee}},
				want:  tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Assignee: ptr("")}},
				notes: []string{`no user here has the e-mail "zoe@partner.example"`}},
			incomingCase{name: "unassigned there", in: IncomingInput{Item: existing(func(e *tracker.Entity) { e.Assignee = &tracker.User{Email: "ann@example.com"} }),
				Replica: received(func(r *Replica) { r.Set = []string{FieldAssignee} }), Changed: []string{FieldAssignee}},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Assignee: ptr("")}}},
		),
		"due-date": checkIncoming(
			incomingCase{name: "changed there", in: IncomingInput{Item: existing(func(*tracker.Entity) {}),
				Replica: received(func(r *Replica) { r.DueDate = "2026-04-01" }), Changed: []string{FieldDueDate}},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{DueDate: ptr("2026-04-01")}}},
			incomingCase{name: "new without one", in: IncomingInput{Replica: received(func(*Replica) {})},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{DueDate: ptr("2026-06-30")}}},
		),
		"tags-to-jira": checkIncoming(
			incomingCase{name: "tags with spaces", in: IncomingInput{Item: existing(func(e *tracker.Entity) { e.Labels = []string{"triage", "web"} }),
				Replica: received(func(r *Replica) { r.Labels = []string{"needs review", "partner"} }), Changed: []string{FieldLabels}},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Labels: &[]string{"needs-review", "partner", "triage"}}}},
		),
		"priority-to-asana": checkIncoming(
			incomingCase{name: "Highest", in: IncomingInput{Item: existing(func(*tracker.Entity) {}),
				Replica: received(func(r *Replica) { r.Priority = "Highest" }), Changed: []string{FieldPriority}},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Priority: ptr("High")}}},
			incomingCase{name: "a priority Asana has no option for", in: IncomingInput{Item: existing(func(e *tracker.Entity) { e.Priority = "Low" }),
				Replica: received(func(r *Replica) { r.Priority = "Blocker" }), Changed: []string{FieldPriority}},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Priority: ptr("Medium")}}},
		),
		"asana-outgoing": func(t *testing.T, p *Program, _ string) {
			e := fullItem()
			res, err := p.Outgoing(context.Background(), Env{}, e)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{FieldType, FieldSummary, FieldDescription, FieldCompleted, FieldSection, FieldAssignee,
				FieldDueDate, FieldPriority, FieldLabels}
			if r := res.Replica; !reflect.DeepEqual(r.Set, want) || r.Section != "Doing" || r.Assignee.Email != "ann@example.com" ||
				!reflect.DeepEqual(r.Labels, e.Labels) || len(r.Comments) != 1 || len(r.Attachments) != 1 || r.Custom != nil {
				t.Errorf("replica %+v", r)
			}
			if sync, err := p.Trigger(context.Background(), Env{}, e); err != nil || !sync.Sync {
				t.Errorf("a partner task does not trigger: %v", err)
			}
		},
		"asana-incoming": checkIncoming(
			incomingCase{name: "a Jira bug, new here",
				in: IncomingInput{Replica: received(func(r *Replica) {
					r.Type, r.Status, r.Priority, r.DueDate, r.Labels = "Bug", "In Progress", "Highest", "2026-05-01", []string{"crash"}
					r.Assignee = &tracker.User{Email: "ann@example.com"}
				})},
				want: tracker.EntityUpdate{Type: ptr("Bug"), Summary: ptr("Crash on login"), FieldsUpdate: tracker.FieldsUpdate{
					Assignee: ptr("ann@example.com"), DueDate: ptr("2026-05-01"), Priority: ptr("High"), Labels: &[]string{"crash", "partner"}}},
				log: "applied KAN-2 to a new task\n"},
			incomingCase{name: "done and unassigned there",
				in: IncomingInput{Item: existing(func(e *tracker.Entity) {
					e.Assignee, e.Labels, e.Priority = &tracker.User{Email: "ann@example.com"}, []string{"crash", "partner"}, "Medium"
				}),
					Replica: received(func(r *Replica) {
						r.Status, r.Priority, r.Labels = "Done", "Medium", []string{"crash"}
						r.Set = []string{FieldAssignee}
					}), Changed: []string{FieldStatus, FieldAssignee, FieldLabels}},
				want: tracker.EntityUpdate{FieldsUpdate: tracker.FieldsUpdate{Completed: ptr(true), Assignee: ptr("")}},
				log:  "applied KAN-2 to 1201\n"},
		),
	}
}
