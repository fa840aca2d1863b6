package script

// The Starlark values of the model that are not the item or the replica:
// rich text, users, comments, attachments and the item's custom fields.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

// richText is a description or a comment body, in the contract's neutral
// rich text, with text() and html() to read it as a script needs.
type richText struct{ html string }

var (
	_ starlark.HasAttrs   = richText{}
	_ starlark.Comparable = richText{}
)

func (r richText) String() string { return r.html }
func (r richText) Type() string   { return "rich_text" }
func (r richText) Freeze()        {}
func (r richText) Truth() starlark.Bool {
	return r.html != "" && r.html != "<body></body>"
}
func (r richText) Hash() (uint32, error) { return starlark.String(r.html).Hash() }

func (r richText) CompareSameType(op syntax.Token, y starlark.Value, _ int) (bool, error) {
	eq := r.html == y.(richText).html
	switch op {
	case syntax.EQL:
		return eq, nil
	case syntax.NEQ:
		return !eq, nil
	}
	return false, fmt.Errorf("rich text can't be ordered: compare its text() or html()")
}

func (r richText) AttrNames() []string { return []string{"html", "text"} }

func (r richText) Attr(name string) (starlark.Value, error) {
	switch name {
	case "html":
		return getter("html", r, func() (starlark.Value, error) { return starlark.String(r.html), nil }), nil
	case "text":
		return getter("text", r, func() (starlark.Value, error) {
			if r.html == "" {
				return starlark.String(""), nil
			}
			s, err := richtext.ToPlain(r.html)
			if err != nil {
				return nil, err
			}
			return starlark.String(s), nil
		}), nil
	}
	return nil, nil
}

// method is a helper bound to a value.
func method(name string, recv starlark.Value, fn func(r *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)) starlark.Value {
	return helper(name, func(r *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return fn(r, args, kwargs)
	}).BindReceiver(recv)
}

// getter is a method taking no arguments.
func getter(name string, recv starlark.Value, fn func() (starlark.Value, error)) starlark.Value {
	return method(name, recv, func(_ *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(name, args, kwargs, 0); err != nil {
			return nil, err
		}
		return fn()
	})
}

// object is a read-only record: a user, a comment, an attachment. It keeps
// the Go value it was made from, so a script can hand it back (replica.
// comments = item.comments) and the host knows exactly which it was.
type object struct {
	typ   string
	attrs starlark.StringDict
	src   any // tracker.User, tracker.Comment or tracker.Attachment
}

var (
	_ starlark.HasAttrs   = (*object)(nil)
	_ starlark.Comparable = (*object)(nil)
)

func newUser(u tracker.User) *object {
	return &object{typ: "user", src: u, attrs: starlark.StringDict{
		"email": starlark.String(u.Email), "name": starlark.String(u.Name)}}
}

func newComment(c tracker.Comment) *object {
	at := ""
	if !c.CreatedAt.IsZero() {
		at = c.CreatedAt.UTC().Format(time.RFC3339)
	}
	return &object{typ: "comment", src: c, attrs: starlark.StringDict{
		"id": starlark.String(c.ID), "author": starlark.String(c.Author), "body": richText{c.Body},
		"created_at": starlark.String(at), "edited": starlark.Bool(c.Edited)}}
}

func newAttachment(a tracker.Attachment) *object {
	return &object{typ: "attachment", src: a, attrs: starlark.StringDict{
		"id": starlark.String(a.ID), "name": starlark.String(a.Name), "size": starlark.MakeInt64(a.Size)}}
}

func (o *object) String() string {
	var b strings.Builder
	b.WriteString(o.typ + "(")
	for i, k := range o.attrs.Keys() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = %s", k, o.attrs[k])
	}
	b.WriteString(")")
	return b.String()
}
func (o *object) Type() string          { return o.typ }
func (o *object) Freeze()               {}
func (o *object) Truth() starlark.Bool  { return true }
func (o *object) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: %s", o.typ) }
func (o *object) AttrNames() []string   { return o.attrs.Keys() }
func (o *object) Attr(name string) (starlark.Value, error) {
	return o.attrs[name], nil
}

