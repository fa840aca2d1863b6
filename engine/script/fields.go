package script

// The fields a script reads and writes, the same on the item and on the
// replica, and their conversions between Go and Starlark.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

// The fields of an item and of a replica, besides comments and
// attachments. The first three are Basic's, named as the engine names
// them; the rest are tracker.Fields.
const (
	FieldType        = "type"
	FieldSummary     = "summary"
	FieldDescription = "description"
	FieldStatus      = "status"
	FieldCompleted   = "completed"
	FieldSection     = "section"
	FieldAssignee    = "assignee"
	FieldDueDate     = "due_date"
	FieldPriority    = "priority"
	FieldLabels      = "labels"
	FieldCustom      = "custom"
)

// Fields returns the field names in their order: the order of
// Replica.Set and IncomingResult.Changed. Each call returns a new slice.
func Fields() []string {
	return []string{FieldType, FieldSummary, FieldDescription, FieldStatus, FieldCompleted, FieldSection,
		FieldAssignee, FieldDueDate, FieldPriority, FieldLabels, FieldCustom}
}

func isField(name string) bool { return slices.Contains(Fields(), name) }

// Replica is what crosses the wire between an outgoing script and the
// other side's incoming script: the source item's identity, the fields
// the outgoing script set (Set names them; the others read None on the
// other side), and the comments and attachments it chose to send.
type Replica struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	URL         string `json:"url"`
	Type        string `json:"type,omitempty"`
	Summary     string `json:"summary,omitempty"`
	Description string `json:"description,omitempty"` // rich text
	tracker.Fields
	Comments    []tracker.Comment    `json:"comments,omitempty"`
	Attachments []tracker.Attachment `json:"attachments,omitempty"`
	// Set names the fields the outgoing script set, in Fields order.
	Set []string `json:"set"`
}

// Has says whether the outgoing script set the field.
func (r Replica) Has(field string) bool { return slices.Contains(r.Set, field) }

// Value is the replica's value of a field as one string, "" when unset:
// the form to fingerprint it in (see ItemValue).
func (r Replica) Value(field string) string {
	if !r.Has(field) {
		return ""
	}
	return fieldString(field, holder{&r.Type, &r.Summary, &r.Description, &r.Fields})
}

// ItemValue is an item's value of a field as one string, in the form
// Replica.Value gives a replica's: a bool as "true" or "false", an
// assignee as the e-mail in lower case, labels one per line, custom
// fields as a JSON object.
func ItemValue(e tracker.Entity, field string) string {
	return fieldString(field, holder{&e.Type, &e.Summary, &e.Description, &e.Fields})
}

func fieldString(field string, h holder) string {
	switch field {
	case FieldCompleted:
		return strconv.FormatBool(h.f.Completed)
	case FieldAssignee:
		if h.f.Assignee == nil {
			return ""
		}
		return strings.ToLower(h.f.Assignee.Email)
	case FieldLabels:
		return strings.Join(h.f.Labels, "\n")
	case FieldCustom:
		if len(h.f.Custom) == 0 {
			return ""
		}
		b, _ := json.Marshal(h.f.Custom) // sorted keys
		return string(b)
	}
	if p := h.str(field); p != nil {
		return *p
	}
	return ""
}

// holder is where the fields' values live: an item or a replica.
type holder struct {
	typ, summary, description *string
	f                         *tracker.Fields
}

// str is the string-valued field, nil for the others.
func (h holder) str(field string) *string {
	switch field {
	case FieldType:
		return h.typ
	case FieldSummary:
		return h.summary
	case FieldDescription:
		return h.description
	case FieldStatus:
		return &h.f.Status
	case FieldSection:
		return &h.f.Section
	case FieldDueDate:
		return &h.f.DueDate
	case FieldPriority:
		return &h.f.Priority
	}
	return nil
}

// get is a field's value for a script; labels and custom come mutable
// unless frozen.
func (h holder) get(field string, frozen bool) starlark.Value {
	var v starlark.Value
	switch field {
	case FieldDescription:
		return richText{*h.description}
	case FieldCompleted:
		return starlark.Bool(h.f.Completed)
	case FieldAssignee:
		if h.f.Assignee == nil {
			return starlark.None
		}
		return newUser(*h.f.Assignee)
	case FieldLabels:
		v = stringList(h.f.Labels)
	case FieldCustom:
		d := starlark.NewDict(len(h.f.Custom))
		for _, k := range (&customDict{m: h.f.Custom}).keys() {
			_ = d.SetKey(starlark.String(k), starlark.String(h.f.Custom[k]))
		}
		v = d
	default:
		return starlark.String(*h.str(field))
	}
	if frozen {
		v.Freeze()
	}
	return v
}

