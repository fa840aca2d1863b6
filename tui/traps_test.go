package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"

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

// TestExportOnlyWhereItWorks checks that export (x) is offered on the
// Rules tab only, the one tab where it does something, and delete (x on
// the other tabs) never there (trap 14).
func TestExportOnlyWhereItWorks(t *testing.T) {
	s := openConnection(t, connectionNode())
	offers := func(desc string) bool {
		for _, row := range append(s.FullHelp(), s.ShortHelp()) {
			for _, k := range row {
				if k.Help().Desc == desc {
					return true
				}
			}
		}
		return false
	}
	for tab := range tabCount {
		s.tab = tab
		if has := offers("export all"); has != (tab == tabRules) {
			t.Errorf("tab %s: export offered = %v", tab, has)
		}
		if tab == tabRules && offers("delete") {
			t.Errorf("the Rules tab offers delete, whose key exports there")
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

// TestExalateFieldClearedForTheNext checks that the "sync one item" field
// is empty when the admin comes back to it from a sync, so typing the next
// key does not append to the last one ("KAN-2KAN-2", trap 16).
func TestExalateFieldClearedForTheNext(t *testing.T) {
	f := connectionNode()
	f.exalate = func(connID, ref string) (engine.StageEvent, error) {
		return engine.StageEvent{ConnectionID: connID, EventID: "e9", LocalKey: ref, Stage: engine.StageSending}, nil
	}
	c := testCommon(t, f)
	var s screen = newExalateScreen(c, testConnection())
	s = start(t, sized(s))
	s, msgs := typeKeys(t, s, "KAN-2<enter>")
	pushed(t, msgs)
	s, _ = run(t, s, revealMsg{})
	s, _ = typeKeys(t, s, "KAN-3<enter>")
	if n := countCalls(f.called(), "Exalate c1 KAN-3"); n != 1 {
		t.Errorf("the second sync was not of KAN-3: %v", f.called())
	}
	if n := countCalls(f.called(), "Exalate c1 KAN-2KAN-3"); n != 0 {
		t.Errorf("the field kept the last key: %v", f.called())
	}
}

// syncStatusNode answers EventStatus with an event at stage, Preparing
// onwards entered at testNow.
func syncStatusNode(stage string) (*fakeNode, adminapi.StageEvent) {
	ev := adminapi.StageEvent{ConnectionID: "c1", EventID: "e1", Direction: "out", EntityID: "101", LocalKey: "101",
		Stage: stage, At: testNow, LocalURL: "http://127.0.0.1:45079/0/1200000000000001/1200000000000101"}
	var entries []adminapi.StageEntry
	for _, st := range adminapi.Stages() {
		entries = append(entries, adminapi.StageEntry{Stage: st, At: testNow})
		if st == stage {
			break
		}
	}
	status := adminapi.EventStatus{StageEvent: ev, Stages: entries}
	return &fakeNode{eventStatus: func(string, string) (adminapi.EventStatus, error) { return status, nil }}, ev
}

// TestSyncStatusExplainsStages checks that ? on the sync status screen
// explains the five stages, as the seed's ⓘ per stage does (item 5), and
// that ? again closes it.
func TestSyncStatusExplainsStages(t *testing.T) {
	a, _, _ := testApp(t)
	f, ev := syncStatusNode(adminapi.StageSending)
	s := newSyncScreen(a.sessions[0].common, activeConn, ev)
	s.c.node = f
	appSend(a, sessionMsg{0, pushMsg{s}})
	if strings.Contains(plain(a.View()), "applies the outgoing rules") {
		t.Fatal("the stages are explained before ? is pressed")
	}
	appKeys(a, "?")
	v := strings.Join(strings.Fields(plain(a.View())), " ")
	for _, want := range []string{"Preparing:", "Sending:", "Waiting for remote:", "Finalizing:", "Synchronized:", "applies the outgoing rules"} {
		if !strings.Contains(v, want) {
			t.Errorf("? does not explain %q:\n%s", want, plain(a.View()))
		}
	}
	appKeys(a, "?")
	if strings.Contains(plain(a.View()), "applies the outgoing rules") {
		t.Error("? again should close the explanation")
	}
}

// TestFirstSyncCongratulates checks the seed's "Congratulations!" when the
// first sync after setting a connection up is done, and only then (item 5).
func TestFirstSyncCongratulates(t *testing.T) {
	for _, first := range []bool{true, false} {
		f, ev := syncStatusNode(adminapi.StageSynchronized)
		f.exalate = func(string, string) (engine.StageEvent, error) { return ev, nil }
		c := testCommon(t, f)
		var s screen = newSuccessScreen(c, activeConn)
		if !first {
			s = newExalateScreen(c, activeConn)
		}
		_, msgs := typeKeys(t, start(t, sized(s)), "101<enter>")
		sync := start(t, sized(pushed(t, msgs)))
		if got := strings.Contains(plain(sync.View()), "Congratulations!"); got != first {
			t.Errorf("first sync %v: congratulated %v:\n%s", first, got, plain(sync.View()))
		}
	}
}

// TestSyncStatusLayout checks the sync status at 60 columns: the spinner's
// row lines up with the ✓ rows, and a long link keeps its indent (trap 9).
func TestSyncStatusLayout(t *testing.T) {
	f, ev := syncStatusNode(adminapi.StageSending)
	c := testCommon(t, f)
	c.width = 58
	s := start(t, newSyncScreen(c, activeConn, ev))
	s.SetSize(58, 13)
	v := plain(s.View())
	col := func(name string) int {
		for l := range strings.Lines(v) {
			if i := strings.Index(l, name); i >= 0 {
				return lipgloss.Width(l[:i])
			}
		}
		return -1
	}
	if p, sd := col("Preparing"), col("Sending"); p != sd || p < 0 {
		t.Errorf("Preparing at column %d, Sending (spinner row) at %d:\n%s", p, sd, v)
	}
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		if lipgloss.Width(l) > 58 {
			t.Errorf("line %q is wider than 58", l)
		}
		if i > 0 && strings.Contains(lines[i-1], "http://") && !strings.HasPrefix(l, "        ") && strings.TrimSpace(l) != "" && !strings.Contains(l, "Side") {
			t.Errorf("the link's next line %q lost its indent:\n%s", l, v)
		}
	}
}

// footer is the help line of the app's view (the line above the status bar).
func footer(a *App) string {
	lines := strings.Split(plain(a.View()), "\n")
	return lines[len(lines)-2]
}

// TestShortHelpKeepsBackHelpQuit checks that the one-line help, when the
// screen's keys don't all fit, drops the screen's keys and never esc, ?,
// q or ctrl+c (trap 11), at 80 and 60 columns.
func TestShortHelpKeepsBackHelpQuit(t *testing.T) {
	for _, w := range []int{80, 60} {
		a, acme, _ := testApp(t)
		appSend(a, tea.WindowSizeMsg{Width: w, Height: 24})
		appKeys(a, "i")
		if f := footer(a); !strings.Contains(f, "esc back") || !strings.Contains(f, "ctrl+c quit") {
			t.Errorf("%d columns, URL screen: footer %q lacks esc back or ctrl+c quit", w, f)
		}
		appKeys(a, "<esc>")
		acme.connections = []adminapi.Connection{testConnection()}
		appKeys(a, "r<enter>")
		if got := a.sessions[0].top().Title(); got != "Connection" {
			t.Fatalf("on %q, want the connection page", got)
		}
		if f := footer(a); !strings.Contains(f, "esc back") || !strings.Contains(f, "? help") || !strings.Contains(f, "q quit") {
			t.Errorf("%d columns, connection page: footer %q lacks esc back, ? help or q quit", w, f)
		}
		for l := range strings.Lines(plain(a.View())) {
			if lw := lipgloss.Width(strings.TrimRight(l, "\n")); lw > w {
				t.Errorf("%d columns: line %q is %d wide", w, l, lw)
			}
		}
	}
}

// TestQuestionMarkInTextFields checks that ? is text in a focused field and
// opens the help only where no field has the focus (trap 11).
func TestQuestionMarkInTextFields(t *testing.T) {
	a, _, _ := testApp(t)
	appKeys(a, "i")
	appKeys(a, "?")
	if a.fullHelp || !strings.Contains(plain(a.View()), "> ?") {
		t.Errorf("? in the URL field should be typed, not open the help:\n%s", plain(a.View()))
	}
	appKeys(a, "<down>?")
	if !a.fullHelp {
		t.Error("? off the field should open the help")
	}
}

// TestConnectionsColumnsFit checks the connections table at 60, 80 and 160
// columns: columns sized to their content and the width, nothing wrapped
// or cut while there is room (trap 10).
func TestConnectionsColumnsFit(t *testing.T) {
	ops := activeConn
	ops.ID, ops.Name, ops.RemoteProjectName = "c3", "Acme_to_Globex_ops", "Operations"
	f := &fakeNode{connections: []engine.Connection{activeConn, ops}}
	for _, w := range []int{58, 78, 158} {
		s := newConnectionsScreen(testCommon(t, f))
		s.SetSize(w, 10)
		v := plain(start(t, s).View())
		lines := strings.Split(v, "\n")
		for _, l := range lines {
			if lipgloss.Width(l) > w {
				t.Errorf("width %d: line %q is %d wide", w, l, lipgloss.Width(l))
			}
		}
		if !strings.Contains(lines[0], "Last sync") {
			t.Errorf("width %d: the header is cut: %q", w, lines[0])
		}
		if w >= 78 && !strings.Contains(v, "Globex / Operations") {
			t.Errorf("width %d: the other side is cut though there is room:\n%s", w, v)
		}
		// The Name column is as wide as its longest name, not the rest
		// of the screen.
		if i := strings.Index(lines[0], "Other side"); w == 158 && i > len("  Acme_to_Globex_ops")+3 {
			t.Errorf("width %d: the Name column is %d wide:\n%s", w, i, v)
		}
	}
}

// TestNarrowScreens checks two screens in a 60×20 terminal: the mode
// screen's explanations keep their hanging indent when they wrap, and the
// invitation screen keeps its title on screen (trap 9).
func TestNarrowScreens(t *testing.T) {
	a, acme, _ := testApp(t)
	appSend(a, tea.WindowSizeMsg{Width: 60, Height: 20})
	appKeys(a, "i<ctrl+o><enter>")
	v := plain(a.View())
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		if strings.Contains(l, "Fixed rules:") {
			if next := lines[i+1]; !strings.HasPrefix(next, " "+"    ") || strings.TrimSpace(next) == "" {
				t.Errorf("the mode's explanation lost its indent on %q:\n%s", next, v)
			}
		}
	}
	acme.projects = []engine.Project{company, test}
	acme.invite = func(engine.InviteRequest) (engine.Connection, string, error) {
		return engine.Connection{ID: "c1", Name: "Acme_to_pending", Status: engine.StatusPending}, strings.Repeat(testCode, 4), nil
	}
	appKeys(a, "<enter><enter>")
	v = plain(a.View())
	lines = strings.Split(v, "\n")
	if len(lines) > 20 || !strings.Contains(lines[0], "Invitation code") {
		t.Errorf("the invitation screen is %d lines high, its title first:\n%s", len(lines), v)
	}
	if !strings.Contains(v, "tdm1.") {
		t.Errorf("the code is not on screen:\n%s", v)
	}
}

// TestHeldSyncSaysWhatItWaitsFor checks that a sync on a connection whose
// invitation is not accepted yet shows what it waits for, with no spinner
// that never ends, on its status screen and in the connection's recent
// syncs, and that the spinner comes back once it moves on (trap 1).
func TestHeldSyncSaysWhatItWaitsFor(t *testing.T) {
	const why = "waiting for Globex to accept the invitation"
	f, ev := syncStatusNode(adminapi.StageSending)
	held := f.eventStatus
	f.eventStatus = func(conn, id string) (adminapi.EventStatus, error) {
		st, err := held(conn, id)
		st.Held = why
		return st, err
	}
	ev.Held = why
	s := start(t, sized(newSyncScreen(testCommon(t, f), activeConn, ev)))
	v := strings.Join(strings.Fields(plain(s.View())), " ")
	if !strings.Contains(v, "… Sending") || !strings.Contains(v, "Waiting for Globex to accept the invitation; it moves on by itself then.") {
		t.Errorf("the held sync does not say what it waits for:\n%s", plain(s.View()))
	}
	if _, cmd := s.Update(s.(*syncScreen).spin.Tick()); cmd != nil {
		t.Error("the spinner still turns while the sync is held")
	}
	// Accepted: the status moves on, and the spinner with it.
	f.eventStatus = func(conn, id string) (adminapi.EventStatus, error) {
		st, err := held(conn, id)
		st.Stage = adminapi.StageWaiting
		return st, err
	}
	s, _ = run(t, s, syncPollMsg{ev.EventID})
	if v := plain(s.View()); strings.Contains(v, "accept the invitation") || strings.Contains(v, "… Sending") {
		t.Errorf("still held after it moved on:\n%s", v)
	}
	if _, cmd := s.Update(s.(*syncScreen).spin.Tick()); cmd == nil {
		t.Error("the spinner did not come back once the sync moved on")
	}

	c := connectionNode()
	c.events = []adminapi.StageEvent{{ConnectionID: "c1", EventID: "e1", Direction: "out", LocalKey: "101", Stage: adminapi.StageSending, Held: why, At: testNow}}
	page := openConnection(t, c)
	if v := plain(page.View()); !strings.Contains(v, "Sending             just now   … waiting for Globex") {
		t.Errorf("the recent syncs do not say the sync is held:\n%s", v)
	}
}

// pendingConn is a connection whose invitation (issued by this node,
// without the other side's URL) is not accepted yet.
func pendingConn() adminapi.Connection {
	return adminapi.Connection{ID: "c7", Name: "Acme_to_pending", Role: adminapi.RoleInitiator, Mode: adminapi.ModeBasic,
		Status: adminapi.StatusPending, LocalProject: "p1", LocalProjectName: "Test", CreatedAt: testNow.Add(-time.Hour)}
}

// TestEscOnInvitationLeavesNoOrphan checks that going back from the
// invitation screen cancels the invitation it made (after asking), so
// going forward again leaves one Pending connection, not two (trap 2).
func TestEscOnInvitationLeavesNoOrphan(t *testing.T) {
	a, acme, _ := testApp(t)
	acme.projects = []engine.Project{company, test}
	made := 0
	live := map[string]bool{}
	acme.invite = func(engine.InviteRequest) (engine.Connection, string, error) {
		made++
		c := engine.Connection{ID: fmt.Sprintf("p%d", made), Name: "Acme_to_pending", Role: adminapi.RoleInitiator, Status: engine.StatusPending}
		live[c.ID] = true
		acme.connections = append(acme.connections, c)
		return c, testCode, nil
	}
	acme.del = func(id string) error { delete(live, id); return nil }
	appKeys(a, "i<ctrl+o><enter><enter><enter>")
	if got := a.sessions[0].top().Title(); got != "Invitation code" {
		t.Fatalf("on %q, want the invitation screen", got)
	}
	if f := footer(a); !strings.Contains(f, "esc cancel invitation") {
		t.Errorf("the footer does not say what esc does: %q", f)
	}
	appKeys(a, "<esc>")
	if v := plain(a.View()); !strings.Contains(v, "Cancel this invitation and go back?") || a.sessions[0].top().Title() != "Invitation code" {
		t.Fatalf("esc should ask first:\n%s", v)
	}
	appKeys(a, "n")
	if len(live) != 1 || a.sessions[0].top().Title() != "Invitation code" {
		t.Fatalf("n should keep the invitation and the screen (live %v)", live)
	}
	appKeys(a, "<esc>y")
	if got := a.sessions[0].top().Title(); got == "Invitation code" || len(live) != 0 {
		t.Fatalf("esc y: on %q with %v Pending connections, want back with none", got, live)
	}
	appKeys(a, "<enter>")
	if got := a.sessions[0].top().Title(); got != "Invitation code" || len(live) != 1 || made != 2 {
		t.Errorf("forward again: on %q, %d made, Pending %v; want one", got, made, live)
	}

	// Accepted meanwhile: cancelling would delete an Active connection,
	// so it is refused, saying why.
	acme.connections[len(acme.connections)-1].Status = engine.StatusActive
	appKeys(a, "<esc>y")
	if v := strings.Join(strings.Fields(plain(a.View())), " "); !live["p2"] || !strings.Contains(v, "the invitation was accepted meanwhile") {
		t.Errorf("cancelling an invitation accepted meanwhile: Pending %v, screen:\n%s", live, plain(a.View()))
	}
}

// TestPendingPageOffersCodeAndCancel checks a Pending connection's page:
// c shows the code again as a new one (after asking, since the old one
// stops working) and x cancels the invitation (trap 2).
func TestPendingPageOffersCodeAndCancel(t *testing.T) {
	f := &fakeNode{connections: []engine.Connection{pendingConn()}}
	f.renew = func(string) (engine.Connection, string, error) { return pendingConn(), "tdm1.renewed", nil }
	f.del = func(string) error { return nil }
	s := openConnection(t, f)
	if !helpHas(s.ShortHelp(), "c") || !helpHas(s.ShortHelp(), "x") {
		t.Errorf("the Pending page's help lacks c or x: %v", s.ShortHelp())
	}
	s, msgs := press(t, s, "c")
	if len(msgs) != 0 || !strings.Contains(plain(s.View()), "Show the code again? A new code replaces the old one, which stops working. y/n") {
		t.Fatalf("c should ask first:\n%s", plain(s.View()))
	}
	s, msgs = press(t, s, "y")
	code := start(t, sized(pushed(t, msgs)))
	if n := countCalls(f.called(), "RenewInvitation c7"); n != 1 {
		t.Fatalf("RenewInvitation called %d times: %v", n, f.called())
	}
	v := plain(code.View())
	if !strings.Contains(v, "tdm1.renewed") || !strings.Contains(strings.Join(strings.Fields(v), " "), "the old one no longer works") {
		t.Errorf("the new code is not shown as such:\n%s", v)
	}
	if _, msgs := typeKeys(t, code, "<enter>"); len(msgs) != 1 || msgs[0] != (backMsg{}) {
		t.Errorf("enter on a renewed code should go back to the page, got %#v", msgs)
	}

	s, _ = press(t, s, "x")
	if v := plain(s.View()); !strings.Contains(strings.Join(strings.Fields(v), " "), "Cancel the invitation? Its code stops working and Acme_to_pending is deleted. y/n") {
		t.Fatalf("x on a Pending page should offer to cancel the invitation:\n%s", v)
	}
	_, msgs = press(t, s, "y")
	if n := countCalls(f.called(), "Delete c7"); n != 1 || len(msgs) != 1 || msgs[0] != (homeMsg{}) {
		t.Errorf("y should delete the Pending connection and go home: %d deletes, %#v", n, msgs)
	}
}

// TestInvitationFilesNeverOverwriteAnother checks that the file of an
// invitation code is its connection's own: another connection of the same
// name (one renamed since, or on another node sharing the folder) gets a
// file of its own, and a new code of the same connection replaces its old
// one (trap 3).
func TestInvitationFilesNeverOverwriteAnother(t *testing.T) {
	dir := t.TempDir()
	first := adminapi.Connection{ID: "0f3c9a2e-1111-4c3b-9d7e-000000000001", Name: "Acme_to_pending"}
	second := adminapi.Connection{ID: "7d41b6c0-2222-4c3b-9d7e-000000000002", Name: "Acme_to_pending"}
	p1, err := writeCode(dir, first, "tdm1.first")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := writeCode(dir, second, "tdm1.second")
	if err != nil {
		t.Fatal(err)
	}
	if p1 == p2 {
		t.Fatalf("two connections named %s share the file %s", first.Name, p1)
	}
	if data, _ := os.ReadFile(p1); strings.TrimSpace(string(data)) != "tdm1.first" {
		t.Errorf("the first connection's code was overwritten: %q", data)
	}
	again, err := writeCode(dir, first, "tdm1.renewed")
	if err != nil || again != p1 {
		t.Errorf("a new code of the same connection went to %s (%v), want its file %s", again, err, p1)
	}
	if !strings.Contains(filepath.Base(p1), "Acme_to_pending") {
		t.Errorf("the file %s does not name the connection", p1)
	}
}

// TestPendingPageWords checks a Pending connection's page (trap 12): it
// says what it waits for rather than "with not known yet", offers no
// trigger or Bulk Exalate (t and b do nothing), and s opens the sync of
// one item, whose screen names the other side rather than leaving "↔ "
// dangling and says the sync waits for the acceptance. Pinned by a golden.
func TestPendingPageWords(t *testing.T) {
	f := &fakeNode{connections: []engine.Connection{pendingConn()}}
	s := openConnection(t, f)
	view := plain(s.View())
	golden.RequireEqual(t, []byte(view))
	flat := strings.Join(strings.Fields(view), " ")
	for _, want := range []string{"Acme_to_pending · Pending · waiting for the other side to accept the invitation",
		"Other side Waiting for the other side to accept the invitation", "s queues one item of Test: it is sent once the invitation is accepted"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the Pending page lacks %q:\n%s", want, view)
		}
	}
	for _, bad := range []string{"not known yet", "automatically", "Bulk Exalate"} {
		if strings.Contains(flat, bad) {
			t.Errorf("the Pending page says %q:\n%s", bad, view)
		}
	}
	for _, k := range []string{"t", "b", "d"} {
		if helpHas(s.ShortHelp(), k) || helpHas(s.FullHelp()[1], k) {
			t.Errorf("%s is offered on a Pending page", k)
		}
	}
	s, msgs := press(t, s, "tb")
	if len(msgs) != 0 || countCalls(f.called(), "SetTrigger") != 0 || countCalls(f.called(), "RecentItems") != 0 {
		t.Errorf("t or b did something on a Pending page: %v %v", msgs, f.called())
	}
	_, msgs = press(t, s, "s")
	ex := start(t, sized(pushed(t, msgs)))
	v := plain(ex.View())
	if !strings.Contains(v, "Acme / Test ↔ the other side") || !strings.Contains(strings.Join(strings.Fields(v), " "), "The invitation is not accepted yet: the sync waits for it") {
		t.Errorf("the sync of one item on a Pending connection:\n%s", v)
	}
	for l := range strings.Lines(v) {
		if strings.HasSuffix(strings.TrimRight(l, " \n"), "↔") {
			t.Errorf("a line ends with a dangling ↔: %q", l)
		}
	}

	info, _ := press(t, s, "<right><right><right>")
	if v := plain(info.View()); strings.Contains(v, "not known yet") || !strings.Contains(v, "waiting for the other side to accept the invitation") {
		t.Errorf("the Info tab of a Pending connection:\n%s", v)
	}
}

