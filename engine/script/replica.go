package script

// The replica a script sees: the one the outgoing script fills, and the
// one (and the previous one) the incoming script reads.

import (
	"fmt"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// replicaValue is a replica. Its fields hold Starlark values: the
// outgoing script's, checked when assigned and converted when the run
// ends (a list assigned may still be appended to), or a received
// replica's, frozen. A field takes what the item's field takes, None
// included (an assignee of nobody); one never set is left out.
type replicaValue struct {
	id, key, url string
	vals         map[string]starlark.Value // the fields set
	comments     *starlark.List
	attachments  *starlark.List
	writable     bool
	// changed backs replica.changed(field) on the replica an incoming
	// script receives; nil on the others.
	changed func(field string) bool
}

var (
	_ starlark.HasAttrs    = (*replicaValue)(nil)
	_ starlark.HasSetField = (*replicaValue)(nil)
)

// newOutgoingReplica is the replica the outgoing script fills: the
// item's identity and nothing else.
func newOutgoingReplica(e tracker.Entity) *replicaValue {
	return &replicaValue{id: e.ID, key: e.Key, url: e.URL, vals: map[string]starlark.Value{},
		comments: starlark.NewList(nil), attachments: starlark.NewList(nil), writable: true}
}

// newReceivedReplica is a replica as the incoming script reads it.
func newReceivedReplica(r Replica, changed func(string) bool) *replicaValue {
	v := &replicaValue{id: r.ID, key: r.Key, url: r.URL, vals: map[string]starlark.Value{}, changed: changed}
	h := holder{&r.Type, &r.Summary, &r.Description, &r.Fields}
	for _, f := range r.Set {
		if isField(f) {
			v.vals[f] = h.get(f, true)
		}
	}
	cs := make([]starlark.Value, len(r.Comments))
	for i, c := range r.Comments {
		cs[i] = newComment(c)
	}
	as := make([]starlark.Value, len(r.Attachments))
	for i, a := range r.Attachments {
		as[i] = newAttachment(a)
	}
	v.comments, v.attachments = frozenList(cs), frozenList(as)
	return v
}

// changedFunc is replica.changed for an incoming run: on a first sync
// every field the replica has; else those the pipeline names, or, when it
// names none, those whose value differs from the previous replica's (all
// of them when there is no previous replica).
func changedFunc(in IncomingInput, first bool) func(string) bool {
	return func(f string) bool {
		switch {
		case !in.Replica.Has(f):
			return false
		case first:
			return true
		case in.Changed != nil:
			return slices.Contains(in.Changed, f)
		case in.Previous == nil:
			return true
		}
		return !in.Previous.Has(f) || in.Previous.Value(f) != in.Replica.Value(f)
	}
}

func (r *replicaValue) String() string        { return "replica(" + r.key + ")" }
func (r *replicaValue) Type() string          { return "replica" }
func (r *replicaValue) Freeze()               { r.writable = false }
func (r *replicaValue) Truth() starlark.Bool  { return true }
func (r *replicaValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: replica") }

func (r *replicaValue) AttrNames() []string {
	names := append(Fields(), "attachments", "comments", "id", "key", "url")
	if r.changed != nil {
		names = append(names, "changed")
	}
	slices.Sort(names)
	return names
}

func (r *replicaValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(r.id), nil
	case "key":
		return starlark.String(r.key), nil
	case "url":
		return starlark.String(r.url), nil
	case "comments":
		return r.comments, nil
	case "attachments":
		return r.attachments, nil
	case "changed":
		if r.changed == nil {
			return nil, nil
		}
		return method("changed", r, func(_ *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var f string
			if err := starlark.UnpackPositionalArgs("changed", args, kwargs, 1, &f); err != nil {
				return nil, err
			}
			if !isField(f) {
				return nil, fmt.Errorf("changed: a replica has no field %q; its fields are %s", f, strings.Join(Fields(), ", "))
			}
			return starlark.Bool(r.changed(f)), nil
		}), nil
	}
	if !isField(name) {
		return nil, nil
	}
	if v, ok := r.vals[name]; ok {
		return v, nil
	}
	return starlark.None, nil
}

func (r *replicaValue) SetField(name string, v starlark.Value) error {
	if !r.writable {
		return fmt.Errorf("replica is read-only here: it is what the other side sent; set the item's fields instead (item.%s = replica.%s)", name, name)
	}
	switch {
	case name == "id" || name == "key" || name == "url":
		return fmt.Errorf("replica.%s is the item's own; the engine sets it", name)
	case name == "comments" || name == "attachments":
		l, err := records(v, strings.TrimSuffix(name, "s"))
		if err != nil {
			return fmt.Errorf("replica.%s: %w", name, err)
		}
		if name == "comments" {
			r.comments = l
		} else {
			r.attachments = l
		}
		return nil
	case !isField(name):
		return starlark.NoSuchAttrError(fmt.Sprintf("replica has no field %q; its fields are %s", name, strings.Join(Fields(), ", ")))
	}
	var rep Replica
	h := holder{&rep.Type, &rep.Summary, &rep.Description, &rep.Fields}
	if err := h.assign(name, v); err != nil {
		return fmt.Errorf("replica.%s: %w", name, err)
	}
	r.vals[name] = h.get(name, false)
	return nil
}

// records checks that v is a list of the item's comments (or
// attachments) and returns a new list of them.
func records(v starlark.Value, typ string) (*starlark.List, error) {
	it, ok := v.(starlark.Iterable)
	if !ok || isMapping(v) {
		return nil, fmt.Errorf("got %s, want a list of the item's %ss", v.Type(), typ)
	}
	var vs []starlark.Value
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for i := 0; iter.Next(&x); i++ {
		if o, ok := x.(*object); !ok || o.typ != typ {
			return nil, fmt.Errorf("element %d is %s, want a %s of item.%ss", i, x.Type(), typ, typ)
		}
		vs = append(vs, x)
	}
	return starlark.NewList(vs), nil
}

// toReplica is the replica the outgoing script filled, converted when the
// run ends (what was appended to a list assigned is checked here).
func (r *replicaValue) toReplica() (Replica, error) {
	rep := Replica{ID: r.id, Key: r.key, URL: r.url}
	h := holder{&rep.Type, &rep.Summary, &rep.Description, &rep.Fields}
	for _, f := range Fields() {
		v, ok := r.vals[f]
		if !ok {
			continue
		}
		if err := h.assign(f, v); err != nil {
			return Replica{}, fmt.Errorf("replica.%s: %w", f, err)
		}
		rep.Set = append(rep.Set, f)
	}
	for _, pair := range []struct {
		l   *starlark.List
		typ string
	}{{r.comments, "comment"}, {r.attachments, "attachment"}} {
		if _, err := records(pair.l, pair.typ); err != nil {
			return Replica{}, fmt.Errorf("replica.%ss: %w", pair.typ, err)
		}
		for i := range pair.l.Len() {
			switch src := pair.l.Index(i).(*object).src.(type) {
			case tracker.Comment:
				rep.Comments = append(rep.Comments, src)
			case tracker.Attachment:
				rep.Attachments = append(rep.Attachments, src)
			}
		}
	}
	return rep, nil
}
