package tui

import (
	"context"
	"reflect"
	"strings"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// cleanNode is the console's only way to a node: every string the node
// answers with (connections, projects, items, stage events, the instance
// names and URLs of other nodes, errors) is passed through termtext.Line
// before a screen sees it. Most of that text came from outside this node —
// a tracker user's task name, another node's instance name, an error that
// quotes either — and a terminal acts on escape sequences in it. Cleaning
// at this one boundary, rather than in each View, covers every screen
// (present and future) and means every width a screen measures is the
// width of clean text.
//
// Identifiers (fields named ID or ending in ID) are left as they are: the
// screens send them back to the node, so they must stay byte for byte what
// the node gave. The two places that show an identifier (an item with no
// key yet) clean it themselves.
type cleanNode struct{ Node }

var _ Node = cleanNode{}

// cleaned returns v with every string field, at any depth of structs and
// slices, cleaned; slices are copied first so what the node holds is never
// changed. Reflection rather than a function per type so that a field added
// to an engine type later is cleaned without anyone remembering to.
func cleaned[T any](v T) T {
	scrub(reflect.ValueOf(&v).Elem())
	return v
}

func scrub(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(termtext.Line(v.String()))
	case reflect.Struct:
		t := v.Type()
		for i := range v.NumField() {
			f := v.Field(i)
			if !f.CanSet() || (f.Kind() == reflect.String && isIdentifier(t.Field(i).Name)) {
				continue // unexported (time.Time's insides), or sent back to the node
			}
			scrub(f)
		}
	case reflect.Array:
		for i := range v.Len() {
			scrub(v.Index(i))
		}
	case reflect.Slice:
		if v.IsNil() || !holdsText(v.Type().Elem()) {
			return
		}
		cp := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(cp, v)
		v.Set(cp)
		for i := range v.Len() {
			scrub(v.Index(i))
		}
	case reflect.Pointer:
		// A copy of what it points to, so the node's own value stays.
		if v.IsNil() || !holdsText(v.Type().Elem()) {
			return
		}
		cp := reflect.New(v.Type().Elem())
		cp.Elem().Set(v.Elem())
		scrub(cp.Elem())
		v.Set(cp)
	case reflect.Map:
		// A new map with keys and values cleaned: a key was text from
		// somewhere too (the per-stage medians' keys are stage names,
		// which cleaning leaves as they are).
		if v.IsNil() || (!holdsText(v.Type().Key()) && !holdsText(v.Type().Elem())) {
			return
		}
		cp := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			k.Set(it.Key())
			e.Set(it.Value())
			scrub(k)
			scrub(e)
			cp.SetMapIndex(k, e)
		}
		v.Set(cp)
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		cp := reflect.New(v.Elem().Type()).Elem()
		cp.Set(v.Elem())
		scrub(cp)
		v.Set(cp)
	}
}

// holdsText says whether a value of type t can hold a string anywhere, so
// values with none (durations, numbers, times) are not copied for nothing.
func holdsText(t reflect.Type) bool {
	return holdsTextSeen(t, map[reflect.Type]bool{})
}

func holdsTextSeen(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return true
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() && holdsTextSeen(t.Field(i).Type, seen) {
				return true
			}
		}
	case reflect.Slice, reflect.Array, reflect.Pointer:
		return holdsTextSeen(t.Elem(), seen)
	case reflect.Map:
		return holdsTextSeen(t.Key(), seen) || holdsTextSeen(t.Elem(), seen)
	}
	return false
}

func isIdentifier(field string) bool { return field == "ID" || strings.HasSuffix(field, "ID") }

// cleanError shows an error's message cleaned, and keeps the error itself
// for errors.Is.
type cleanError struct{ err error }

func (e cleanError) Error() string { return termtext.Line(e.err.Error()) }
func (e cleanError) Unwrap() error { return e.err }

func cleanErr(err error) error {
	if err == nil {
		return nil
	}
	return cleanError{err}
}

