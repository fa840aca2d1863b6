package script

// The helpers every script has: mirror_type, merge_comments,
// merge_attachments, user_by_email, map_value and rich_text.

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

// helpers are the names predeclared in every script. Each program gets
// its own set; they reach the run they serve through the thread.
func helpers() starlark.StringDict {
	return starlark.StringDict{
		"mirror_type":       helper("mirror_type", mirrorType),
		"merge_comments":    helper("merge_comments", merge("comments")),
		"merge_attachments": helper("merge_attachments", merge("attachments")),
		"user_by_email":     helper("user_by_email", userByEmail),
		"map_value":         helper("map_value", mapValue),
		"rich_text":         helper("rich_text", richTextOf),
	}
}

// helper makes a built-in of fn. A panic in fn (or in the host callback
// it calls) fails the run with ErrInternal instead of the node.
func helper(name string, fn func(r *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (v starlark.Value, err error) {
		defer func() {
			if p := recover(); p != nil {
				v, err = nil, fmt.Errorf("%s: %w: %v", name, ErrInternal, p)
			}
		}()
		r := runOf(th)
		if r == nil {
			return nil, fmt.Errorf("%s: called outside a run", name)
		}
		return fn(r, args, kwargs)
	})
}

// mirrorType is mirror_type(type, default=None): the type an item of the
// other side's type gets here, through the host's MapType; a type this
// side lacks becomes default, or this side's default type.
func mirrorType(r *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var typ, def starlark.Value = nil, starlark.None
	if err := starlark.UnpackArgs("mirror_type", args, kwargs, "type", &typ, "default?", &def); err != nil {
		return nil, err
	}
	if r.kind != KindIncoming {
		return nil, fmt.Errorf("mirror_type maps the other side's type to this side's: call it in the incoming script")
	}
	t := ""
	switch v := typ.(type) {
	case starlark.String:
		t = string(v)
	case starlark.NoneType:
	default:
		return nil, fmt.Errorf("mirror_type: got %s, want a type name (str)", typ.Type())
	}
	if _, ok := def.(starlark.String); !ok && def != starlark.None {
		return nil, fmt.Errorf("mirror_type: default is %s, want a type name (str)", def.Type())
	}
	if r.env.MapType == nil {
		return nil, fmt.Errorf("mirror_type: this node's types can't be looked up here")
	}
	local, kept, err := r.env.MapType(r.ctx, t)
	if err != nil {
		return nil, fmt.Errorf("mirror_type(%q): %w", t, err)
	}
	if kept == "" {
		return starlark.String(local), nil
	}
	r.kept = kept
	if def != starlark.None {
		return def, nil
	}
	return starlark.String(local), nil
}

// merge is merge_comments(item, replica) and merge_attachments(item,
// replica): Basic's semantics. Outgoing, the replica carries all of the
// item's (the engine sends those the other side lacks or that changed);
// incoming, the engine adds the replica's to the item, each mapped once,
// author shown, nothing duplicated.
func merge(what string) func(r *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name := "merge_" + what
	return func(r *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var item, replica starlark.Value
		if err := starlark.UnpackPositionalArgs(name, args, kwargs, 2, &item, &replica); err != nil {
			return nil, err
		}
		if item != r.item {
			return nil, fmt.Errorf("%s: the first argument is %s, want item", name, item.Type())
		}
		if replica != r.replica {
			return nil, fmt.Errorf("%s: the second argument is %s, want replica (not previous)", name, replica.Type())
		}
		if r.kind == KindOutgoing {
			all, err := r.item.Attr(what)
			if err != nil {
				return nil, err
			}
			return starlark.None, r.replica.SetField(what, all)
		}
		if what == "comments" {
			r.comments = true
		} else {
			r.attached = true
		}
		return starlark.None, nil
	}
}

// userByEmail is user_by_email(email): this side's user with that e-mail,
// or None (and a note) when there is none.
func userByEmail(r *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs("user_by_email", args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	email := ""
	switch v := v.(type) {
	case starlark.String:
		email = string(v)
	case starlark.NoneType:
	default:
		return nil, fmt.Errorf("user_by_email: got %s, want an e-mail (str)", v.Type())
	}
	if email == "" {
		return starlark.None, nil
	}
	if r.env.UserByEmail == nil {
		return nil, fmt.Errorf("user_by_email: this tracker's users can't be looked up here")
	}
	u, err := r.env.UserByEmail(r.ctx, email)
	if err != nil {
		return nil, fmt.Errorf("user_by_email(%q): %w", email, err)
	}
	if u == nil {
		r.notes = append(r.notes, fmt.Sprintf("no user here has the e-mail %q", email))
		return starlark.None, nil
	}
	return newUser(*u), nil
}

// mapValue is map_value(value, mapping, default=value): the mapping's
// value for value; for one it lacks, default, or value itself when no
// default is given.
func mapValue(_ *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v, m, def starlark.Value
	if err := starlark.UnpackArgs("map_value", args, kwargs, "value", &v, "mapping", &m, "default?", &def); err != nil {
		return nil, err
	}
	mapping, ok := m.(starlark.Mapping)
	if !ok {
		return nil, fmt.Errorf("map_value: the mapping is %s, want a dict", m.Type())
	}
	got, found, err := mapping.Get(v)
	if err != nil {
		return nil, fmt.Errorf("map_value: %w", err)
	}
	switch {
	case found:
		return got, nil
	case def != nil:
		return def, nil
	}
	return v, nil
}

// richTextOf is rich_text(html): rich text written as a script builds it,
// checked as every tracker write is.
func richTextOf(_ *run, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var html string
	if err := starlark.UnpackPositionalArgs("rich_text", args, kwargs, 1, &html); err != nil {
		return nil, err
	}
	if html == "" {
		return richText{}, nil
	}
	if err := richtext.Validate(html); err != nil {
		return nil, fmt.Errorf("rich_text: %w", err)
	}
	return richText{html}, nil
}
