package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// scriptText is a script with an escape sequence in a string.
const scriptText = "def outgoing(item, replica):\n\treplica.summary = \"\x1b]52;c;aGk=\x07x\"\n"

// hostileScriptNode answers Script mode with scripts, diffs and a test
// run that hold escape sequences across several lines.
type hostileScriptNode struct{ *fakeNode }

func (hostileScriptNode) Scripts(context.Context, string) (adminapi.Scripts, error) {
	return adminapi.Scripts{Outgoing: scriptText, Incoming: scriptText, DraftOutgoing: scriptText, DraftIncoming: scriptText,
		DraftErrors: []string{"incoming.star:2:1: \x1b[2J"}}, nil
}

func (hostileScriptNode) CompareScripts(context.Context, string, int, int) (adminapi.ScriptDiff, error) {
	return adminapi.ScriptDiff{Outgoing: "+" + scriptText, Incoming: "-" + scriptText}, nil
}

func (hostileScriptNode) TestRun(context.Context, string, adminapi.TestRunRequest) (adminapi.TestRun, error) {
	return adminapi.TestRun{Item: "KAN-1\x1b[2J", Replica: scriptText, Log: scriptText, Changes: []string{"summary → \x1b[2J"}}, nil
}

// TestCleanNodeKeepsScriptLines: scripts, diffs, a replica and a script's
// output lose their escape sequences but keep their lines and tabs; the
// one-line strings around them become one clean line.
func TestCleanNodeKeepsScriptLines(t *testing.T) {
	ctx := context.Background()
	n := cleanNode{hostileScriptNode{&fakeNode{}}}
	multi := func(what, s string) {
		t.Helper()
		if strings.ContainsRune(s, '\x1b') || strings.ContainsRune(s, '\a') {
			t.Errorf("%s keeps an escape sequence: %q", what, s)
		}
		if !strings.Contains(s, "replica):\n\treplica.summary") {
			t.Errorf("%s lost its lines or tabs: %q", what, s)
		}
	}
	sc, err := n.Scripts(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	multi("Outgoing", sc.Outgoing)
	multi("Incoming", sc.Incoming)
	multi("DraftOutgoing", sc.DraftOutgoing)
	multi("DraftIncoming", sc.DraftIncoming)
	if !termtext.Clean(sc.DraftErrors[0]) {
		t.Errorf("a draft error reaches the screen as %q", sc.DraftErrors[0])
	}
	d, err := n.CompareScripts(ctx, "c1", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	multi("diff", d.Outgoing)
	multi("diff", d.Incoming)
	run, err := n.TestRun(ctx, "c1", adminapi.TestRunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	multi("Replica", run.Replica)
	multi("Log", run.Log)
	if !termtext.Clean(run.Item) || !termtext.Clean(run.Changes[0]) {
		t.Errorf("a test run's one-line strings reach the screen as %q, %q", run.Item, run.Changes)
	}
}
