package sandbox

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// fieldNode is one step of an opt_fields path tree. "memberships" sets self
// on the memberships node; "memberships.project.name" adds children without
// setting self.
type fieldNode struct {
	self bool
	sub  map[string]*fieldNode
}

// parseFields turns opt_fields values ("a,b.c") into a tree; nil when no
// field was named, which means "the default shape".
func parseFields(values []string) map[string]*fieldNode {
	var root map[string]*fieldNode
	for _, v := range values {
		for _, path := range strings.Split(v, ",") {
			path = strings.TrimSpace(path)
			if path == "" {
				continue
			}
			if root == nil {
				root = map[string]*fieldNode{}
			}
			level := root
			parts := strings.Split(path, ".")
			for i, p := range parts {
				n := level[p]
				if n == nil {
					n = &fieldNode{}
					level[p] = n
				}
				if i == len(parts)-1 {
					n.self = true
					break
				}
				if n.sub == nil {
					n.sub = map[string]*fieldNode{}
				}
				level = n.sub
			}
		}
	}
	return root
}

// omit is returned by a field getter when a conditional field does not apply
// to this object (approval_status on a default task, say): Asana leaves such
// fields out rather than sending null.
type omitted struct{}

func isOmitted(v any) bool { _, ok := v.(omitted); return ok }

type getter func(rc *renderCtx, obj any) any

// fieldDef describes one field of a kind. kind is set when the value is an
// object (or a list of objects) that can be expanded with dotted paths.
type fieldDef struct {
	get  getter
	kind *kind
}

// kind is the field catalogue of one resource type: what the compact and
// the default full shapes contain, and every field opt_fields may name.
type kind struct {
	typ     string           // resource_type; "" for plain objects such as memberships
	typeOf  func(any) string // resource_type when it varies by object (event resources)
	gid     func(any) string // nil for objects without a gid
	compact []string
	full    []string
	order   []string
	fields  map[string]fieldDef
	// lenient kinds stand for nested objects the sandbox never fills (custom
	// fields, status updates...): any sub-path is accepted and the value is
	// always null or an empty list.
	lenient bool
}

func newKind(typ string, gid func(any) string) *kind {
	return &kind{typ: typ, gid: gid, fields: map[string]fieldDef{}}
}

func (k *kind) resourceType(obj any) string {
	if k.typeOf != nil {
		return k.typeOf(obj)
	}
	return k.typ
}

func (k *kind) add(name string, sub *kind, get getter) {
	if _, dup := k.fields[name]; !dup {
		k.order = append(k.order, name)
	}
	k.fields[name] = fieldDef{get: get, kind: sub}
}

// check validates a requested tree against the kind, naming the first
// unknown path in Asana's style.
func (k *kind) check(sel map[string]*fieldNode, prefix string) *apiError {
	if k == nil || k.lenient {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(sel)) {
		n := sel[name]
		path := prefix + name
		if (name == "gid" || name == "resource_type") && k.gid != nil {
			if len(n.sub) > 0 {
				return unknownField(path + "." + firstKey(n.sub))
			}
			continue
		}
		def, ok := k.fields[name]
		if !ok {
			return unknownField(path)
		}
		if len(n.sub) > 0 {
			if def.kind == nil {
				return unknownField(path + "." + firstKey(n.sub))
			}
			if err := def.kind.check(n.sub, path+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

func unknownField(path string) *apiError {
	return badRequest("opt_fields: Unknown field: %s", path)
}

func firstKey(m map[string]*fieldNode) string { return slices.Sorted(maps.Keys(m))[0] }

// renderCtx carries what rendering needs beyond the object: the store (read
// locked by the caller), the base URL of the request for links, and the
// sandbox for signing download URLs.
type renderCtx struct {
	s    *Sandbox
	st   *store
	base string // scheme://host of the incoming request
	now  time.Time
}

// render builds the JSON object for obj. sel nil means the default shape
// (defaults); otherwise gid plus exactly the named fields, as Asana does.
func (rc *renderCtx) render(k *kind, obj any, sel map[string]*fieldNode, defaults []string) *object {
	o := &object{}
	if k.gid != nil {
		o.Set("gid", k.gid(obj))
	}
	if sel == nil {
		for _, name := range defaults {
			rc.put(o, k, obj, name, nil)
		}
		return o
	}
	if _, ok := sel["resource_type"]; ok && k.gid != nil {
		o.Set("resource_type", k.resourceType(obj))
	}
	for _, name := range k.order {
		if n, ok := sel[name]; ok {
			rc.put(o, k, obj, name, n)
		}
	}
	return o
}

func (rc *renderCtx) put(o *object, k *kind, obj any, name string, n *fieldNode) {
	if name == "resource_type" && k.gid != nil {
		o.Set(name, k.resourceType(obj))
		return
	}
	def, ok := k.fields[name]
	if !ok {
		return
	}
	v := def.get(rc, obj)
	if isOmitted(v) {
		return
	}
	o.Set(name, rc.value(def.kind, v, n))
}

// value renders a field value: times in Asana's format, objects expanded in
// their compact shape unless sub-fields were named.
func (rc *renderCtx) value(k *kind, v any, n *fieldNode) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		if x.IsZero() {
			return nil
		}
		return x.UTC().Format(tsLayout)
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			out = append(out, rc.value(k, e, n))
		}
		return out
	}
	if k == nil || k.lenient {
		return v
	}
	return rc.render(k, v, nestedSel(k, n), k.compact)
}

// nestedSel is the selection for an expanded object: nil (compact) when the
// field was named alone, the named children otherwise, and both together
// when the field was named alone and with children.
func nestedSel(k *kind, n *fieldNode) map[string]*fieldNode {
	if n == nil || len(n.sub) == 0 {
		return nil
	}
	if !n.self {
		return n.sub
	}
	m := maps.Clone(n.sub)
	for _, c := range k.compact {
		if _, ok := m[c]; !ok {
			m[c] = &fieldNode{self: true}
		}
	}
	return m
}

// list converts a typed slice to []any for rendering.
func list[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// stub returns a lenient kind for nested objects the sandbox never fills.
func stub() *kind { return &kind{lenient: true} }

// nothing returns a getter for a field that is always null.
func nothing(*renderCtx, any) any { return nil }

// empty returns a getter for a field that is always an empty list.
func empty(*renderCtx, any) any { return []any{} }

// always returns a getter for a constant.
func always(v any) getter { return func(*renderCtx, any) any { return v } }

func omitAlways(*renderCtx, any) any { return omitted{} }
