package script

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// fullItem has every field set.
func fullItem() tracker.Entity {
	e := someItem()
	e.Fields = tracker.Fields{Status: "In Progress", Completed: true, Section: "Doing",
		Assignee: &tracker.User{Email: "ann@example.com", Name: "Ann"}, DueDate: "2026-03-01", Priority: "High",
		Labels: []string{"partner", "web"}, Custom: map[string]string{"Team": "Core", "Points": "3"}}
	e.Comments = []tracker.Comment{{ID: "c1", Author: "Bob", Body: "<body>Looks <em>bad</em></body>",
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	e.Attachments = []tracker.Attachment{{ID: "a1", Name: "shot.png", Size: 2048}}
	return e
}

func TestOutgoingSeesTheWholeItem(t *testing.T) {
	p := compile(t, "outgoing.star", `
def outgoing(item, replica):
    print(item.id, item.key, item.url)
    print(item.type, item.summary, item.status, item.completed, item.section)
    print(item.description.html(), item.description.text())
    print(item.assignee.email, item.assignee.name, item.due_date, item.priority)
    print(item.labels, sorted(item.custom.items()), item.custom["Team"], item.custom.get("Nope", "-"), "Team" in item.custom)
    c = item.comments[0]
    print(c.id, c.author, c.body.text(), c.created_at, c.edited)
    a = item.attachments[0]
    print(a.id, a.name, a.size)
    replica.type, replica.summary, replica.description = item.type, item.summary, item.description
    replica.status, replica.completed, replica.section = item.status, item.completed, item.section
    replica.assignee, replica.due_date, replica.priority = item.assignee, item.due_date, item.priority
    replica.labels, replica.custom = item.labels, item.custom
    replica.comments = item.comments
    replica.attachments = item.attachments
`)
	e := fullItem()
	res, err := p.Outgoing(context.Background(), Env{}, e)
	if err != nil {
		t.Fatal(err)
	}
	wantLog := `1201 1201 https://app.asana.test/0/1/1201
default_task Fix the login page In Progress True Doing
<body>It <strong>fails</strong>.</body> It fails.
ann@example.com Ann 2026-03-01 High
["partner", "web"] [("Points", "3"), ("Team", "Core")] Core - True
c1 Bob Looks bad 2026-01-02T03:04:05Z False
a1 shot.png 2048
`
	if res.Log != wantLog {
		t.Errorf("log:\n%s\nwant:\n%s", res.Log, wantLog)
	}
	want := Replica{ID: e.ID, Key: e.Key, URL: e.URL, Type: e.Type, Summary: e.Summary, Description: e.Description,
		Fields: e.Fields, Comments: e.Comments, Attachments: e.Attachments, Set: Fields()}
	if !reflect.DeepEqual(res.Replica, want) {
		t.Errorf("replica\n%+v\nwant\n%+v", res.Replica, want)
	}
}

func TestOutgoingReplicaStartsEmpty(t *testing.T) {
	p := compile(t, "outgoing.star", `
def outgoing(item, replica):
    print(replica.key, replica.summary, replica.labels, replica.comments)
    replica.summary = item.summary
    replica.status = "x"
    replica.status = None
    replica.labels = item.labels
    replica.labels.append("from-asana")
    replica.labels.append("from-asana")
    replica.custom = {}
    replica.custom["Team"] = "Core"
    replica.comments.append(item.comments[0])
    replica.description = "plain <text> & more"
`)
	res, err := p.Outgoing(context.Background(), Env{}, fullItem())
	if err != nil {
		t.Fatal(err)
	}
	if res.Log != "1201 None None []\n" {
		t.Errorf("log %q", res.Log)
	}
	r := res.Replica
	if want := []string{FieldSummary, FieldDescription, FieldStatus, FieldLabels, FieldCustom}; !reflect.DeepEqual(r.Set, want) {
		t.Errorf("set %v, want %v", r.Set, want)
	}
	if r.Status != "" || !reflect.DeepEqual(r.Labels, []string{"from-asana", "partner", "web"}) || r.Custom["Team"] != "Core" ||
		len(r.Comments) != 1 || r.Description != "<body>plain &lt;text&gt; &amp; more</body>" {
		t.Errorf("replica %+v", r)
	}
}

func TestWrongValuesFailAtTheirLine(t *testing.T) {
	cases := []struct{ body, want string }{
		{"replica.summary = 3", "3: replica.summary: got int, want a str"},
		{"replica.completed = 'yes'", "3: replica.completed: got string, want True or False"},
		{"replica.due_date = '1 March'", `3: replica.due_date: "1 March" is not a date as YYYY-MM-DD`},
		{"replica.labels = ['a', 2]", "3: replica.labels: element 1 is int, want a str"},
		{"replica.labels = 'a'", "3: replica.labels: got string, want a list of str"},
		{"replica.custom = {'Points': 3}", "3: replica.custom: [\"Points\"]: got int, want a str (write a number as text: str(n))"},
		{"replica.assignee = 7", "3: replica.assignee: got int, want a user, an e-mail or None"},
		{"replica.comments = ['hi']", "3: replica.comments: element 0 is string, want a comment of item.comments"},
		{"replica.key = 'X-1'", "3: replica.key is the item's own; the engine sets it"},
		{"replica.colour = 'red'", `3: replica has no field "colour"`},
		{"item.summary = 'changed'", "3: item is read-only here: the outgoing script fills replica"},
		{"item.custom['Team'] = 'x'", "3: item.custom is read-only here"},
		{"item.labels.append('x')", "3: append: cannot append to frozen list"},
		{"replica.description = rich_text('<body><script>x</script></body>')", "3: rich_text: "},
		{"replica.labels = []\n    replica.labels.append(3)", "outgoing.star: replica.labels: element 0 is int, want a str"},
		{"replica.summary = None", "3: replica.summary: can't be None: every item has one"},
		{"x = item.custom['Nope']", `3: key "Nope" not in custom_fields`},
	}
	for _, c := range cases {
		t.Run(c.body, func(t *testing.T) {
			p := compile(t, "outgoing.star", "\ndef outgoing(item, replica):\n    "+c.body+"\n")
			_, err := p.Outgoing(context.Background(), Env{}, fullItem())
			if !errorLike(err, c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestIncomingRecordsOnlyWhatChanges(t *testing.T) {
	p := compile(t, "incoming.star", `
def incoming(item, replica, previous, first_sync):
    item.summary = replica.summary        # the same: no change
    item.status = replica.status          # changed
    print(item.status)                    # reads what was set
    item.completed = True                 # the same
    item.assignee = "Bob@Example.com"     # changed
    item.due_date = None                  # cleared
    item.labels = ["web", "partner", "web"]  # the same, once sorted
    item.priority = "Low"
    item.priority = "High"                # back to what it was: no change
    item.custom["Team"] = "Edge"
    item.custom["Points"] = "3"           # the same
    item.custom["Points"] = "3"
    item.custom["Old"] = None             # a clear of one it lacks: no change
    item.description = rich_text("<body>New</body>")
`)
	e := fullItem()
	r := Replica{Summary: e.Summary, Set: []string{FieldSummary, FieldStatus}}
	r.Status = "Done"
	res, err := p.Incoming(context.Background(), Env{}, IncomingInput{Item: &e, Replica: r})
	if err != nil {
		t.Fatal(err)
	}
	if res.Log != "Done\n" {
		t.Errorf("log %q", res.Log)
	}
	wantChanged := []string{FieldDescription, FieldStatus, FieldAssignee, FieldDueDate, FieldCustom}
	if !reflect.DeepEqual(res.Changed, wantChanged) {
		t.Errorf("changed %v, want %v", res.Changed, wantChanged)
	}
	u := res.Update
	if u.Type != nil || u.Summary != nil || u.Completed != nil || u.Labels != nil || u.Priority != nil || u.Section != nil {
		t.Errorf("unchanged fields in the update: %+v", u)
	}
	if *u.Description != "<body>New</body>" || *u.Status != "Done" || *u.Assignee != "Bob@Example.com" || *u.DueDate != "" ||
		!reflect.DeepEqual(u.Custom, map[string]string{"Team": "Edge"}) {
		t.Errorf("update %+v", u)
	}
	if e.Status != "In Progress" || e.Custom["Team"] != "Core" {
		t.Errorf("the input item was changed: %+v", e.Fields)
	}
}

func TestIncomingOnAFirstSync(t *testing.T) {
	p := compile(t, "incoming.star", `
def incoming(item, replica, previous, first_sync):
    print(first_sync, item.key == "", previous)
    item.summary = replica.summary
    item.labels = replica.labels
    item.completed = False
    item.assignee = replica.assignee
`)
	r := Replica{ID: "9", Key: "KAN-9", Summary: "New one", Set: []string{FieldSummary, FieldAssignee, FieldLabels}}
	r.Labels = []string{"partner"}
	r.Assignee = &tracker.User{Email: "ann@example.com", Name: "Ann"}
	res, err := p.Incoming(context.Background(), Env{}, IncomingInput{Replica: r})
	if err != nil {
		t.Fatal(err)
	}
	if res.Log != "True True None\n" {
		t.Errorf("log %q", res.Log)
	}
	if want := []string{FieldSummary, FieldAssignee, FieldLabels}; !reflect.DeepEqual(res.Changed, want) {
		t.Errorf("changed %v, want %v", res.Changed, want)
	}
	if *res.Update.Summary != "New one" || *res.Update.Assignee != "ann@example.com" || !reflect.DeepEqual(*res.Update.Labels, []string{"partner"}) {
		t.Errorf("update %+v", res.Update)
	}
}

func TestIncomingReplicaIsReadOnly(t *testing.T) {
	cases := []struct{ body, want string }{
		{"replica.summary = 'x'", "3: replica is read-only here"},
		{"replica.labels.append('x')", "cannot append to frozen list"},
		{"item.summary = None", "3: item.summary: can't be None"},
		{"item.custom = {}", "3: item.custom: set one custom field at a time"},
		{"item.comments = []", "3: item.comments can't be set: merge_comments(item, replica) adds the replica's"},
		{"item.colour = 'red'", `3: item has no field "colour" to set`},
		{"replica.changed('colour')", `3: changed: a replica has no field "colour"`},
		{"return item", "incoming returned a item; it sets the item's fields"},
	}
	for _, c := range cases {
		t.Run(c.body, func(t *testing.T) {
			p := compile(t, "incoming.star", "\ndef incoming(item, replica, previous, first_sync):\n    "+c.body+"\n")
			r := Replica{Set: []string{FieldLabels}}
			r.Labels = []string{"a"}
			_, err := p.Incoming(context.Background(), Env{}, IncomingInput{Item: &tracker.Entity{Key: "1"}, Replica: r})
			if !errorLike(err, c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestReplicaChanged(t *testing.T) {
	p := compile(t, "incoming.star", `
def incoming(item, replica, previous, first_sync):
    print([f for f in ["summary", "status", "labels", "priority"] if replica.changed(f)])
    if previous != None:
        print("previous", previous.summary, previous.status)
`)
	rep := func(summary, status string) *Replica {
		r := &Replica{Summary: summary, Set: []string{FieldSummary, FieldStatus, FieldLabels}}
		r.Status = status
		return r
	}
	cases := []struct {
		name string
		in   IncomingInput
		want string
	}{
		{"first sync", IncomingInput{Replica: *rep("A", "Done")}, "[\"summary\", \"status\", \"labels\"]\n"},
		{"no previous", IncomingInput{Item: &tracker.Entity{}, Replica: *rep("A", "Done")}, "[\"summary\", \"status\", \"labels\"]\n"},
		{"against previous", IncomingInput{Item: &tracker.Entity{}, Replica: *rep("A", "Done"), Previous: rep("A", "To Do")},
			"[\"status\"]\nprevious A To Do\n"},
		{"as the pipeline says", IncomingInput{Item: &tracker.Entity{}, Replica: *rep("A", "Done"), Previous: rep("A", "To Do"),
			Changed: []string{FieldSummary}}, "[\"summary\"]\nprevious A To Do\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := p.Incoming(context.Background(), Env{}, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if res.Log != c.want {
				t.Errorf("log %q, want %q", res.Log, c.want)
			}
		})
	}
}

func TestValuesAsFingerprinted(t *testing.T) {
	e := fullItem()
	r := Replica{Type: e.Type, Summary: e.Summary, Description: e.Description, Fields: e.Fields, Set: Fields()}
	for _, f := range Fields() {
		if ItemValue(e, f) != r.Value(f) {
			t.Errorf("%s: item %q, replica %q", f, ItemValue(e, f), r.Value(f))
		}
	}
	if got := ItemValue(e, FieldCustom); got != `{"Points":"3","Team":"Core"}` {
		t.Errorf("custom %q", got)
	}
	if got := ItemValue(e, FieldAssignee); got != "ann@example.com" {
		t.Errorf("assignee %q", got)
	}
	r.Set = []string{FieldSummary}
	if r.Value(FieldStatus) != "" || r.Value(FieldSummary) != e.Summary {
		t.Errorf("an unset field has a value: %q", r.Value(FieldStatus))
	}
	// The replica travels as JSON between nodes.
	b, err := json.Marshal(Replica{Key: "K", Summary: "S", Fields: tracker.Fields{Labels: []string{"x"}}, Set: []string{FieldSummary, FieldLabels}})
	if err != nil {
		t.Fatal(err)
	}
	var back Replica
	if err := json.Unmarshal(b, &back); err != nil || back.Summary != "S" || back.Labels[0] != "x" || !back.Has(FieldLabels) {
		t.Errorf("round trip of %s: %+v, %v", b, back, err)
	}
}

// errorLike says whether err reads as want, where a want of "3: msg" is
// msg at line 3, any column.
func errorLike(err error, want string) bool {
	if err == nil {
		return false
	}
	if msg, ok := strings.CutPrefix(want, "3: "); ok {
		_, rest, found := strings.Cut(err.Error(), ".star:3:")
		_, got, _ := strings.Cut(rest, ": ")
		return found && strings.HasPrefix(got, msg)
	}
	return strings.Contains(err.Error(), want)
}

// None is a value a replica carries (an assignee of nobody, a cleared due
// date), told apart from a field left out by replica.changed.
func TestReplicaNone(t *testing.T) {
	out := compile(t, "outgoing.star", `
def outgoing(item, replica):
    replica.assignee = item.assignee
    replica.due_date = None
`)
	res, err := out.Outgoing(context.Background(), Env{}, someItem())
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Replica; !reflect.DeepEqual(r.Set, []string{FieldAssignee, FieldDueDate}) || r.Assignee != nil || r.DueDate != "" {
		t.Fatalf("replica %+v", r)
	}
	in := compile(t, "incoming.star", `
def incoming(item, replica, previous, first_sync):
    print(replica.assignee, replica.changed("assignee"), replica.status, replica.changed("status"))
    if replica.changed("assignee"):
        item.assignee = replica.assignee
`)
	e := fullItem()
	got, err := in.Incoming(context.Background(), Env{}, IncomingInput{Item: &e, Replica: res.Replica})
	if err != nil {
		t.Fatal(err)
	}
	if got.Log != "None True None False\n" || got.Update.Assignee == nil || *got.Update.Assignee != "" {
		t.Errorf("log %q, update %+v", got.Log, got.Update)
	}
}
