package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// accessScreen asks "Do you have admin access to the destination instance?".
type accessScreen struct {
	c   *common
	d   draft
	yes bool
}

func newAccessScreen(c *common, d draft) *accessScreen { return &accessScreen{c: c, d: d, yes: true} }

func (s *accessScreen) Title() string    { return "Admin access" }
func (s *accessScreen) SetSize(int, int) {}
func (s *accessScreen) Init() tea.Cmd    { return nil }

func (s *accessScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, s.c.keys.Up), key.Matches(k, s.c.keys.Down):
			s.yes = !s.yes
		case key.Matches(k, s.c.keys.Enter):
			if s.yes {
				return s, push(newVerifyScreen(s.c, s.d))
			}
			return s, push(newInvitationScreen(s.c, s.d))
		}
	}
	return s, nil
}

func (s *accessScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	b.WriteString(st.Subtitle.Render("Do you have admin access to the destination instance?") + "\n")
	b.WriteString(st.Faint.Render(s.d.dest.Name+" at "+s.d.to) + "\n\n")
	opt := func(on bool, label, note string) {
		if on {
			b.WriteString(st.Selected.Render("› (•) "+label) + "\n")
		} else {
			b.WriteString("  ( ) " + label + "\n")
		}
		b.WriteString(st.Faint.Render("      "+note) + "\n")
	}
	opt(s.yes, "Yes, I have admin access", "You verify access on the destination and set both sides up now.")
	opt(!s.yes, "No, I don't have admin access", "You get an invitation code to send to the destination's admin.")
	return strings.TrimRight(b.String(), "\n")
}

func (s *accessScreen) ShortHelp() []key.Binding {
	return []key.Binding{s.c.keys.Up, s.c.keys.Down, s.c.keys.InitiateGo, s.c.keys.Previous}
}
func (s *accessScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }

// verifyScreen verifies admin access on the destination with its admin
// token (masked), then lists the destination's projects.
type verifyScreen struct {
	c     *common
	d     draft
	input textinput.Model
	busy  bool
	err   error
	spin  spinner.Model
}

type verifiedMsg struct {
	info     adminapi.Instance
	projects []adminapi.Project
	err      error
}

func newVerifyScreen(c *common, d draft) *verifyScreen {
	ti := c.textInput("the destination's admin token", 512)
	ti.EchoMode = textinput.EchoPassword
	ti.EchoCharacter = '•'
	return &verifyScreen{c: c, d: d, input: ti, spin: newSpinner(c)}
}

func (s *verifyScreen) Title() string    { return "Verify access" }
func (s *verifyScreen) SetSize(w, _ int) { s.input.Width = max(w-4, 10) }
func (s *verifyScreen) Init() tea.Cmd    { return textinput.Blink }
func (s *verifyScreen) capturing() bool  { return true }

func (s *verifyScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case verifiedMsg:
		s.busy = false
		if msg.err != nil {
			s.err = msg.err
			return s, nil
		}
		d := s.d
		d.dest, d.destToken = msg.info, strings.TrimSpace(s.input.Value())
		return s, push(newDestProjectScreen(s.c, d, msg.projects))
	case spinner.TickMsg:
		return s, spinWhile(s.busy, &s.spin, msg)
	case tea.KeyMsg:
		if s.busy {
			return s, nil
		}
		if s.offersToken() && key.Matches(msg, s.c.keys.Suggestion) {
			s.input.SetValue(s.c.suggestToken)
			s.input.CursorEnd()
			return s, nil
		}
		if key.Matches(msg, s.c.keys.Next) {
			token := strings.TrimSpace(s.input.Value())
			if token == "" {
				s.err = errors.New("enter the destination's admin token: its node printed it at first start")
				return s, nil
			}
			s.busy, s.err = true, nil
			node, ctx, to := s.c.node, s.c.ctx, s.d.to
			return s, tea.Batch(s.spin.Tick, func() tea.Msg {
				info, ps, err := node.DestinationProjects(ctx, to, token)
				return verifiedMsg{info, ps, err}
			})
		}
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		s.err = nil
		return s, cmd
	}
	return s, nil
}

func (s *verifyScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	b.WriteString(st.Subtitle.Render("Verify access on "+s.d.dest.Name) + "\n")
	b.WriteString(st.Faint.Render("Enter the admin token of "+s.d.to+".\nIt is used once, to set the other side up, and never stored here.") + "\n\n")
	b.WriteString(s.input.View())
	if s.offersToken() {
		b.WriteString("\n" + st.Faint.Render("The demo made "+s.d.dest.Name+", so it knows its admin token: tab fills it in."))
	}
	switch {
	case s.busy:
		b.WriteString("\n\n" + s.spin.View() + " Verifying access…")
	case s.err != nil:
		b.WriteString("\n\n" + s.c.errorLine(s.err))
	}
	return b.String()
}

// offersToken says whether the destination is the suggested node whose
// admin token the console was given (the other demo node).
func (s *verifyScreen) offersToken() bool {
	return s.c.suggestToken != "" && s.d.to == s.c.suggest
}

func (s *verifyScreen) ShortHelp() []key.Binding {
	if s.offersToken() {
		return []key.Binding{s.c.keys.Verify, s.c.keys.FillToken}
	}
	return []key.Binding{s.c.keys.Verify}
}
func (s *verifyScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
