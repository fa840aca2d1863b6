package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
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

// TestBulkAsksFirst checks that b asks before syncing a whole project and
// says how many items that is (trap 14).
func TestBulkAsksFirst(t *testing.T) {
	f := connectionNode()
	f.exalateAll = func(string) ([]adminapi.StageEvent, error) { return bulkEvents(), nil }
	for i := range 37 {
		f.items = append(f.items, engine.Item{ID: fmt.Sprint(i), Key: fmt.Sprint(i)})
	}
	s := openConnection(t, f)
	s, _ = press(t, s, "b")
	if n := countCalls(f.called(), "ExalateAll"); n != 0 {
		t.Fatalf("b started a Bulk Exalate without asking")
	}
	if v := plain(s.View()); !strings.Contains(strings.Join(strings.Fields(v), " "), "Sync all 37 tasks of Website to Globex? y/n") {
		t.Fatalf("b does not ask with the count:\n%s", v)
	}
	s, _ = press(t, s, "n")
	if n := countCalls(f.called(), "ExalateAll"); n != 0 || strings.Contains(plain(s.View()), "Sync all") {
		t.Fatalf("n should cancel (ExalateAll called %d times):\n%s", n, plain(s.View()))
	}
	s, _ = press(t, s, "by")
	if n := countCalls(f.called(), "ExalateAll c1"); n != 1 {
		t.Fatalf("y should start it, ExalateAll called %d times", n)
	}
	if !strings.Contains(plain(s.View()), "Bulk Exalate") {
		t.Errorf("no progress after y:\n%s", plain(s.View()))
	}
}

// TestExportOnlyWhereItWorks checks that e is offered on the Rules tab only,
// the one tab where it does something (trap 14).
func TestExportOnlyWhereItWorks(t *testing.T) {
	s := openConnection(t, connectionNode())
	for tab := range tabCount {
		s.tab = tab
		has := helpHas(s.ShortHelp(), "e")
		for _, row := range s.FullHelp() {
			has = has || helpHas(row, "e")
		}
		if has != (tab == tabRules) {
			t.Errorf("tab %s: e offered = %v", tab, has)
		}
	}
}

// TestQuitMidWizardAsks checks that q in the middle of setting up a
// connection asks before quitting, and that n stays (trap 14).
func TestQuitMidWizardAsks(t *testing.T) {
	a, _, _ := testApp(t)
	appKeys(a, "i")
	appKeys(a, "<ctrl+o><enter>")
	if got := a.sessions[0].top().Title(); got != "Configuration mode" {
		t.Fatalf("on %q, want the mode screen", got)
	}
	if appKeys(a, "q") {
		t.Fatal("q quit mid-wizard without asking")
	}
	if v := plain(a.View()); !strings.Contains(v, "Quit while setting up a connection?") {
		t.Fatalf("no question:\n%s", v)
	}
	if appKeys(a, "n") {
		t.Fatal("n quit")
	}
	if v := plain(a.View()); strings.Contains(v, "Quit while") || a.sessions[0].top().Title() != "Configuration mode" {
		t.Fatalf("n should close the question and stay:\n%s", v)
	}
	appKeys(a, "q")
	if !appKeys(a, "y") {
		t.Error("y should quit")
	}
	// Where nothing is being set up, q quits at once.
	a, _, _ = testApp(t)
	if !appKeys(a, "q") {
		t.Error("q on the connections list should quit")
	}
}
