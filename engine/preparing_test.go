package engine

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/store"
)

// TestDiff checks Preparing's decision alone: what of an item, given what
// earlier syncs recorded of it, the replica carries. It runs the Basic
// rules on plain values; no store, tracker or clock is involved.
func TestDiff(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	item := Entity{ID: "1", Key: "OPS-1", URL: "https://t.example/1", Project: "p", Type: "Task",
		Summary: "Printer on fire", Description: "<body>Floor 3</body>", ModifiedAt: at,
		Comments:    []Comment{{ID: "c1", Author: "Ann", Body: "<body>on it</body>"}},
		Attachments: []Attachment{{ID: "a1", Name: "photo.png", Size: 10}}}
	// syncedAs is the state a finished sync of e leaves: a twin recording
	// each field's fingerprint, and a link per comment and attachment.
	syncedAs := func(e Entity) synced {
		twin := store.Twin{LocalID: e.ID, RemoteID: "r1", RemoteKey: "KAN-1"}
		for _, f := range (Basic{}).Fields() {
			setField(&twin, f, fingerprint(Basic{}.Value(e, f)), e.ModifiedAt)
		}
		s := synced{twin: &twin, inFlight: map[string]bool{}}
		for _, c := range e.Comments {
			s.comments = append(s.comments, store.ItemLink{Kind: store.LinkComment, LocalID: c.ID, RemoteID: "r" + c.ID, Fingerprint: fingerprint(c.Body)})
		}
		for _, a := range e.Attachments {
			s.attachments = append(s.attachments, store.ItemLink{Kind: store.LinkAttachment, LocalID: a.ID, RemoteID: "r" + a.ID})
		}
		return s
	}
	with := func(mod func(*Entity)) Entity {
		e := item
		e.Comments = slices.Clone(item.Comments)
		e.Attachments = slices.Clone(item.Attachments)
		mod(&e)
		return e
	}
	type want struct {
		changed     bool
		fields      []string
		comments    []string
		attachments []string
		twin        string
		local       bool
	}
	tests := []struct {
		name string
		e    Entity
		s    synced
		want want
	}{
		{"a new item sends everything", item, synced{inFlight: map[string]bool{}},
			want{changed: true, fields: []string{FieldType, FieldSummary, FieldDescription}, comments: []string{"c1"}, attachments: []string{"a1"}}},
		{"an unchanged item sends nothing", item, syncedAs(item),
			want{twin: "r1"}},
		{"a changed summary sends the summary", with(func(e *Entity) { e.Summary = "Printer still on fire" }), syncedAs(item),
			want{changed: true, fields: []string{FieldSummary}, twin: "r1"}},
		{"an echo of what the sync wrote sends nothing", with(func(e *Entity) { e.Description = "<body>Floor 4</body>" }),
			syncedAs(with(func(e *Entity) { e.Description = "<body>Floor 4</body>" })),
			want{twin: "r1"}},
		{"what an unfinished sync carries is not sent again", with(func(e *Entity) { e.Summary = "Fixed" }),
			func() synced {
				s := syncedAs(item)
				s.inFlight[FieldSummary+"\x00"+fingerprint("Fixed")] = true
				s.sending = map[string]carried{FieldSummary: {fp: fingerprint("Fixed"), at: item.ModifiedAt.Add(time.Minute)}}
				return s
			}(),
			want{twin: "r1"}},
		{"a value changed back while another is on its way is sent", item,
			func() synced {
				s := syncedAs(item)
				s.inFlight[FieldSummary+"\x00"+fingerprint("Fixed")] = true
				s.sending = map[string]carried{FieldSummary: {fp: fingerprint("Fixed"), at: item.ModifiedAt.Add(time.Minute)}}
				return s
			}(),
			want{changed: true, fields: []string{FieldSummary}, twin: "r1"}},
		{"what an older unfinished sync carries, beaten by a newer incoming write, does not make that write go back", item,
			func() synced {
				s := syncedAs(item)
				s.inFlight[FieldSummary+"\x00"+fingerprint("Fixed")] = true
				s.sending = map[string]carried{FieldSummary: {fp: fingerprint("Fixed"), at: item.ModifiedAt.Add(-time.Minute)}}
				return s
			}(),
			want{twin: "r1"}},
		{"a new comment is sent alone", with(func(e *Entity) {
			e.Comments = append(e.Comments, Comment{ID: "c2", Author: "Bob", Body: "<body>me too</body>"})
		}), syncedAs(item),
			want{changed: true, comments: []string{"c2"}, twin: "r1"}},
		{"an edited comment is sent again", with(func(e *Entity) { e.Comments[0].Body = "<body>done</body>" }), syncedAs(item),
			want{changed: true, comments: []string{"c1"}, twin: "r1"}},
		{"a new attachment is sent alone", with(func(e *Entity) {
			e.Attachments = append(e.Attachments, Attachment{ID: "a2", Name: "log.txt", Size: 3})
		}), syncedAs(item),
			want{changed: true, attachments: []string{"a2"}, twin: "r1"}},
		{"comments and files an incoming sync may be writing are not sent back", with(func(e *Entity) {
			e.Comments = append(e.Comments, Comment{ID: "c2", Body: "<body>maybe the sync's</body>"})
			e.Attachments = append(e.Attachments, Attachment{ID: "a2", Name: "maybe.png"})
		}), func() synced {
			s := syncedAs(item)
			s.pendingComments, s.pendingFiles = 1, 1
			return s
		}(),
			want{twin: "r1"}},
		{"a summary with a line break goes normalised, and the item here gets it too",
			with(func(e *Entity) { e.Summary = "Printer\non fire" }), syncedAs(item),
			want{twin: "r1", local: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := diff(context.Background(), tt.e, tt.s, Basic{})
			if err != nil {
				t.Fatal(err)
			}
			r := p.replica
			ids := func(n int, id func(int) string) []string {
				var out []string
				for i := range n {
					out = append(out, id(i))
				}
				return out
			}
			got := want{changed: p.changed, fields: r.Fields, twin: r.Twin, local: p.local != nil,
				comments:    ids(len(r.Comments), func(i int) string { return r.Comments[i].ID }),
				attachments: ids(len(r.Attachments), func(i int) string { return r.Attachments[i].ID })}
			if got.changed != tt.want.changed || got.twin != tt.want.twin || got.local != tt.want.local ||
				!slices.Equal(got.fields, tt.want.fields) || !slices.Equal(got.comments, tt.want.comments) ||
				!slices.Equal(got.attachments, tt.want.attachments) {
				t.Errorf("diff:\n got %+v\nwant %+v", got, tt.want)
			}
			if r.Source.ID != tt.e.ID || r.Source.Key != tt.e.Key || r.Source.URL != tt.e.URL || !r.Source.ModifiedAt.Equal(tt.e.ModifiedAt) {
				t.Errorf("the replica's source is %+v, want the identity of %+v", r.Source, tt.e)
			}
			if r.EventID != "" || r.Origin != "" {
				t.Errorf("diff set the event id or origin (%q, %q): those are the storing step's", r.EventID, r.Origin)
			}
		})
	}
}