func stringList(ss []string) *starlark.List {
	vs := make([]starlark.Value, len(ss))
	for i, s := range ss {
		vs[i] = starlark.String(s)
	}
	return starlark.NewList(vs)
}

// assign converts a script's value for a field and stores it; None
// clears the field.
func (h holder) assign(field string, v starlark.Value) error {
	if v == starlark.None {
		return h.clear(field)
	}
	return h.set(field, v)
}

// set converts a script's value (not None) for a field and stores it.
func (h holder) set(field string, v starlark.Value) error {
	switch field {
	case FieldDescription:
		s, err := toRichText(v)
		if err != nil {
			return err
		}
		*h.description = s
	case FieldCompleted:
		b, ok := v.(starlark.Bool)
		if !ok {
			return fmt.Errorf("got %s, want True or False", v.Type())
		}
		h.f.Completed = bool(b)
	case FieldAssignee:
		u, err := toUser(v)
		if err != nil {
			return err
		}
		h.f.Assignee = u
	case FieldDueDate:
		s, ok := v.(starlark.String)
		if !ok {
			return fmt.Errorf("got %s, want a date as a str, YYYY-MM-DD", v.Type())
		}
		if s != "" {
			if _, err := time.Parse(time.DateOnly, string(s)); err != nil {
				return fmt.Errorf("%s is not a date as YYYY-MM-DD", s)
			}
		}
		h.f.DueDate = string(s)
	case FieldLabels:
		ls, err := toLabels(v)
		if err != nil {
			return err
		}
		h.f.Labels = ls
	case FieldCustom:
		m, ok := v.(starlark.IterableMapping)
		if !ok {
			return fmt.Errorf("got %s, want a dict of str to str", v.Type())
		}
		custom := map[string]string{}
		for _, kv := range m.Items() {
			k, ok := kv[0].(starlark.String)
			if !ok || k == "" {
				return fmt.Errorf("a custom field is named by a non-empty str, not %s", kv[0].Type())
			}
			val, err := customValue(kv[1])
			if err != nil {
				return fmt.Errorf("[%s]: %w", k, err)
			}
			custom[string(k)] = val
		}
		h.f.Custom = custom
	default:
		s, ok := v.(starlark.String)
		if !ok {
			return fmt.Errorf("got %s, want a str", v.Type())
		}
		*h.str(field) = string(s)
	}
	return nil
}

// clear sets a field to its zero value (None assigned); type, summary
// and completed have none a tracker would take.
func (h holder) clear(field string) error {
	switch field {
	case FieldType, FieldSummary:
		return fmt.Errorf("can't be None: every item has one")
	case FieldCompleted:
		return fmt.Errorf("can't be None: set True or False")
	case FieldAssignee:
		h.f.Assignee = nil
	case FieldLabels:
		h.f.Labels = nil
	case FieldCustom:
		h.f.Custom = nil
	default:
		*h.str(field) = ""
	}
	return nil
}

// toRichText takes rich text as it is, and a str as plain text.
func toRichText(v starlark.Value) (string, error) {
	switch v := v.(type) {
	case richText:
		return v.html, nil
	case starlark.String:
		if v == "" {
			return "", nil
		}
		return richtext.FromPlain(string(v)), nil
	}
	return "", fmt.Errorf("got %s, want rich text or a str of plain text", v.Type())
}

// toUser takes a user (user_by_email's, or another item's assignee) or
// an e-mail.
func toUser(v starlark.Value) (*tracker.User, error) {
	switch v := v.(type) {
	case *object:
		if u, ok := v.src.(tracker.User); ok {
			return &u, nil
		}
	case starlark.String:
		if v == "" {
			return nil, nil
		}
		return &tracker.User{Email: string(v)}, nil
	}
	return nil, fmt.Errorf("got %s, want a user, an e-mail or None", v.Type())
}

// toLabels takes a list or tuple of str, and keeps each label once,
// sorted, as trackers list them.
func toLabels(v starlark.Value) ([]string, error) {
	it, ok := v.(starlark.Iterable)
	if !ok || isMapping(v) || isString(v) {
		return nil, fmt.Errorf("got %s, want a list of str", v.Type())
	}
	var ls []string
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for i := 0; iter.Next(&x); i++ {
		s, ok := x.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("element %d is %s, want a str", i, x.Type())
		}
		if s != "" {
			ls = append(ls, string(s))
		}
	}
	slices.Sort(ls)
	return slices.Compact(ls), nil
}

func isMapping(v starlark.Value) bool { _, ok := v.(starlark.Mapping); return ok }
func isString(v starlark.Value) bool  { _, ok := v.(starlark.String); return ok }
