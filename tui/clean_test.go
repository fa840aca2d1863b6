package tui

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// filled returns a T with every string at any depth set to hostile and
// every slice one element long, so that a field added to an engine type
// later shows up here without anyone remembering to add it.
func filled[T any]() T {
	var v T
	fill(reflect.ValueOf(&v).Elem())
	return v
}

func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(hostile)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				fill(f)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Map:
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(k, e)
	}
}

// checkCleaned fails t for a string field of v (at any depth) that is not
// clean, or an identifier that was changed.
func checkCleaned(t *testing.T, path string, v reflect.Value, field string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		switch {
		case isIdentifier(field) && v.String() != hostile:
			t.Errorf("%s: an identifier was changed to %q", path, v.String())
		case !isIdentifier(field) && !termtext.Clean(v.String()):
			t.Errorf("%s: %q reaches the screens", path, v.String())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanInterface() {
				checkCleaned(t, path+"."+v.Type().Field(i).Name, v.Field(i), v.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 && v.Type().Elem().Kind() != reflect.Uint8 {
			t.Errorf("%s: the slice was lost", path)
		}
		for i := range v.Len() {
			checkCleaned(t, path+"[]", v.Index(i), field)
		}
	case reflect.Pointer:
		if v.IsNil() {
			t.Errorf("%s: the pointer was lost", path)
			return
		}
		checkCleaned(t, path+"*", v.Elem(), field)
	case reflect.Map:
		if v.Len() == 0 {
			t.Errorf("%s: the map was lost", path)
		}
		for it := v.MapRange(); it.Next(); {
			checkCleaned(t, path+"{key}", it.Key(), "")
			checkCleaned(t, path+"{}", it.Value(), field)
		}
	case reflect.Interface:
		if !v.IsNil() {
			checkCleaned(t, path, v.Elem(), field)
		}
	}
}

// hostileError's message is hostile; errors.Is must still see through it.
var hostileError = errors.New(hostile)

// TestCleanNodeCleansEverything calls each Node method through cleanNode on
// a node whose every answer is hostile in every string field.
func TestCleanNodeCleansEverything(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn, inst, ev := filled[adminapi.Connection](), filled[adminapi.Instance](), filled[adminapi.StageEvent]()
	f := &fakeNode{info: inst, connections: []adminapi.Connection{conn}, projects: filled[[]adminapi.Project](),
		stats: filled[adminapi.ConnectionStats](), events: filled[[]adminapi.StageEvent](), items: filled[[]adminapi.Item](),
		rules:  filled[[]adminapi.Rule](),
		probe:  func(string) (adminapi.Instance, error) { return inst, hostileError },
		invite: func(adminapi.InviteRequest) (adminapi.Connection, string, error) { return conn, hostile, hostileError },
		preview: func(string) (adminapi.InvitationPreview, error) {
			return filled[adminapi.InvitationPreview](), hostileError
		},
		accept: func(string, string) (adminapi.Connection, error) { return conn, hostileError },
		destination: func(string, string) (adminapi.Instance, []adminapi.Project, error) {
			return inst, filled[[]adminapi.Project](), hostileError
		},
		connect:    func(adminapi.ConnectRequest) (adminapi.Connection, error) { return conn, hostileError },
		exalate:    func(string, string) (adminapi.StageEvent, error) { return ev, hostileError },
		exalateAll: func(string) ([]adminapi.StageEvent, error) { return []adminapi.StageEvent{ev}, hostileError },
		eventStatus: func(string, string) (adminapi.EventStatus, error) {
			return filled[adminapi.EventStatus](), hostileError
		},
		setActive:  func(string, bool) (adminapi.Connection, error) { return conn, hostileError },
		setTrigger: func(string, bool) (adminapi.Connection, error) { return conn, hostileError },
		del:        func(string) error { return hostileError },
	}
	n := cleanNode{f}
	check := func(method string, v any, err error) {
		t.Helper()
		checkCleaned(t, method, reflect.ValueOf(v), "")
		if err != nil && (!termtext.Clean(err.Error()) || !errors.Is(err, hostileError)) {
			t.Errorf("%s: error %q, errors.Is %v", method, err, errors.Is(err, hostileError))
		}
	}
	v1, err := n.Info(ctx)
	check("Info", v1, err)
	v2, err := n.Connections(ctx)
	check("Connections", v2, err)
	v3, err := n.Connection(ctx, hostile)
	check("Connection", v3, err)
	v4, err := n.Projects(ctx)
	check("Projects", v4, err)
	v5, err := n.Probe(ctx, "")
	check("Probe", v5, err)
	v6, code, err := n.Invite(ctx, adminapi.InviteRequest{})
	check("Invite", v6, err)
	check("Invite code", code, nil)
	v7, err := n.PreviewInvitation(ctx, "")
	check("PreviewInvitation", v7, err)
	v8, err := n.Accept(ctx, "", "")
	check("Accept", v8, err)
	v9, ps, err := n.DestinationProjects(ctx, "", "")
	check("DestinationProjects", v9, err)
	check("DestinationProjects projects", ps, nil)
	v10, err := n.Connect(ctx, adminapi.ConnectRequest{})
	check("Connect", v10, err)
	v11, err := n.SetActive(ctx, "", true)
	check("SetActive", v11, err)
	v12, err := n.SetTrigger(ctx, "", true)
	check("SetTrigger", v12, err)
	check("Delete", nil, n.Delete(ctx, ""))
	v13, err := n.Exalate(ctx, "", "")
	check("Exalate", v13, err)
	v14, err := n.ExalateAll(ctx, "")
	check("ExalateAll", v14, err)
	v15, err := n.EventStatus(ctx, "", "")
	check("EventStatus", v15, err)
	v16, err := n.Stats(ctx, "")
	check("Stats", v16, err)
	v17, err := n.RecentEvents(ctx, "", 1)
	check("RecentEvents", v17, err)
	v18, err := n.RecentItems(ctx, "", 1)
	check("RecentItems", v18, err)
	v19, err := n.Rules(ctx, "")
	check("Rules", v19, err)

	// The node's own data is not changed by the cleaning.
	if f.connections[0].Name != hostile || f.items[0].Summary != hostile || f.events[0].Error != hostile {
		t.Error("cleaning changed the node's own answers")
	}
	// Stage events are cleaned as they stream.
	in := make(chan adminapi.StageEvent, 1)
	sub := cleanNode{subscribeNode{f, in}}
	out, err := sub.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in <- ev
	close(in)
	got, ok := <-out
	if !ok {
		t.Fatal("the stream closed before its event")
	}
	check("Subscribe", got, nil)
	if _, ok := <-out; ok {
		t.Error("the cleaned stream did not close with the node's")
	}
	if !strings.Contains(got.Error, "Hostile") {
		t.Errorf("the text around the sequences was lost: %q", got.Error)
	}
}

// subscribeNode is a fake whose event stream the test feeds.
type subscribeNode struct {
	*fakeNode
	ch chan adminapi.StageEvent
}

func (n subscribeNode) Subscribe(context.Context) (<-chan adminapi.StageEvent, error) {
	return n.ch, nil
}