func (o *object) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	if op != syntax.EQL && op != syntax.NEQ {
		return false, fmt.Errorf("%s values can't be ordered", o.typ)
	}
	other := y.(*object)
	eq := len(o.attrs) == len(other.attrs)
	for k, v := range o.attrs {
		if !eq {
			break
		}
		w, ok := other.attrs[k]
		if !ok {
			eq = false
			break
		}
		same, err := starlark.EqualDepth(v, w, depth-1)
		if err != nil {
			return false, err
		}
		eq = same
	}
	return eq == (op == syntax.EQL), nil
}

// customDict is an item's custom fields: a read-only mapping, or in the
// incoming script one whose assignments (item.custom["Priority"] =
// "High") are recorded as changes.
type customDict struct {
	m   map[string]string
	set func(k, v string) error // nil: read-only
}

var (
	_ starlark.IterableMapping = (*customDict)(nil)
	_ starlark.HasSetKey       = (*customDict)(nil)
	_ starlark.Sequence        = (*customDict)(nil)
	_ starlark.HasAttrs        = (*customDict)(nil)
)

func (d *customDict) keys() []string {
	keys := make([]string, 0, len(d.m))
	for k := range d.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (d *customDict) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range d.keys() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", starlark.String(k), starlark.String(d.m[k]))
	}
	b.WriteByte('}')
	return b.String()
}
func (d *customDict) Type() string          { return "custom_fields" }
func (d *customDict) Freeze()               {}
func (d *customDict) Truth() starlark.Bool  { return len(d.m) > 0 }
func (d *customDict) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: custom_fields") }
func (d *customDict) Len() int              { return len(d.m) }

func (d *customDict) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := k.(starlark.String)
	if !ok {
		return nil, false, nil
	}
	v, ok := d.m[string(s)]
	if !ok {
		return nil, false, nil
	}
	return starlark.String(v), true, nil
}

func (d *customDict) Iterate() starlark.Iterator { return d.keyTuple().Iterate() }

func (d *customDict) keyTuple() starlark.Tuple {
	var t starlark.Tuple
	for _, k := range d.keys() {
		t = append(t, starlark.String(k))
	}
	return t
}

func (d *customDict) Items() []starlark.Tuple {
	var items []starlark.Tuple
	for _, k := range d.keys() {
		items = append(items, starlark.Tuple{starlark.String(k), starlark.String(d.m[k])})
	}
	return items
}

func (d *customDict) SetKey(k, v starlark.Value) error {
	if d.set == nil {
		return fmt.Errorf("item.custom is read-only here: the incoming script sets custom fields")
	}
	key, ok := k.(starlark.String)
	if !ok || key == "" {
		return fmt.Errorf("item.custom: a custom field is named by a non-empty str, not %s", k.Type())
	}
	val, err := customValue(v)
	if err != nil {
		return fmt.Errorf("item.custom[%s]: %w", key, err)
	}
	return d.set(string(key), val)
}

func (d *customDict) AttrNames() []string { return []string{"get", "items", "keys", "values"} }

func (d *customDict) Attr(name string) (starlark.Value, error) {
	switch name {
	case "get":
		return method("get", d, func(_ *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var k, def starlark.Value = nil, starlark.None
			if err := starlark.UnpackPositionalArgs("get", args, kwargs, 1, &k, &def); err != nil {
				return nil, err
			}
			if v, ok, _ := d.Get(k); ok {
				return v, nil
			}
			return def, nil
		}), nil
	case "keys":
		return getter("keys", d, func() (starlark.Value, error) {
			return starlark.NewList(d.keyTuple()), nil
		}), nil
	case "values":
		return getter("values", d, func() (starlark.Value, error) {
			var vs []starlark.Value
			for _, k := range d.keys() {
				vs = append(vs, starlark.String(d.m[k]))
			}
			return starlark.NewList(vs), nil
		}), nil
	case "items":
		return getter("items", d, func() (starlark.Value, error) {
			var vs []starlark.Value
			for _, it := range d.Items() {
				vs = append(vs, it)
			}
			return starlark.NewList(vs), nil
		}), nil
	}
	return nil, nil
}

// customValue is a custom field's value as a script may give it: a str
// (an option's name, a text, a number written as text); None clears it.
func customValue(v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.String:
		return string(v), nil
	case starlark.NoneType:
		return "", nil
	}
	return "", fmt.Errorf("got %s, want a str (write a number as text: str(n))", v.Type())
}
