package engine_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/tandem-sync/tandem/connectors/jira"
	"github.com/tandem-sync/tandem/connectors/jira/jiratest"
	jirasandbox "github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/internal/trackers"
)

// startKindNode starts a node of tracker kind k named name: the kind's
// sandbox (Kind.Sandbox, demo seed, its workspace or site named after the
// node) on a loopback listener, and the node on the tracker the sandbox
// built. Nothing here knows a kind: a kind added to trackers.All (or a
// test's own kind, see fakekind_test.go) starts the same way. opts run
// first: they may shape the sandbox (sandboxOptions, trackerClient).
func startKindNode(t *testing.T, k trackers.Kind, name string, clk *clock, opts ...func(*testNode)) *testNode {
	t.Helper()
	n := &testNode{dir: t.TempDir(), clock: clk, kind: &k}
	for _, o := range opts {
		o(n)
	}
	srv := httptest.NewUnstartedServer(nil)
	sb, err := k.Sandbox(srv.Listener.Addr().String(), trackers.SandboxSpec{Name: name, Seed: "demo",
		RequestsPerMinute: -1, HTTPClient: n.trackerClient, Options: n.sandboxOptions})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sb.Tracker.(engine.EntityTracker); !ok {
		t.Fatalf("%s's sandbox tracker cannot sync entities", k.Name())
	}
	h := n.sbAnswers.wrap(sb.Handler)
	if check := contractCheck(t, k.Name()); check != nil {
		h = check(h)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	n.kindSB = sb
	return n.begin(t, name, nil)
}

// contractCheck wraps a kind's sandbox so that every request the node
// makes, and every answer, is checked against the vendor's OpenAPI
// document, for the kinds whose document the repository holds (Jira's,
// in connectors/jira/jiratest). It only adds checks: a kind without a
// document starts and runs the pair tests the same, unchecked.
func contractCheck(t *testing.T, kind string) func(http.Handler) http.Handler {
	checks := map[string]func(http.Handler) http.Handler{
		"jira": func(h http.Handler) http.Handler { return jiratest.NewValidator(t).Wrap(h) },
	}
	return checks[kind]
}

// kindVocabularies are the words of every kind the node may meet: the
// list's, and a test kind's own when the node is of one.
func (n *testNode) kindVocabularies() []tracker.Vocabulary {
	vs := trackers.Vocabularies()
	if n.kind != nil && !slices.ContainsFunc(vs, func(v tracker.Vocabulary) bool { return v.Kind == n.kind.Name() }) {
		vs = append(vs, n.kind.Vocabulary)
	}
	return vs
}

// jiraOf is a Jira node's emulator and tracker, for the tests of what
// only Jira does (search lag, faults on its emulator).
func jiraOf(t *testing.T, n *testNode) (*jirasandbox.Sandbox, *jira.Tracker) {
	t.Helper()
	if n.kindSB == nil {
		t.Fatal("not a node started from a tracker kind")
	}
	sb, ok1 := n.kindSB.Emulator.(*jirasandbox.Sandbox)
	tr, ok2 := n.kindSB.Tracker.(*jira.Tracker)
	if !ok1 || !ok2 {
		t.Fatalf("not a Jira node: %T, %T", n.kindSB.Emulator, n.kindSB.Tracker)
	}
	return sb, tr
}

// pairOf is Asana's pair with the kind named name, for the tests of
// what only that kind does (Jira's types, its search lag, its faults).
func pairOf(t *testing.T, name string) trackerPair {
	t.Helper()
	k, ok := trackers.Find(name)
	if !ok {
		t.Fatalf("no %s kind in trackers.All", name)
	}
	return pairWith(k)
}
