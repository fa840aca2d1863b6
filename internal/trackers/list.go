// Package trackers lists the tracker kinds this build knows, once. Each
// Kind bundles what the rest of tandem needs to know of one tracker: its
// name and vocabulary (engine/tracker.Vocabulary), its node flags with
// their environment twins, the constructor from those flags to a
// tracker.Tracker, and its sandbox (for `tandem sandbox <kind>`, `tandem
// demo` and the tests). The command line, internal/demo and the engine's
// tests read the list; nothing else switches on a tracker's name, and the
// console gets a node's words from the node (engine.Instance.Vocabulary),
// so it links no connector.
//
// Adding a tracker is its connector package under connectors/, a file
// here with its Kind value (see asana.go, jira.go), and one line in All.
// TestKinds walks the list. The engine's pair tests (engine/pairs_test.go)
// pick the new kind up by themselves: they pair Asana with every kind of
// All, starting its node from Kind.Sandbox and syncing its
// SandboxProject. The smallest example of a kind is the engine tests'
// fake one (engine/fakekind_test.go): an in-memory tracker that runs every
// pair test from its own file.
package trackers

// All is every tracker kind, in the order help texts name them. A plain
// list on purpose: no init() registry, no reflection.
func All() []Kind {
	return []Kind{
		asanaKind(),
		jiraKind(),
	}
}