// TestDiffKeepsTheOtherSidesType checks the Basic rule diff applies to a
// type the other side had and this side could not hold: while no one
// changed the default it became here, the replica carries the original
// back, and the unchanged type is not sent.
func TestDiffKeepsTheOtherSidesType(t *testing.T) {
	e := Entity{ID: "1", Type: "default_task", Summary: "s"}
	twin := store.Twin{LocalID: "1", RemoteID: "r1", RemoteType: "Bug"}
	for _, f := range (Basic{}).Fields() {
		setField(&twin, f, fingerprint(Basic{}.Value(e, f)), time.Time{})
	}
	p := mustDiff(t, e, synced{twin: &twin}, Basic{})
	if p.changed || p.replica.Source.Type != "Bug" {
		t.Errorf("got changed=%v, source type %q; want nothing changed and the kept type Bug", p.changed, p.replica.Source.Type)
	}
	e.Summary = "s2"
	if p = mustDiff(t, e, synced{twin: &twin}, Basic{}); !p.changed || !slices.Equal(p.replica.Fields, []string{FieldSummary}) || p.replica.Source.Type != "Bug" {
		t.Errorf("after a summary edit: fields %v, source type %q; want [summary] and Bug", p.replica.Fields, p.replica.Source.Type)
	}
}

// mustDiff is diff, failing the test on an error.
func mustDiff(t *testing.T, e Entity, s synced, rules Rules) prepared {
	t.Helper()
	p, err := diff(context.Background(), e, s, rules)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
