package script

// The item a script sees: read-only in the outgoing script and the
// trigger; in the incoming script, the local item, whose assignments are
// recorded as the run's changes.

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// itemValue is the item. orig is the item as it was; cur has the
// script's assignments applied, so reading a field after setting it gives
// the new value.
type itemValue struct {
	orig, cur tracker.Entity
	writable  bool
	new       bool // first sync: the item is to be created
	assigned  map[string]bool
	custom    map[string]bool // custom fields assigned, by name
	frozen    bool
}

var (
	_ starlark.HasAttrs    = (*itemValue)(nil)
	_ starlark.HasSetField = (*itemValue)(nil)
)

func newItem(e tracker.Entity, writable, isNew bool) *itemValue {
	cur := e
	cur.Labels = slices.Clone(e.Labels)
	cur.Custom = maps.Clone(e.Custom)
	if e.Assignee != nil {
		u := *e.Assignee
		cur.Assignee = &u
	}
	return &itemValue{orig: e, cur: cur, writable: writable, new: isNew,
		assigned: map[string]bool{}, custom: map[string]bool{}}
}

func (it *itemValue) String() string {
	if it.cur.Key == "" {
		return "item(new)"
	}
	return "item(" + it.cur.Key + ")"
}
func (it *itemValue) Type() string          { return "item" }
func (it *itemValue) Freeze()               { it.frozen = true }
func (it *itemValue) Truth() starlark.Bool  { return true }
func (it *itemValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: item") }

func (it *itemValue) AttrNames() []string {
	names := append(Fields(), "attachments", "comments", "id", "key", "url")
	slices.Sort(names)
	return names
}

func (it *itemValue) holder() holder {
	return holder{&it.cur.Type, &it.cur.Summary, &it.cur.Description, &it.cur.Fields}
}

func (it *itemValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(it.cur.ID), nil
	case "key":
		return starlark.String(it.cur.Key), nil
	case "url":
		return starlark.String(it.cur.URL), nil
	case "comments":
		vs := make([]starlark.Value, len(it.cur.Comments))
		for i, c := range it.cur.Comments {
			vs[i] = newComment(c)
		}
		return frozenList(vs), nil
	case "attachments":
		vs := make([]starlark.Value, len(it.cur.Attachments))
		for i, a := range it.cur.Attachments {
			vs[i] = newAttachment(a)
		}
		return frozenList(vs), nil
	case FieldCustom:
		d := &customDict{m: it.cur.Custom}
		if it.writable && !it.frozen {
			d.set = it.setCustom
		}
		return d, nil
	}
	if !isField(name) {
		return nil, nil
	}
	return it.holder().get(name, true), nil
}

func frozenList(vs []starlark.Value) *starlark.List {
	l := starlark.NewList(vs)
	l.Freeze()
	return l
}

func (it *itemValue) SetField(name string, v starlark.Value) error {
	if !it.writable {
		return fmt.Errorf("item is read-only here: the outgoing script fills replica (replica.%s = item.%s)", name, name)
	}
	if it.frozen {
		return fmt.Errorf("item can't be changed after the run")
	}
	switch {
	case name == FieldCustom:
		return fmt.Errorf("item.custom: set one custom field at a time, item.custom[name] = value")
	case name == "comments" || name == "attachments":
		return fmt.Errorf("item.%s can't be set: merge_%s(item, replica) adds the replica's", name, name)
	case !isField(name):
		return starlark.NoSuchAttrError(fmt.Sprintf("item has no field %q to set; its fields are %s", name, strings.Join(Fields(), ", ")))
	}
	if err := it.holder().assign(name, v); err != nil {
		return fmt.Errorf("item.%s: %w", name, err)
	}
	it.assigned[name] = true
	return nil
}

func (it *itemValue) setCustom(k, v string) error {
	if v == "" {
		delete(it.cur.Custom, k)
	} else {
		if it.cur.Custom == nil {
			it.cur.Custom = map[string]string{}
		}
		it.cur.Custom[k] = v
	}
	it.custom[k] = true
	return nil
}

// changes is the update the assignments make: the fields assigned a
// value other than the item's, in Fields order.
func (it *itemValue) changes() (tracker.EntityUpdate, []string) {
	var (
		u       tracker.EntityUpdate
		changed []string
		o, c    = it.orig, it.cur
	)
	for _, f := range Fields() {
		if f == FieldCustom {
			for _, k := range slices.Sorted(maps.Keys(it.custom)) {
				if c.Custom[k] != o.Custom[k] {
					if u.Custom == nil {
						u.Custom = map[string]string{}
						changed = append(changed, f)
					}
					u.Custom[k] = c.Custom[k]
				}
			}
			continue
		}
		if !it.assigned[f] || ItemValue(o, f) == ItemValue(c, f) {
			continue
		}
		changed = append(changed, f)
		switch f {
		case FieldType:
			u.Type = &c.Type
		case FieldSummary:
			u.Summary = &c.Summary
		case FieldDescription:
			u.Description = &c.Description
		case FieldStatus:
			u.Status = &c.Status
		case FieldCompleted:
			u.Completed = &c.Completed
		case FieldSection:
			u.Section = &c.Section
		case FieldAssignee:
			email := ""
			if c.Assignee != nil {
				email = c.Assignee.Email
			}
			u.Assignee = &email
		case FieldDueDate:
			u.DueDate = &c.DueDate
		case FieldPriority:
			u.Priority = &c.Priority
		case FieldLabels:
			labels := slices.Clone(c.Labels)
			if labels == nil {
				labels = []string{}
			}
			u.Labels = &labels
		}
	}
	return u, changed
}
