package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// confirmScreen sums the connection up before it is made (the admin-access
// path and local connections).
type confirmScreen struct {
	c    *common
	d    draft
	busy bool
	err  error
	spin spinner.Model
}

// connectedMsg says a connection was established (or why not).
type connectedMsg struct {
	conn adminapi.Connection
	err  error
}

func newConfirmScreen(c *common, d draft) *confirmScreen {
	return &confirmScreen{c: c, d: d, spin: newSpinner(c)}
}

func (s *confirmScreen) Title() string    { return "Confirm" }
func (s *confirmScreen) SetSize(int, int) {}
func (s *confirmScreen) Init() tea.Cmd    { return nil }

func (s *confirmScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case connectedMsg:
		s.busy = false
		if msg.err != nil {
			s.err = msg.err
			return s, nil
		}
		return s, reset(newSuccessScreen(s.c, msg.conn))
	case spinner.TickMsg:
		return s, spinWhile(s.busy, &s.spin, msg)
	case tea.KeyMsg:
		if !s.busy && key.Matches(msg, s.c.keys.ConfirmGo) {
			s.busy, s.err = true, nil
			node, ctx := s.c.node, s.c.ctx
			req := adminapi.ConnectRequest{To: s.d.to, DestToken: s.d.destToken, DestProject: s.d.destProject.ID, Project: s.d.project.ID, Mode: s.d.mode}
			return s, tea.Batch(s.spin.Tick, func() tea.Msg {
				c, err := node.Connect(ctx, req)
				return connectedMsg{c, err}
			})
		}
	}
	return s, nil
}

func (s *confirmScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	b.WriteString(st.Subtitle.Render("Confirm the connection") + "\n\n")
	other := s.d.dest.Name
	if s.d.local {
		other = s.c.self.Name + " (local)"
	}
	row := func(k, v string) { b.WriteString(st.Faint.Render(pad(k, 14)) + v + "\n") }
	row("This side", s.c.self.Name+" / "+s.d.project.Name)
	row("Other side", other+" / "+s.d.destProject.Name)
	if !s.d.local {
		row("Destination", s.d.to)
	}
	row("Mode", modeName(s.d.mode))
	b.WriteString("\n" + st.Faint.Render("Items each side receives are created in its project above."))
	switch {
	case s.busy:
		b.WriteString("\n\n" + s.spin.View() + " Establishing the connection…")
	case s.err != nil:
		b.WriteString("\n\n" + s.c.errorLine(s.err))
	}
	return b.String()
}

func (s *confirmScreen) ShortHelp() []key.Binding {
	return []key.Binding{s.c.keys.ConfirmGo, s.c.keys.Previous}
}
func (s *confirmScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
