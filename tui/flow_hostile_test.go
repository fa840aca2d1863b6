package tui

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/connectors/asana"
)

// TestFlowHostileTask is issue 12's report replayed on real nodes: a task
// named with OSC 52, CSI 2J and OSC 8 sequences in Acme's Asana, picked
// from the console's list and synced. Every byte the program wrote to the
// terminal is checked: the console's own drawing uses CSI sequences, so
// what must never appear is what the task name carried — an OSC, the
// clear-screen, the clipboard payload, an 8-bit control, a bidi control.
func TestFlowHostileTask(t *testing.T) {
	f := startFlow(t, nil)
	a := f.nodes[0]
	ctx := context.Background()
	ws, err := a.Client.Workspaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := a.Client.Projects(ctx, ws[0].GID)
	if err != nil {
		t.Fatal(err)
	}
	var company string
	for _, p := range ps {
		if p.Name == "Company" {
			company = p.GID
		}
	}
	task, err := a.Client.CreateTask(ctx, asana.NewTask{Project: company, Name: hostile})
	if err != nil {
		t.Fatal(err)
	}

	f.initiateToAccess(f.nodes[1].URL)
	f.send(tea.KeyEnter)
	f.waitFor("Verify access on Globex")
	f.typ(f.nodes[1].AdminToken)
	f.send(tea.KeyEnter)
	f.waitFor("Select a project for the incoming sync")
	f.typ("Test")
	f.send(tea.KeyEnter)
	f.waitFor("Confirm the connection")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Recent tasks:", hostileShown+"  "+task.GID)
	f.mark()
	f.send(tea.KeyDown, tea.KeyEnter)
	f.waitFor("Syncing "+hostileShown+" ("+task.GID+")", "✓ Synchronized")

	f.read()
	f.mu.Lock()
	raw := f.out.String()
	f.mu.Unlock()
	for _, bad := range []string{"\x1b]", "\x1b[2J", "\x1bP", "\x1b_", "cHduZWQ=", "http://evil", "\u202e", "\u009b"} {
		if i := strings.Index(raw, bad); i >= 0 {
			t.Errorf("%q reached the terminal: %q", bad, raw[max(i-40, 0):min(i+40, len(raw))])
		}
	}
	for _, r := range raw {
		if r >= 0x80 && r <= 0x9f {
			t.Fatalf("C1 control %U reached the terminal", r)
		}
	}
}
