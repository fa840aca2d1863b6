package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine"
)

// Tests of the newcomer traps of issue 14 that live in the console, one
// per trap, each written to fail on the console before the fix.

// TestEmptyFilterSaysSo checks that enter on a filter that matches nothing
// says why nothing happened (trap 16), on the project screens and on
// the accept screen.
func TestEmptyFilterSaysSo(t *testing.T) {
	f := &fakeNode{projects: []engine.Project{company, test}}
	t.Run("project screen", func(t *testing.T) {
		s := start(t, sized(newProjectScreen(testCommon(t, f), draft{to: "http://globex.test", dest: globex, mode: engine.ModeBasic}, sideThis)))
		s, msgs := typeKeys(t, s, "zzz<enter>")
		if len(msgs) != 0 {
			t.Fatalf("enter on nothing opened %v", msgs)
		}
		if v := plain(s.View()); !strings.Contains(v, "No project matches \"zzz\"") {
			t.Errorf("enter on an empty filter says nothing:\n%s", v)
		}
	})
	t.Run("accept screen", func(t *testing.T) {
		s := acceptPreview(t, f)
		s, _ = typeKeys(t, s, "zzz<enter>")
		if v := plain(s.View()); !strings.Contains(v, "No project matches \"zzz\"") {
			t.Errorf("enter on an empty filter says nothing:\n%s", v)
		}
	})
}

// acceptPreview is the accept screen showing a valid invitation.
func acceptPreview(t *testing.T, f *fakeNode) screen {
	t.Helper()
	f.preview = func(string) (engine.InvitationPreview, error) {
		return engine.InvitationPreview{Initiator: engine.Instance{Name: "Acme", URL: "http://acme.test", Tracker: "asana"},
			ProjectName: "Company", Mode: engine.ModeBasic, Expires: testNow.Add(71 * time.Hour)}, nil
	}
	s := sized(newAcceptScreen(testCommon(t, f)))
	s, _ = run(t, s, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(testCode), Paste: true})
	s, _ = typeKeys(t, s, "<enter>")
	if !strings.Contains(plain(s.View()), "Invited by Acme") {
		t.Fatalf("no preview:\n%s", plain(s.View()))
	}
	return s
}

// TestBasicModeParagraph checks the seed's paragraph on choosing the
// project for incoming sync in Basic mode (item 5): what Basic syncs, that
// types are mirrored and an unknown one becomes a task, and that its rules
// can't be edited.
func TestBasicModeParagraph(t *testing.T) {
	f := &fakeNode{projects: []engine.Project{company, test}}
	d := draft{to: "http://globex.test", dest: globex, mode: engine.ModeBasic}
	for name, s := range map[string]screen{
		"accept":  acceptPreview(t, f),
		"this":    start(t, sized(newProjectScreen(testCommon(t, f), d, sideThis))),
		"dest":    sized(newDestProjectScreen(testCommon(t, f), d, []engine.Project{company, test})),
		"on a 60": start(t, func() screen { s := newProjectScreen(testCommon(t, f), d, sideThis); s.SetSize(58, 14); return s }()),
	} {
		v := strings.Join(strings.Fields(plain(s.View())), " ")
		for _, want := range []string{"Basic mode syncs", "summary, description, comments and attachments", "Types are mirrored", "becomes a task", "can't be edited"} {
			if !strings.Contains(v, want) {
				t.Errorf("%s: %q is missing:\n%s", name, want, plain(s.View()))
			}
		}
		if !strings.Contains(v, "› ") {
			t.Errorf("%s: the paragraph pushed the list off:\n%s", name, plain(s.View()))
		}
	}
}
