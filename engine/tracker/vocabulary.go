package tracker

import "strings"

// Vocabulary is how a tracker's users name things, as data: the console
// words its screens with it and the engine matches type names with it, so
// neither switches on a tracker's name. Each tracker kind has one (the
// list in internal/trackers); a node carries its own in its Instance, so
// the console (in process or over the admin API) gets it without linking
// any connector.
type Vocabulary struct {
	// Kind is the tracker's name, as Tracker.Kind says it ("asana").
	Kind string `json:"kind"`
	// Title is the tracker's name in a sentence ("Asana", "Jira").
	Title string `json:"title"`
	// Item and Items name one item and several ("task", "tasks").
	Item  string `json:"item"`
	Items string `json:"items"`
	// RefHint says what a reference to an item looks like, without an
	// example ("a task id or link", "an issue key or link"): Hint adds
	// one of an item that exists.
	RefHint string `json:"ref_hint"`
	// Elsewhere says where an item a node can't find may be, other than
	// deleted, in the tracker's words ("in another workspace" on Asana,
	// "on another site" on Jira).
	Elsewhere string `json:"elsewhere,omitempty"`
	// DefaultType is the type a new item gets when none is asked for
	// ("default_task" on Asana, "Task" on Jira).
	DefaultType string `json:"default_type"`
	// TypeAliases maps a type name of this tracker (lower case) to the
	// neutral name of the same type on every tracker ("default_task" →
	// "task"): Asana's default task is a Task elsewhere.
	TypeAliases map[string]string `json:"type_aliases,omitempty"`
}

// Hint is RefHint with an example: example is a reference to an item
// that exists, in the project at hand (the key of one of its recent
// items: "an issue key or link (such as OPS-3)"). Without one ("") there
// is no example, rather than one of another project or an item that may
// not exist.
func (v Vocabulary) Hint(example string) string {
	if example == "" {
		return v.RefHint
	}
	return v.RefHint + " (such as " + example + ")"
}

// TypeNames compares type names across trackers: names compare without
// case ("milestone" on Asana is a "Milestone" on Jira) and after the
// aliases of every vocabulary given (Asana's default_task is a Task). A
// type name is data, so a node matches its peer's names with the peer's
// kind's aliases as well as its own.
type TypeNames map[string]string

// NewTypeNames gathers the type aliases of vocabularies.
func NewTypeNames(vocabularies ...Vocabulary) TypeNames {
	names := TypeNames{}
	for _, v := range vocabularies {
		for from, to := range v.TypeAliases {
			names[strings.ToLower(strings.TrimSpace(from))] = strings.ToLower(strings.TrimSpace(to))
		}
	}
	return names
}

// Same says whether a and b name the same type; "" names none.
func (t TypeNames) Same(a, b string) bool {
	return a != "" && t.canon(a) == t.canon(b)
}

func (t TypeNames) canon(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if to, ok := t[s]; ok {
		return to
	}
	return s
}
