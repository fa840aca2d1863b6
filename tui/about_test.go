package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// TestAboutPanel: with Options.About (tandem demo gives it), ? lists A,
// and A opens the about text, cleaned for the terminal; esc goes back.
// Without it, A does nothing.
func TestAboutPanel(t *testing.T) {
	a, _, _ := testApp(t)
	appKeys(a, "A")
	if got := a.sessions[a.current].top().Title(); got == "About this demo" {
		t.Fatal("A opened an about panel the console was given no text for")
	}

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a = New(ctx, Options{Renderer: plainRenderer(), Now: func() time.Time { return testNow },
		About:   "Acme asana sandbox http://127.0.0.1:1/api/1.0\nTokens: /tmp/d/demo.env\x1b]52;c;aGk=\x07",
		Targets: []Target{{Name: "Acme", URL: "http://acme.test", Node: &fakeNode{info: globex}}}})
	appSend(a, tea.WindowSizeMsg{Width: 80, Height: 24})
	appKeys(a, "?")
	if v := plain(a.View()); !strings.Contains(v, "about this demo") {
		t.Errorf("the full help does not list the about key:\n%s", v)
	}
	appKeys(a, "?A")
	v := plain(a.View())
	if a.sessions[0].top().Title() != "About this demo" || !strings.Contains(v, "http://127.0.0.1:1/api/1.0") || !strings.Contains(v, "/tmp/d/demo.env") {
		t.Fatalf("A shows no about panel:\n%s", v)
	}
	if strings.Contains(a.View(), "\x1b]52") {
		t.Error("the about text reached the terminal uncleaned")
	}
	appKeys(a, "A")
	if n := len(a.sessions[0].stack); n != 2 {
		t.Errorf("A on the about panel stacked another: %d screens", n)
	}
	appSend(a, tea.KeyMsg{Type: tea.KeyEsc})
	if got := a.sessions[0].top().Title(); got == "About this demo" {
		t.Error("esc did not leave the about panel")
	}
}
