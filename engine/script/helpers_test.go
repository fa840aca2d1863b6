package script

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// testEnv is a node whose tracker has the types Task and Bug (Task the
// default) and the one user ann@example.com.
func testEnv() Env {
	return Env{
		MapType: func(_ context.Context, typ string) (string, string, error) {
			switch strings.ToLower(typ) {
			case "task", "default_task":
				return "Task", "", nil
			case "bug":
				return "Bug", "", nil
			case "":
				return "Task", "", nil
			}
			return "Task", typ, nil
		},
		UserByEmail: func(_ context.Context, email string) (*tracker.User, error) {
			if strings.EqualFold(email, "ann@example.com") {
				return &tracker.User{Email: "ann@example.com", Name: "Ann"}, nil
			}
			return nil, nil
		},
	}
}

// runIncoming runs body as an incoming script on an existing item and
// the replica r.
func runIncoming(t *testing.T, body string, r Replica) (IncomingResult, error) {
	t.Helper()
	p := compile(t, "incoming.star", "def incoming(item, replica, previous, first_sync):\n"+body)
	return p.Incoming(context.Background(), testEnv(), IncomingInput{Item: &tracker.Entity{Key: "1", Type: "Task"}, Replica: r})
}

func TestMapValue(t *testing.T) {
	res, err := runIncoming(t, `
    m = {"High": "P1", "Low": "P3", True: "Done"}
    print(map_value("High", m), map_value("Medium", m), map_value("Medium", m, default = "P2"))
    print(map_value(True, m), map_value(None, m), map_value(None, m, default = "none"), map_value("Low", mapping = m, default = "x"))
`, Replica{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "P1 Medium P2\nDone None none P3\n"; res.Log != want {
		t.Errorf("log %q, want %q", res.Log, want)
	}
	for body, want := range map[string]string{
		"    map_value('a', ['a'])\n":  "map_value: the mapping is list, want a dict",
		"    map_value(['a'], {})\n":   "map_value: unhashable type: list",
		"    map_value('a')\n":         "map_value: missing argument for mapping",
		"    map_value('a', {}, 1, 2)": "map_value: got 4 arguments, want at most 3",
	} {
		if _, err := runIncoming(t, body, Replica{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
}

func TestMirrorType(t *testing.T) {
	cases := []struct {
		body, log, kept string
	}{
		{"    print(mirror_type('Bug'))\n", "Bug\n", ""},
		{"    print(mirror_type('default_task'))\n", "Task\n", ""},
		{"    print(mirror_type('Epic'))\n", "Task\n", "Epic"},
		{"    print(mirror_type('Epic', default = 'Bug'))\n", "Bug\n", "Epic"},
		{"    print(mirror_type(None))\n", "Task\n", ""},
	}
	for _, c := range cases {
		res, err := runIncoming(t, c.body, Replica{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Log != c.log || res.RemoteType != c.kept {
			t.Errorf("%s: log %q kept %q, want %q and %q", c.body, res.Log, res.RemoteType, c.log, c.kept)
		}
	}
	p := compile(t, "outgoing.star", "def outgoing(item, replica):\n    replica.type = mirror_type(item.type)\n")
	if _, err := p.Outgoing(context.Background(), testEnv(), someItem()); err == nil || !strings.Contains(err.Error(), "call it in the incoming script") {
		t.Errorf("mirror_type in outgoing: %v", err)
	}
	in := compile(t, "incoming.star", "def incoming(item, replica, previous, first_sync):\n    item.type = mirror_type('Bug')\n")
	if _, err := in.Incoming(context.Background(), Env{}, IncomingInput{}); err == nil || !strings.Contains(err.Error(), "can't be looked up here") {
		t.Errorf("mirror_type without MapType: %v", err)
	}
}

func TestMergeComments(t *testing.T) {
	out := compile(t, "outgoing.star", "def outgoing(item, replica):\n    merge_comments(item, replica)\n    merge_attachments(item, replica)\n")
	e := fullItem()
	res, err := out.Outgoing(context.Background(), Env{}, e)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Replica.Comments, e.Comments) || !reflect.DeepEqual(res.Replica.Attachments, e.Attachments) || len(res.Replica.Set) != 0 {
		t.Errorf("replica %+v", res.Replica)
	}
	in, err := runIncoming(t, "    merge_comments(item, replica)\n", Replica{})
	if err != nil || !in.MergeComments || in.MergeAttachments {
		t.Errorf("merge_comments: %+v, %v", in, err)
	}
	in, err = runIncoming(t, "    merge_attachments(item, replica)\n", Replica{})
	if err != nil || in.MergeComments || !in.MergeAttachments {
		t.Errorf("merge_attachments: %+v, %v", in, err)
	}
	in, err = runIncoming(t, "    pass\n", Replica{})
	if err != nil || in.MergeComments || in.MergeAttachments {
		t.Errorf("no merge: %+v, %v", in, err)
	}
	for body, want := range map[string]string{
		"    merge_comments(replica, item)\n":    "merge_comments: the first argument is replica, want item",
		"    merge_comments(item, previous)\n":   "merge_comments: the second argument is NoneType, want replica (not previous)",
		"    merge_attachments(item)\n":          "merge_attachments: got 1 arguments, want 2",
		"    merge_comments(item, replica, 1)\n": "merge_comments: got 3 arguments, want 2",
	} {
		if _, err := runIncoming(t, body, Replica{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
}

func TestUserByEmail(t *testing.T) {
	r := Replica{Set: []string{FieldAssignee}}
	r.Assignee = &tracker.User{Email: "ANN@example.com", Name: "Ann Elsewhere"}
	res, err := runIncoming(t, `
    u = user_by_email(replica.assignee.email)
    print(u.email, u.name, user_by_email(None), user_by_email(""))
    item.assignee = u
    print(user_by_email("nobody@example.com"))
`, r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Log != "ann@example.com Ann None None\nNone\n" {
		t.Errorf("log %q", res.Log)
	}
	if res.Update.Assignee == nil || *res.Update.Assignee != "ann@example.com" {
		t.Errorf("update %+v", res.Update)
	}
	if want := []string{`no user here has the e-mail "nobody@example.com"`}; !reflect.DeepEqual(res.Notes, want) {
		t.Errorf("notes %q, want %q", res.Notes, want)
	}
	p := compile(t, "outgoing.star", "def outgoing(item, replica):\n    replica.assignee = user_by_email(item.assignee.email)\n")
	if _, err := p.Outgoing(context.Background(), Env{}, fullItem()); err == nil || !strings.Contains(err.Error(), "users can't be looked up here") {
		t.Errorf("user_by_email without a callback: %v", err)
	}
	failing := Env{UserByEmail: func(context.Context, string) (*tracker.User, error) { return nil, tracker.ErrUnknownUser }}
	if _, err := p.Outgoing(context.Background(), failing, fullItem()); !errors.Is(err, tracker.ErrUnknownUser) {
		t.Errorf("a failing lookup: %v", err)
	}
}

func TestRichText(t *testing.T) {
	res, err := runIncoming(t, `
    d = rich_text("<body>Hello <em>you</em></body>")
    print(d.text(), d.html(), bool(d), bool(rich_text("")), d == rich_text("<body>Hello <em>you</em></body>"))
    item.description = d
`, Replica{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Log != "Hello you <body>Hello <em>you</em></body> True False True\n" || *res.Update.Description != "<body>Hello <em>you</em></body>" {
		t.Errorf("log %q, update %+v", res.Log, res.Update)
	}
	if _, err := runIncoming(t, "    rich_text('<b>unclosed')\n", Replica{}); err == nil || !strings.Contains(err.Error(), "incoming.star:2:") {
		t.Errorf("invalid rich text: %v", err)
	}
}
