package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/tandem-sync/tandem/engine"
)

// Script drafts of the table tests: one mapping status, one that does not
// compile (line 3 of incoming.star).
const (
	statusOut = `def outgoing(item, replica):
    replica.type = item.type
    replica.summary = item.summary
    # "Done" on the other side
    replica.status = map_value(item.completed, {True: "Done", False: "To Do"})
    merge_comments(item, replica)
`
	brokenIn = `def incoming(item, replica, previous, first_sync):
    if replica.changed("summary"):
        item.summary = = replica.summary
`
)

// scriptNode is connectionNode with its connection in Script mode: Basic's
// scripts in force, and a draft of out and in ("" for Basic's).
func scriptNode(out, in string) *fakeNode {
	f := connectionNode()
	f.withScripts("c1", out, in)
	return f
}

// requireFrame checks a view fits the router's 78 columns and h lines,
// and matches its golden file.
func requireFrame(t *testing.T, view string, h int) {
	t.Helper()
	view = plain(view)
	if got := lipgloss.Height(view); got > h {
		t.Errorf("view is %d lines, more than %d:\n%s", got, h, view)
	}
	for _, line := range strings.Split(view, "\n") {
		if w := lipgloss.Width(line); w > 78 {
			t.Errorf("line is %d cells, more than 78: %q", w, line)
		}
	}
	golden.RequireEqual(t, []byte(view))
}

// TestUpgradeFromTheRulesTab: u on a Basic connection's Rules tab asks
// first, saying what the upgrade does; n changes nothing; y upgrades and
// the tab shows the scripts.
func TestUpgradeFromTheRulesTab(t *testing.T) {
	f := connectionNode()
	s, _ := press(t, openConnection(t, f), "<right>u")
	v := strings.Join(strings.Fields(plain(s.View())), " ")
	for _, want := range []string{"Upgrade Acme_to_Globex to Script mode on this side?", "scripts equal to the Basic rules",
		"It can't be undone, and the other side is not changed. y/n"} {
		if !strings.Contains(v, want) {
			t.Errorf("the question lacks %q:\n%s", want, v)
		}
	}
	t.Run("golden", func(t *testing.T) { requireFrame(t, s.View(), 17) })
	s, _ = press(t, s, "n")
	if countCalls(f.called(), "Upgrade") != 0 || strings.Contains(plain(s.View()), "Upgrade Acme") {
		t.Fatalf("n should change nothing: %v", f.called())
	}
	s, _ = press(t, s, "uy")
	if countCalls(f.called(), "Upgrade c1") != 1 {
		t.Fatalf("y should upgrade: %v", f.called())
	}
	v = plain(s.View())
	for _, want := range []string{"Script mode · version 1 in force", "── outgoing.star · version 1", "✓ Upgraded: version 1"} {
		if !strings.Contains(v, want) {
			t.Errorf("after the upgrade the tab lacks %q:\n%s", want, v)
		}
	}
	if s.conn.Mode != engine.ModeScript {
		t.Errorf("the page's connection is in %s mode", s.conn.Mode)
	}
}

// TestScriptRulesGolden pins the Script mode Rules tab: the draft as
// published, a draft that differs, and one with an error marked at its
// line.
func TestScriptRulesGolden(t *testing.T) {
	for _, tc := range []struct{ name, out, in, want string }{
		{"same", "", "", "the draft is the same"},
		{"differs", statusOut, "", "the draft differs (c compares, p publishes)"},
		{"errors", "", brokenIn, "✗ incoming.star:3  got '=', want primary expression"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := press(t, openConnection(t, scriptNode(tc.out, tc.in)), "<right>")
			if tc.name == "errors" {
				s, _ = press(t, s, strings.Repeat("<down>", 12))
			}
			if v := plain(s.View()); !strings.Contains(v, tc.want) {
				t.Errorf("the tab lacks %q:\n%s", tc.want, v)
			}
			requireFrame(t, s.View(), 17)
		})
	}
}

// TestScriptRulesKeys: each key of the Script mode Rules tab does its one
// thing, and only there.
func TestScriptRulesKeys(t *testing.T) {
	for _, tc := range []struct {
		keys string
		want any // the screen pushed, nil for none
	}{
		{"t", &testRunScreen{}},
		{"p", &publishScreen{}},
		{"c", &compareScreen{}},
		{"+", &mappingScreen{}},
		{"x", nil},
		{"<down>", nil},
	} {
		t.Run(tc.keys, func(t *testing.T) {
			f := scriptNode(statusOut, "")
			s, _ := press(t, openConnection(t, f), "<right>")
			s, msgs := press(t, s, tc.keys)
			var got any
			for _, m := range msgs {
				if p, ok := m.(pushMsg); ok {
					got = p.s
				}
			}
			if tc.want == nil {
				if got != nil {
					t.Fatalf("%s pushed %T", tc.keys, got)
				}
			} else if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", tc.want) {
				t.Fatalf("%s pushed %T, want %T", tc.keys, got, tc.want)
			}
			if slices.Contains(f.called(), "Delete c1") || s.confirm != confirmNone {
				t.Errorf("%s asked or did something of the page's: %v", tc.keys, f.called())
			}
			switch tc.keys {
			case "x":
				dir := filepath.Join(s.c.codeDir, "rules-Acme_to_Globex")
				for _, name := range []string{"outgoing.star", "incoming.star", "draft/outgoing.star", "draft/incoming.star"} {
					if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
						t.Errorf("the export lacks %s: %v", name, err)
					}
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "draft", "outgoing.star")); string(b) != statusOut {
					t.Errorf("the exported draft is %q", b)
				}
				if v := plain(s.View()); !strings.Contains(v, "✓ Exported to "+dir) {
					t.Errorf("the export is not said:\n%s", v)
				}
			case "<down>":
				if s.script.vp.YOffset != 1 {
					t.Errorf("↓ scrolled to %d, want 1", s.script.vp.YOffset)
				}
			}
		})
	}
}

