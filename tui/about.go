package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/tui/termtext"
)

// aboutScreen shows the text the program running the console gave in
// Options.About: for tandem demo, where its trackers and nodes listen,
// where demo.env is and how to query a project. Read-only; esc goes back.
type aboutScreen struct {
	c    *common
	text string
}

func newAboutScreen(c *common, text string) *aboutScreen {
	return &aboutScreen{c: c, text: termtext.Text(text)}
}

func (s *aboutScreen) Title() string                    { return "About this demo" }
func (s *aboutScreen) SetSize(int, int)                 {}
func (s *aboutScreen) Init() tea.Cmd                    { return nil }
func (s *aboutScreen) Update(tea.Msg) (screen, tea.Cmd) { return s, nil }
func (s *aboutScreen) View() string                     { return s.text }
func (s *aboutScreen) ShortHelp() []key.Binding         { return nil }
func (s *aboutScreen) FullHelp() [][]key.Binding        { return nil }

// openAbout is the router's way in: the about screen on top of the
// current one, unless it is there already.
func (a *App) openAbout() tea.Cmd {
	s := a.sessions[a.current]
	if _, open := s.top().(*aboutScreen); open || a.about == "" {
		return nil
	}
	return a.toSession(a.current, pushMsg{newAboutScreen(s.common, a.about)})
}