// TestReferenceExampleIsTheProjects checks that the example reference on
// the sync-one-item screen is an item of the connection's own project
// that exists (its most recent), never KAN-19 whatever the project, and
// that there is none when the project has no items (trap 7).
func TestReferenceExampleIsTheProjects(t *testing.T) {
	ops := activeConn
	ops.LocalProject, ops.LocalProjectName = "OPS", "Operations"
	for _, tc := range []struct {
		name  string
		items []engine.Item
		want  string
	}{
		{"with items", []engine.Item{{ID: "10042", Key: "OPS-3", Summary: "Rotate the keys"}, {ID: "10041", Key: "OPS-2", Summary: "Patch the VPN"}},
			"enter an issue key or link (such as OPS-3):"},
		{"without", nil, "enter an issue key or link:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCommon(t, &fakeNode{items: tc.items})
			onTracker(t, c, "jira")
			s := start(t, sized(newExalateScreen(c, ops)))
			v := strings.Join(strings.Fields(plain(s.View())), " ")
			if !strings.Contains(v, tc.want) || strings.Contains(v, "KAN") {
				t.Errorf("want %q and no other project's key:\n%s", tc.want, plain(s.View()))
			}
		})
	}
}

// TestConnectionNamesStayWhole: at 80 columns, with a deactivated
// connection's syncs queued (the Queued column shown) and two
// connections to the same node, the names that tell them apart are shown
// whole; the other side's project is what gets cut.
func TestConnectionNamesStayWhole(t *testing.T) {
	first := activeConn
	first.Mode, first.SyncedItems, first.Queued = adminapi.ModeScript, 1, 1
	second := activeConn
	second.ID, second.Name, second.RemoteProjectName, second.Queued = "c3", "Acme_to_Globex_2", "Operations", 3
	second.Status = adminapi.StatusDeactivated
	pending := engine.Connection{ID: "c4", Name: "Acme_to_pending", Status: adminapi.StatusPending, Mode: adminapi.ModeBasic}
	f := &fakeNode{connections: []engine.Connection{pending, second, first}}
	s := newConnectionsScreen(testCommon(t, f))
	s.SetSize(78, 10)
	v := plain(start(t, s).View())
	for _, name := range []string{activeConn.Name + " ", "Acme_to_Globex_2"} {
		if !strings.Contains(v, name) {
			t.Errorf("the name %q is cut:\n%s", name, v)
		}
	}
}