// TestEditTheDraft: e opens both scripts of the draft in $EDITOR (here a
// small sh script writing a known draft), saves what it leaves and shows
// the draft's errors by line; an editor that changes nothing saves
// nothing.
func TestEditTheDraft(t *testing.T) {
	f := scriptNode("", "")
	s, _ := press(t, openConnection(t, f), "<right>")
	editor := writeEditor(t, "def outgoing(item, replica):\n    replica.summary = item.summary\n", brokenIn)
	t.Setenv("EDITOR", editor)
	s = editWith(t, s)
	if countCalls(f.called(), "SaveDraft c1") != 1 {
		t.Fatalf("the draft was not saved: %v", f.called())
	}
	if got := f.scripts["c1"].draftIn; got != brokenIn {
		t.Errorf("the draft saved is %q", got)
	}
	v := plain(s.View())
	for _, want := range []string{"Draft saved, with 1 error to fix", "✗ incoming.star:3", "the draft has 1 error"} {
		if !strings.Contains(v, want) {
			t.Errorf("after editing the tab lacks %q:\n%s", want, v)
		}
	}

	t.Setenv("EDITOR", "true")
	s = editWith(t, s)
	if n := countCalls(f.called(), "SaveDraft"); n != 1 {
		t.Errorf("an editor that changed nothing saved the draft (%d saves)", n)
	}
	if v := plain(s.View()); !strings.Contains(v, "No change: the draft is as it was.") {
		t.Errorf("the tab should say nothing changed:\n%s", v)
	}

	t.Setenv("EDITOR", "false")
	s = editWith(t, s)
	if v := plain(s.View()); !strings.Contains(v, "✗ The editor (false) failed") {
		t.Errorf("a failing editor should be said:\n%s", v)
	}
}

// writeEditor writes an editor (sh) that replaces its two files with out
// and in.
func writeEditor(t *testing.T, out, in string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"out.star": out, "in.star": in} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "editor.sh")
	script := "#!/bin/sh\ncp '" + filepath.Join(dir, "out.star") + "' \"$1\" && cp '" + filepath.Join(dir, "in.star") + "' \"$2\"\n"
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// editWith presses e and does what the router does with the editor:
// runs it, then hands its end back to the page.
func editWith(t *testing.T, s *connectionScreen) *connectionScreen {
	t.Helper()
	sc, cmd := s.Update(keys("e")[0])
	var proc *runProcessMsg
	for _, m := range exec(cmd) {
		if p, ok := m.(runProcessMsg); ok {
			proc = &p
		}
	}
	if proc == nil {
		t.Fatal("e did not ask to run the editor")
	}
	for _, name := range []string{outgoingFile, incomingFile} {
		if !slices.ContainsFunc(proc.cmd.Args, func(a string) bool { return strings.HasSuffix(a, "/"+name) }) {
			t.Errorf("the editor is not given %s: %v", name, proc.cmd.Args)
		}
	}
	sc, out := run(t, sc, proc.done(proc.cmd.Run()))
	if len(out) > 0 {
		t.Errorf("editing moved the router: %v", out)
	}
	return sc.(*connectionScreen)
}

// TestScriptFrames pins the whole console at 80×24 on each Script mode
// screen, help line and status bar included.
func TestScriptFrames(t *testing.T) {
	for _, tc := range []struct {
		name, keys string
		script     bool
	}{
		{"upgrade", "<enter><right>u", false},
		{"rules", "<enter><right>", true},
		{"rules-help", "<enter><right>?", true},
		{"compare", "<enter><right>c", true},
		{"publish", "<enter><right>p", true},
		{"test-run", "<enter><right>t", true},
		{"test-result", "<enter><right>t<enter>", true},
		{"mapping", "<enter><right>+<right><tab><tab><tab>true=Done, false=To Do", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := connectionNode()
			if tc.script {
				f = scriptNode(statusOut, "")
			}
			f.info = engine.Instance{Name: "Acme", URL: "http://acme.test", Tracker: "asana"}
			f.items = []engine.Item{{ID: "t1", Key: "1201", Summary: "Launch webinar"}, {ID: "t2", Key: "1202", Summary: "Print flyers"}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a := New(ctx, Options{Renderer: plainRenderer(), Now: func() time.Time { return testNow }, CodeDir: t.TempDir(),
				Targets: []Target{{Name: "Acme", URL: "http://acme.test", Node: f}}})
			for _, s := range a.sessions {
				s.common.staticCursor = true
				s.common.tick = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
			}
			appSend(a, tea.WindowSizeMsg{Width: 80, Height: 24})
			for _, m := range execNoSubscribe(a.Init()) {
				appSend(a, m)
			}
			appKeys(a, tc.keys)
			v := plain(a.View())
			if h := strings.Count(v, "\n") + 1; h != 24 {
				t.Errorf("the frame is %d lines high, want 24:\n%s", h, v)
			}
			for _, line := range strings.Split(v, "\n") {
				if w := lipgloss.Width(line); w > 80 {
					t.Errorf("a line is %d wide: %q", w, line)
				}
			}
			if strings.Contains(v, "make the terminal taller") {
				t.Errorf("the screen does not fit 80×24:\n%s", v)
			}
			golden.RequireEqual(t, []byte(v+"\n"))
		})
	}
}
