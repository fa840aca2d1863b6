package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// invitationScreen is the "No, I don't have admin access" path: it creates
// the Pending connection and shows its invitation code to pass on.
type invitationScreen struct {
	c      *common
	d      draft
	conn   adminapi.Connection
	code   string
	busy   bool
	err    error
	copied string
	spin   spinner.Model
	width  int
}

type invitedMsg struct {
	conn adminapi.Connection
	code string
	err  error
}

type copiedMsg struct {
	path string
	err  error
}

func newInvitationScreen(c *common, d draft) *invitationScreen {
	return &invitationScreen{c: c, d: d, busy: true, spin: newSpinner(c), width: 76}
}

func (s *invitationScreen) Title() string    { return "Invitation code" }
func (s *invitationScreen) SetSize(w, _ int) { s.width = w }

func (s *invitationScreen) Init() tea.Cmd {
	node, ctx, d := s.c.node, s.c.ctx, s.d
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		c, code, err := node.Invite(ctx, adminapi.InviteRequest{To: d.to, Project: d.project.ID, Mode: d.mode})
		return invitedMsg{c, code, err}
	})
}

func (s *invitationScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case invitedMsg:
		s.busy, s.err, s.conn, s.code = false, msg.err, msg.conn, msg.code
		return s, nil
	case copiedMsg:
		s.err = msg.err
		s.copied = msg.path
		return s, nil
	case spinner.TickMsg:
		return s, spinWhile(s.busy, &s.spin, msg)
	case tea.KeyMsg:
		switch {
		case s.code != "" && key.Matches(msg, s.c.keys.Copy):
			return s, s.copy()
		case !s.busy && key.Matches(msg, s.c.keys.Done):
			return s, home
		}
	}
	return s, nil
}

// copy puts the code on the clipboard (OSC 52) and in a file, since not
// every terminal passes OSC 52 on.
func (s *invitationScreen) copy() tea.Cmd {
	code, name, dir, clip := s.code, s.conn.Name, s.c.codeDir, s.c.clipboard
	return func() tea.Msg {
		if clip != nil {
			_ = clip(code) // best effort: the file below is the sure way
		}
		if dir == "" {
			return copiedMsg{}
		}
		path := filepath.Join(dir, "invitation-"+fileName(name)+".txt")
		if err := os.WriteFile(path, []byte(code+"\n"), 0o600); err != nil {
			return copiedMsg{err: fmt.Errorf("writing the invitation code to a file: %w", err)}
		}
		return copiedMsg{path: path}
	}
}

// fileName keeps the letters, digits, dashes and underscores of a name.
func fileName(name string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
	if name == "" {
		return "connection"
	}
	return name
}

// wrapCode cuts the code into lines of w characters: no spaces are added,
// and the accept screen drops the line breaks a copy picks up.
func wrapCode(code string, w int) string {
	w = max(w, 16)
	var lines []string
	for len(code) > w {
		lines = append(lines, code[:w])
		code = code[w:]
	}
	return strings.Join(append(lines, code), "\n")
}

func (s *invitationScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	switch {
	case s.busy:
		return s.spin.View() + " Creating the connection and its invitation code…"
	case s.code == "":
		b.WriteString(s.c.errorLine(s.err) + "\n")
		b.WriteString(st.Faint.Render("Press esc to go back and change the connection."))
		return b.String()
	}
	b.WriteString(st.Subtitle.Render("Send this invitation code to the other side's admin") + "\n")
	b.WriteString(st.Faint.Render("They choose Accept invitation (a) on their node and paste it. It works once,\nfor 72 hours. Anyone holding it can accept: share it privately.") + "\n")
	b.WriteString(st.CodeBox.Render(wrapCode(s.code, s.width)) + "\n")
	switch {
	case s.err != nil:
		b.WriteString(s.c.errorLine(s.err))
	case s.copied != "":
		b.WriteString(st.OK.Render("✓ Copied to the clipboard, and written to " + s.copied))
	case s.c.codeDir == "" && s.copied == "" && s.c.clipboard == nil:
		b.WriteString(st.Faint.Render("Select the code above to copy it."))
	default:
		b.WriteString(st.Faint.Render("Press c to copy the code; it is also written to a file."))
	}
	b.WriteString("\n" + st.Faint.Render("Connection "+s.conn.Name+" is Pending until the code is accepted."))
	return b.String()
}

func (s *invitationScreen) ShortHelp() []key.Binding {
	if s.code == "" {
		return nil
	}
	return []key.Binding{s.c.keys.Copy, s.c.keys.Done}
}
func (s *invitationScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
