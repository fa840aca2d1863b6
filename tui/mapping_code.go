package tui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// What "+ Add mapping" writes: a field of this side mapped to a field of
// the other side, one way, its values translated by a map, as Starlark
// added to the end of the draft's outgoing or incoming function.

// mappingFields are the fields a mapping can name: those of an item that
// hold one value (SCRIPTING.md's model), in the order the form offers
// them.
func mappingFields() []string {
	return []string{"status", "completed", "section", "priority", "due_date", "type", "summary"}
}

// mapping is what the form says.
type mapping struct {
	// here is this side's field, there the other side's.
	here, there string
	// incoming maps the other side's field onto this side's; false, this
	// side's onto the other's (the outgoing script).
	incoming bool
	// pairs are the value map, in the order typed; def is the value for
	// any other ("*=…"), "" for none.
	pairs []valuePair
	def   string
}

type valuePair struct{ from, to string }

// from and to are the fields the mapping reads and writes.
func (m mapping) from() string {
	if m.incoming {
		return m.there
	}
	return m.here
}

func (m mapping) to() string {
	if m.incoming {
		return m.here
	}
	return m.there
}

// parseValueMap reads a value map as typed: pairs separated by commas or
// semicolons, each "from=to" or "from → to" ("completed=true → Done"
// names the field too), and "*=to" for every other value. It checks the
// values against the fields: completed is true or false, and a map onto
// completed needs a value for the rest.
func parseValueMap(m *mapping, text string) error {
	m.pairs, m.def = nil, ""
	seen := map[string]bool{}
	for _, raw := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		from, to, ok := cutArrow(raw)
		if ok {
			// "completed=true → Done": the field named before its value.
			if f, v, named := strings.Cut(from, "="); named && strings.TrimSpace(f) == m.from() {
				from = v
			}
		} else if from, to, ok = strings.Cut(raw, "="); !ok {
			return fmt.Errorf("%q: write each pair as from=to (true=Done), separated by commas", raw)
		}
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if from == "" || to == "" {
			return fmt.Errorf("%q: a pair needs a value on each side of the =", raw)
		}
		if m.to() == "completed" {
			b, err := boolValue(to)
			if err != nil {
				return fmt.Errorf("%q: completed is true or false, not %q", raw, to)
			}
			to = b
		}
		if from == "*" {
			m.def = to
			continue
		}
		if m.from() == "completed" {
			b, err := boolValue(from)
			if err != nil {
				return fmt.Errorf("%q: completed is true or false, not %q", raw, from)
			}
			from = b
		}
		if seen[from] {
			return fmt.Errorf("%q: %s is mapped twice", raw, from)
		}
		seen[from] = true
		m.pairs = append(m.pairs, valuePair{from, to})
	}
	switch {
	case m.from() == "completed" && m.to() != "completed" && len(m.pairs) == 0 && m.def == "":
		return fmt.Errorf("completed is true or false: map it to %s's values (true=Done, false=To Do)", m.to())
	case m.to() == "completed" && m.from() != "completed" && m.def == "":
		return fmt.Errorf("completed takes true or false: map %s's values to them, and the rest with *=false", m.from())
	}
	return nil
}

// cutArrow splits "a → b" or "a -> b".
func cutArrow(s string) (before, after string, found bool) {
	for _, arrow := range []string{"→", "->"} {
		if b, a, ok := strings.Cut(s, arrow); ok {
			return b, a, true
		}
	}
	return s, "", false
}

// boolValue reads true or false as Starlark writes them.
func boolValue(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes":
		return "True", nil
	case "false", "no":
		return "False", nil
	}
	return "", errors.New("not true or false")
}

// literal is a value in Starlark: True and False as they are, anything
// else a string.
func literal(v string) string {
	if v == "True" || v == "False" {
		return v
	}
	return strconv.Quote(v)
}

// code is the mapping as Starlark statements, indented as one level of a
// function's body would be by the caller.
func (m mapping) code() []string {
	src := "item." + m.from()
	if m.incoming {
		src = "replica." + m.from()
	}
	expr := src
	if len(m.pairs) > 0 || m.def != "" {
		var kv []string
		for _, p := range m.pairs {
			kv = append(kv, literal(p.from)+": "+literal(p.to))
		}
		expr = "map_value(" + src + ", {" + strings.Join(kv, ", ") + "}"
		if m.def != "" {
			expr += ", default = " + literal(m.def)
		}
		expr += ")"
	}
	what := fmt.Sprintf("# + Add mapping: this side's %s → the other side's %s", m.here, m.there)
	if m.incoming {
		what = fmt.Sprintf("# + Add mapping: the other side's %s → this side's %s", m.there, m.here)
		return []string{what, fmt.Sprintf("if replica.changed(%q):", m.from()), "    item." + m.to() + " = " + expr}
	}
	return []string{what, "replica." + m.to() + " = " + expr}
}

// function is the function of the draft the mapping goes into, and the
// script it is in.
func (m mapping) function() (fn, file string) {
	if m.incoming {
		return "incoming", incomingFile
	}
	return "outgoing", outgoingFile
}

// appendToFunction adds lines at the end of the body of the top-level
// function fn in src, indented as its body is.
func appendToFunction(src, fn string, add []string) (string, error) {
	lines := strings.Split(src, "\n")
	def := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "def "+fn+"(") {
			def = i
			break
		}
	}
	if def < 0 {
		return "", fmt.Errorf("the draft has no %s function to add the mapping to: define it (e edits the draft)", fn)
	}
	// The body starts after the line that closes the signature.
	start := def
	for start < len(lines) && !strings.HasSuffix(strings.TrimSpace(codeOf(lines[start])), ":") {
		start++
	}
	start++
	indent, end := "    ", len(lines)
	found := false
	for i := start; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" {
			continue
		}
		lead := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if lead == "" {
			end = i
			break
		}
		if !found && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			indent, found = lead, true
		}
	}
	// Before the blank lines that end the body.
	at := end
	for at > start && strings.TrimSpace(lines[at-1]) == "" {
		at--
	}
	ins := make([]string, 0, len(add))
	for _, a := range add {
		ins = append(ins, indent+strings.ReplaceAll(a, "    ", indentUnit(indent)))
	}
	out := append(append(append([]string{}, lines[:at]...), ins...), lines[at:]...)
	return strings.Join(out, "\n"), nil
}

// indentUnit is one level of the body's indent: a tab when it is tabs.
func indentUnit(indent string) string {
	if strings.HasPrefix(indent, "\t") {
		return "\t"
	}
	return "    "
}

// codeOf is a line without its comment (a # outside a string).
func codeOf(l string) string {
	var q byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case q != 0 && c == '\\':
			i++
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '"' || c == '\''):
			q = c
		case q == 0 && c == '#':
			return l[:i]
		}
	}
	return l
}
