package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// acceptScreen is Accept invitation: paste the code, see who invited you,
// select the project for incoming sync, confirm.
type acceptScreen struct {
	c       *common
	input   textinput.Model
	code    string
	preview *adminapi.InvitationPreview
	pick    picker
	busy    string
	err     error
	spin    spinner.Model
	width   int
	height  int
}

type previewMsg struct {
	code     string
	preview  adminapi.InvitationPreview
	projects []adminapi.Project
	err      error
}

func newAcceptScreen(c *common) *acceptScreen {
	ti := c.textInput("tdm1.…", 0)
	return &acceptScreen{c: c, input: ti, pick: newPicker(c, "type to filter"), spin: newSpinner(c)}
}

func (s *acceptScreen) Title() string { return "Accept invitation" }
func (s *acceptScreen) SetSize(w, h int) {
	s.input.Width = max(w-4, 10)
	s.width, s.height = w, h
	s.fitPicker()
}

// fitPicker leaves the list the lines the invitation's mode note does not
// take.
func (s *acceptScreen) fitPicker() {
	note := ""
	if s.preview != nil {
		note = basicNote(s.preview.Mode, s.width)
	}
	s.pick.height = max(s.height-12-lineCount(note), 3)
}
func (s *acceptScreen) Init() tea.Cmd   { return textinput.Blink }
func (s *acceptScreen) capturing() bool { return true }

// handlesEsc takes esc on the project step back to the code.
func (s *acceptScreen) handlesEsc() bool { return s.preview != nil && s.busy == "" }

// cleanCode drops what terminals add to a long pasted line: spaces, tabs
// and line breaks (a code never contains any).
func cleanCode(s string) string { return strings.Join(strings.Fields(s), "") }

func (s *acceptScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case previewMsg:
		s.busy = ""
		if msg.err != nil {
			s.err = msg.err
			return s, nil
		}
		p := msg.preview
		s.preview, s.code = &p, msg.code
		s.fitPicker()
		var cs []choice
		for _, pr := range msg.projects {
			cs = append(cs, choice{ID: pr.ID, Label: pr.Name})
		}
		s.pick.SetChoices(cs)
		s.pick.SelectLabel(s.c.project)
		s.input.Blur()
		return s, s.pick.filter.Focus()
	case connectedMsg:
		s.busy = ""
		if msg.err != nil {
			s.err = msg.err
			return s, nil
		}
		return s, reset(newSuccessScreen(s.c, msg.conn))
	case spinner.TickMsg:
		return s, spinWhile(s.busy != "", &s.spin, msg)
	case tea.KeyMsg:
		if s.busy != "" {
			return s, nil
		}
		if s.preview == nil {
			return s, s.updateCode(msg)
		}
		return s, s.updateProject(msg)
	}
	return s, nil
}

func (s *acceptScreen) updateCode(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, s.c.keys.Next) {
		code := cleanCode(s.input.Value())
		if code == "" {
			s.err = errors.New("paste the invitation code the other admin sent you: one line starting with tdm1.")
			return nil
		}
		s.busy, s.err = "Checking the invitation with the inviting node…", nil
		node, ctx := s.c.node, s.c.ctx
		return tea.Batch(s.spin.Tick, func() tea.Msg {
			p, err := node.PreviewInvitation(ctx, code)
			if err != nil {
				return previewMsg{err: err}
			}
			ps, err := node.Projects(ctx)
			if err != nil {
				err = fmt.Errorf("listing this node's projects: %w", err)
			}
			return previewMsg{code: code, preview: p, projects: ps, err: err}
		})
	}
	var cmd tea.Cmd
	s.input, cmd = s.input.Update(msg)
	s.err = nil
	return cmd
}

func (s *acceptScreen) updateProject(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, s.c.keys.Back):
		s.preview, s.err = nil, nil
		s.pick.filter.Blur()
		return s.input.Focus()
	case key.Matches(msg, s.c.keys.ConfirmGo):
		ch, ok := s.pick.Pick()
		if !ok {
			return nil
		}
		s.busy, s.err = "Accepting the invitation…", nil
		node, ctx, code := s.c.node, s.c.ctx, s.code
		return tea.Batch(s.spin.Tick, func() tea.Msg {
			c, err := node.Accept(ctx, code, ch.ID)
			return connectedMsg{c, err}
		})
	}
	return s.pick.Update(msg)
}

func (s *acceptScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	if s.preview == nil {
		b.WriteString(st.Subtitle.Render("Paste the invitation code") + "\n")
		b.WriteString(st.Faint.Render("The code the other side's admin sent you (one line starting with tdm1.).\nSpaces and line breaks picked up while copying are ignored.") + "\n\n")
		b.WriteString(s.input.View())
	} else {
		p := s.preview
		b.WriteString(st.OK.Render("✓ ") + "Invited by " + st.Subtitle.Render(p.Initiator.Name) + st.Faint.Render(" ("+p.Initiator.URL+", "+p.Initiator.Tracker+")") + "\n")
		b.WriteString(st.Faint.Render(fmt.Sprintf("Their project: %s · mode: %s · expires in %s", p.ProjectName, modeName(p.Mode), until(s.c.now(), p.Expires))) + "\n\n")
		b.WriteString(st.Subtitle.Render("Select a project for the incoming sync") + "\n")
		b.WriteString(st.Faint.Render("Items "+p.Initiator.Name+" sends are created in this project of "+s.c.self.Name+".") + "\n")
		if note := basicNote(p.Mode, s.width); note != "" {
			b.WriteString(st.Faint.Render(note) + "\n")
		}
		b.WriteString(s.pick.View())
	}
	switch {
	case s.busy != "":
		b.WriteString("\n\n" + s.spin.View() + " " + s.busy)
	case s.err != nil:
		b.WriteString("\n\n" + s.c.errorLine(s.err))
	}
	return b.String()
}

// until says how long is left before t.
func until(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "no time"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return fmt.Sprintf("%d h", int(d.Hours()))
}

func (s *acceptScreen) ShortHelp() []key.Binding {
	if s.preview == nil {
		return []key.Binding{s.c.keys.Next}
	}
	return []key.Binding{s.c.keys.Up, s.c.keys.Down, s.c.keys.ConfirmGo}
}
func (s *acceptScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
