package script

import (
	"context"
	"reflect"
	"testing"

	"github.com/tandem-sync/tandem/engine/tracker"
)

func basicPrograms(t *testing.T) (out, in *Program) {
	t.Helper()
	s := BasicScripts()
	return compile(t, OutgoingName, s.Outgoing), compile(t, IncomingName, s.Incoming)
}

// The outgoing Basic script sends what engine.Basic.Outgoing puts in its
// replica (type, summary, description as they are; the engine sends the
// comments and attachments the other side lacks) and none of the fields
// beyond Basic.
func TestBasicOutgoingIsBasic(t *testing.T) {
	out, _ := basicPrograms(t)
	plain := someItem()
	milestone := fullItem()
	milestone.Type, milestone.Description = "milestone", ""
	for _, e := range []tracker.Entity{plain, fullItem(), milestone} {
		res, err := out.Outgoing(context.Background(), Env{}, e)
		if err != nil {
			t.Fatal(err)
		}
		want := Replica{ID: e.ID, Key: e.Key, URL: e.URL, Type: e.Type, Summary: e.Summary, Description: e.Description,
			Comments: e.Comments, Attachments: e.Attachments, Set: []string{FieldType, FieldSummary, FieldDescription}}
		if !reflect.DeepEqual(res.Replica, want) {
			t.Errorf("%s: replica\n%+v\nwant\n%+v", e.Summary, res.Replica, want)
		}
	}
	if out.HasTrigger() {
		t.Error("the Basic outgoing script has a trigger: Basic's on/off trigger would no longer apply")
	}
}

// The incoming Basic script makes the changes engine.Basic.Incoming makes
// for the fields the pipeline lets apply (IncomingInput.Changed is its
// Incoming.Fields): each mirrored, the type through MapType with the
// type the twin keeps, and the comments and attachments merged.
func TestBasicIncomingIsBasic(t *testing.T) {
	_, in := basicPrograms(t)
	str := func(s string) *string { return &s }
	basic := func(typ, summary, description string) Replica {
		return Replica{ID: "9", Key: "KAN-9", Type: typ, Summary: summary, Description: description,
			Set: []string{FieldType, FieldSummary, FieldDescription}}
	}
	here := tracker.Entity{ID: "1201", Key: "1201", Type: "Task", Summary: "Old", Description: "<body>Old</body>",
		Fields: tracker.Fields{Status: "Doing", Labels: []string{"keep"}}}
	cases := []struct {
		name    string
		in      IncomingInput
		want    tracker.EntityUpdate
		changed []string
		kept    string
	}{
		{"create", IncomingInput{Replica: basic("Bug", "New", "<body>Hi</body>")},
			tracker.EntityUpdate{Type: str("Bug"), Summary: str("New"), Description: str("<body>Hi</body>")},
			[]string{FieldType, FieldSummary, FieldDescription}, ""},
		{"create of a type this side lacks", IncomingInput{Replica: basic("Epic", "New", "")},
			tracker.EntityUpdate{Type: str("Task"), Summary: str("New")}, []string{FieldType, FieldSummary}, "Epic"},
		{"summary changed there", IncomingInput{Item: &here, Replica: basic("Task", "New", "<body>Hi</body>"), Changed: []string{FieldSummary}},
			tracker.EntityUpdate{Summary: str("New")}, []string{FieldSummary}, ""},
		{"type changed there", IncomingInput{Item: &here, Replica: basic("Epic", "Old", "<body>Old</body>"), Changed: []string{FieldType}},
			tracker.EntityUpdate{}, nil, "Epic"},
		{"everything changed there", IncomingInput{Item: &here, Replica: basic("Bug", "New", ""), Changed: Fields()},
			tracker.EntityUpdate{Type: str("Bug"), Summary: str("New"), Description: str("")},
			[]string{FieldType, FieldSummary, FieldDescription}, ""},
		// A newer write here beat the replica's: the pipeline lets nothing
		// apply, and Basic changes nothing.
		{"beaten here", IncomingInput{Item: &here, Replica: basic("Bug", "New", ""), Changed: []string{}},
			tracker.EntityUpdate{}, nil, ""},
		// Without the pipeline's word, changed() compares with the
		// previous replica.
		{"against the previous replica", IncomingInput{Item: &here, Replica: basic("Task", "New", "<body>Old</body>"),
			Previous: &Replica{Type: "Task", Summary: "Old", Description: "<body>Old</body>", Set: []string{FieldType, FieldSummary, FieldDescription}}},
			tracker.EntityUpdate{Summary: str("New")}, []string{FieldSummary}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := in.Incoming(context.Background(), testEnv(), c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Update, c.want) || !reflect.DeepEqual(res.Changed, c.changed) || res.RemoteType != c.kept {
				t.Errorf("update %+v, changed %v, kept %q\nwant %+v, %v, %q", res.Update, res.Changed, res.RemoteType, c.want, c.changed, c.kept)
			}
			if !res.MergeComments || !res.MergeAttachments {
				t.Errorf("comments merged %v, attachments merged %v", res.MergeComments, res.MergeAttachments)
			}
		})
	}
}
