package tui

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// testApp is the console on two fake nodes at 80×24, started as the
// program would start it.
func testApp(t *testing.T) (*App, *fakeNode, *fakeNode) {
	t.Helper()
	acme := &fakeNode{info: adminapi.Instance{Name: "Acme", URL: "http://acme.test", Tracker: "asana", Modes: []adminapi.Mode{adminapi.ModeBasic}},
		connections: []adminapi.Connection{activeConn}}
	glob := &fakeNode{info: globex}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a := New(ctx, Options{Renderer: plainRenderer(), Now: func() time.Time { return testNow }, Targets: []Target{
		{Name: "Acme", URL: "http://acme.test", Node: acme, Suggest: "http://globex.test", SuggestName: "Globex"},
		{Name: "Globex", URL: "http://globex.test", Node: glob, Suggest: "http://acme.test", SuggestName: "Acme"},
	}})
	for _, s := range a.sessions {
		s.common.staticCursor = true
		s.common.tick = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
	}
	appSend(a, tea.WindowSizeMsg{Width: 80, Height: 24})
	for _, m := range execNoSubscribe(a.Init()) {
		appSend(a, m)
	}
	return a, acme, glob
}

// execNoSubscribe runs the app's start-up commands except the event
// subscriptions, which block until an event arrives.
func execNoSubscribe(cmd tea.Cmd) []tea.Msg {
	var out []tea.Msg
	for _, m := range exec(cmd) {
		if sm, ok := m.(sessionMsg); ok {
			if _, ok := sm.msg.(subscribedMsg); ok {
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

// appSend delivers a message to the app and, transitively, what its
// commands return; it reports whether the app quit.
func appSend(a *App, msg tea.Msg) (quit bool) {
	queue := []tea.Msg{msg}
	for len(queue) > 0 && len(queue) < 200 {
		m := queue[0]
		queue = queue[1:]
		if _, ok := m.(tea.QuitMsg); ok {
			return true
		}
		_, cmd := a.Update(m)
		queue = append(queue, exec(cmd)...)
	}
	return false
}

func appKeys(a *App, text string) (quit bool) {
	for _, k := range keys(text) {
		if appSend(a, k) {
			return true
		}
	}
	return false
}

func TestAppFrame(t *testing.T) {
	a, _, _ := testApp(t)
	v := plain(a.View())
	if h := strings.Count(v, "\n") + 1; h != 24 {
		t.Errorf("the frame is %d lines high, want 24:\n%s", h, v)
	}
	for _, line := range strings.Split(v, "\n") {
		if w := len([]rune(line)); w > 80 {
			t.Errorf("a line is %d wide: %q", w, line)
		}
	}
	golden.RequireEqual(t, []byte(v+"\n"))
}

func TestAppRouting(t *testing.T) {
	a, _, glob := testApp(t)
	title := func() string { return a.sessions[a.current].top().Title() }

	appKeys(a, "i")
	if title() != "Initiate connection" {
		t.Fatalf("i opened %q", title())
	}
	// q is text while a text input has the focus; ? too.
	if appKeys(a, "q?") {
		t.Fatal("q quit while typing a URL")
	}
	if a.fullHelp {
		t.Error("? toggled the help while typing")
	}
	appKeys(a, "<esc>")
	if title() != "Connections" {
		t.Fatalf("esc went to %q", title())
	}
	appKeys(a, "<esc>")
	if title() != "Connections" {
		t.Fatalf("esc on the home screen went to %q", title())
	}

	// ctrl+t shows the other node and keeps where each one was.
	appKeys(a, "i<ctrl+t>")
	if a.current != 1 || title() != "Connections" || !strings.Contains(plain(a.View()), "Globex  http://globex.test") {
		t.Fatalf("after ctrl+t: session %d, %q\n%s", a.current, title(), plain(a.View()))
	}
	if !strings.Contains(strings.Join(glob.called(), ";"), "Connections") {
		t.Error("Globex's connections were not loaded")
	}
	appKeys(a, "<ctrl+t>")
	if a.current != 0 || title() != "Initiate connection" {
		t.Fatalf("back on Acme: session %d, %q", a.current, title())
	}
	appKeys(a, "<esc>?")
	if !a.fullHelp {
		t.Error("? should show the full help")
	}
	if !strings.Contains(plain(a.View()), "initiate connection") {
		t.Errorf("the full help lacks the screen's keys:\n%s", plain(a.View()))
	}
	if !appKeys(a, "q") {
		t.Error("q should quit on the home screen")
	}
	if !appKeys(a, "i<ctrl+c>") {
		t.Error("ctrl+c should quit from any screen")
	}
}

func TestAppResizeReflows(t *testing.T) {
	a, _, _ := testApp(t)
	appSend(a, tea.WindowSizeMsg{Width: 100, Height: 30})
	v := plain(a.View())
	if h := strings.Count(v, "\n") + 1; h != 30 {
		t.Errorf("after a resize the frame is %d lines high, want 30", h)
	}
	if !strings.Contains(v, "Acme_to_Globex") {
		t.Error(v)
	}
}

func TestNoColorIsHonoured(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	r := lipgloss.NewRenderer(io.Discard, termenv.WithTTY(true))
	st := NewStyles(r)
	if out := st.Error.Render("x") + st.OK.Render("y") + st.Accent.Render("z"); strings.Contains(out, "\x1b[3") || strings.Contains(out, "\x1b[9") {
		t.Errorf("colours with NO_COLOR set: %q", out)
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("CLICOLOR_FORCE", "1")
	r = lipgloss.NewRenderer(io.Discard, termenv.WithTTY(true))
	if out := NewStyles(r).Error.Render("x"); !strings.Contains(out, "\x1b[") {
		t.Errorf("no colour even when forced: %q (the test above proves nothing)", out)
	}
}