func (n cleanNode) Info(ctx context.Context) (adminapi.Instance, error) {
	v, err := n.Node.Info(ctx)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Connections(ctx context.Context) ([]adminapi.Connection, error) {
	v, err := n.Node.Connections(ctx)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Connection(ctx context.Context, id string) (adminapi.Connection, error) {
	v, err := n.Node.Connection(ctx, id)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Projects(ctx context.Context) ([]adminapi.Project, error) {
	v, err := n.Node.Projects(ctx)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Probe(ctx context.Context, url string) (adminapi.Instance, error) {
	v, err := n.Node.Probe(ctx, url)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Invite(ctx context.Context, r adminapi.InviteRequest) (adminapi.Connection, string, error) {
	v, code, err := n.Node.Invite(ctx, r)
	return cleaned(v), termtext.Line(code), cleanErr(err)
}

func (n cleanNode) RenewInvitation(ctx context.Context, id string) (adminapi.Connection, string, error) {
	v, code, err := n.Node.RenewInvitation(ctx, id)
	return cleaned(v), termtext.Line(code), cleanErr(err)
}

func (n cleanNode) PreviewInvitation(ctx context.Context, code string) (adminapi.InvitationPreview, error) {
	v, err := n.Node.PreviewInvitation(ctx, code)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Accept(ctx context.Context, code, project string) (adminapi.Connection, error) {
	v, err := n.Node.Accept(ctx, code, project)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) DestinationProjects(ctx context.Context, url, adminToken string) (adminapi.Instance, []adminapi.Project, error) {
	v, ps, err := n.Node.DestinationProjects(ctx, url, adminToken)
	return cleaned(v), cleaned(ps), cleanErr(err)
}

func (n cleanNode) Connect(ctx context.Context, r adminapi.ConnectRequest) (adminapi.Connection, error) {
	v, err := n.Node.Connect(ctx, r)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) SetActive(ctx context.Context, id string, active bool) (adminapi.Connection, error) {
	v, err := n.Node.SetActive(ctx, id, active)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) SetTrigger(ctx context.Context, id string, on bool) (adminapi.Connection, error) {
	v, err := n.Node.SetTrigger(ctx, id, on)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Delete(ctx context.Context, id string) error {
	return cleanErr(n.Node.Delete(ctx, id))
}

func (n cleanNode) Exalate(ctx context.Context, connID, ref string) (adminapi.StageEvent, error) {
	v, err := n.Node.Exalate(ctx, connID, ref)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) ExalateAll(ctx context.Context, connID string) (adminapi.BulkStarted, error) {
	v, err := n.Node.ExalateAll(ctx, connID)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) StartBulk(ctx context.Context, connID string) (adminapi.Bulk, error) {
	v, err := n.Node.StartBulk(ctx, connID)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Bulk(ctx context.Context, connID, id string, events int) (adminapi.Bulk, error) {
	v, err := n.Node.Bulk(ctx, connID, id, events)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) EventStatus(ctx context.Context, connID, eventID string) (adminapi.EventStatus, error) {
	v, err := n.Node.EventStatus(ctx, connID, eventID)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Stats(ctx context.Context, connID string) (adminapi.ConnectionStats, error) {
	v, err := n.Node.Stats(ctx, connID)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) RecentEvents(ctx context.Context, connID string, limit int) ([]adminapi.StageEvent, error) {
	v, err := n.Node.RecentEvents(ctx, connID, limit)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Rules(ctx context.Context, connID string) ([]adminapi.Rule, error) {
	v, err := n.Node.Rules(ctx, connID)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) RecentItems(ctx context.Context, project string, limit int) ([]adminapi.Item, error) {
	v, err := n.Node.RecentItems(ctx, project, limit)
	return cleaned(v), cleanErr(err)
}

// Subscribe cleans the stage events as they arrive. The forwarding channel
// is as deep as the node's, so a console that falls behind loses no more
// events than it did before.
func (n cleanNode) Subscribe(ctx context.Context) (<-chan adminapi.StageEvent, error) {
	in, err := n.Node.Subscribe(ctx)
	if err != nil || in == nil {
		return in, cleanErr(err)
	}
	out := make(chan adminapi.StageEvent, cap(in))
	go func() {
		defer close(out)
		for ev := range in {
			select {
			case out <- cleaned(ev):
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
