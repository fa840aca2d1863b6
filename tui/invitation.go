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
	c    *common
	d    draft
	conn adminapi.Connection
	code string
	busy bool
	err  error
	// path is the file the code was written to when it was made; sent says
	// c sent it to the terminal's clipboard.
	path   string
	sent   bool
	spin   spinner.Model
	width  int
	height int
}

type invitedMsg struct {
	conn adminapi.Connection
	code string
	path string
	err  error
	// fileErr is a failure to write the code's file: the code is still
	// shown, so it is not the invitation's error.
	fileErr error
}

type copiedMsg struct{ err error }

func newInvitationScreen(c *common, d draft) *invitationScreen {
	return &invitationScreen{c: c, d: d, busy: true, spin: newSpinner(c), width: 76}
}

func (s *invitationScreen) Title() string    { return "Invitation code" }
func (s *invitationScreen) SetSize(w, h int) { s.width, s.height = w, h }

// Init creates the invitation and writes its code to a file straight
// away, so the screen never claims a file that is not there yet.
func (s *invitationScreen) Init() tea.Cmd {
	node, ctx, d, dir := s.c.node, s.c.ctx, s.d, s.c.codeDir
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		c, code, err := node.Invite(ctx, adminapi.InviteRequest{To: d.to, Project: d.project.ID, Mode: d.mode})
		msg := invitedMsg{conn: c, code: code, err: err}
		if err == nil && dir != "" {
			msg.path, msg.fileErr = writeCode(dir, c.Name, code)
		}
		return msg
	})
}

// writeCode writes an invitation code to a file only its owner can read.
func writeCode(dir, name, code string) (string, error) {
	path := filepath.Join(dir, "invitation-"+fileName(name)+".txt")
	if err := os.WriteFile(path, []byte(code+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing the invitation code to a file: %w", err)
	}
	return path, nil
}

func (s *invitationScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case invitedMsg:
		s.busy, s.err, s.conn, s.code, s.path = false, msg.err, msg.conn, msg.code, msg.path
		if msg.err == nil {
			s.err = msg.fileErr
		}
		return s, nil
	case copiedMsg:
		s.err, s.sent = msg.err, msg.err == nil
		return s, nil
	case spinner.TickMsg:
		return s, spinWhile(s.busy, &s.spin, msg)
	case tea.KeyMsg:
		switch {
		case s.code != "" && s.c.clipboard != nil && key.Matches(msg, s.c.keys.Copy):
			return s, s.copy()
		case !s.busy && key.Matches(msg, s.c.keys.Done):
			return s, home
		}
	}
	return s, nil
}

// copy sends the code to the terminal's clipboard as an OSC 52 sequence.
// Whether the terminal honours it can't be known (tmux ignores it by
// default), so the screen says it was sent, not copied; the file is the
// sure way.
func (s *invitationScreen) copy() tea.Cmd {
	code, clip := s.code, s.c.clipboard
	return func() tea.Msg {
		if err := clip(code); err != nil {
			return copiedMsg{fmt.Errorf("sending the code to the clipboard: %w", err)}
		}
		return copiedMsg{}
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
	b.WriteString(st.Subtitle.Render(ansiWrap("Send this invitation code to the other side's admin", s.width)) + "\n")
	// On a short terminal the how-to goes first, so the code and where
	// it was written stay on screen.
	code := wrapCode(s.code, s.width)
	if s.height == 0 || lineCount(code)+9 <= s.height {
		b.WriteString(st.Faint.Render(ansiWrap("They choose Accept invitation (a) on their node and paste it. It works once, for 72 hours. Anyone holding it can accept: share it privately.", s.width)) + "\n")
	}
	b.WriteString(st.CodeBox.Render(code) + "\n")
	// Paths wrap only after a separator, so no file or folder name is cut.
	switch {
	case s.err != nil:
		b.WriteString(s.c.errorLine(s.err))
	case s.sent && s.path != "":
		b.WriteString(st.OK.Render(ansiWrap("✓ Sent to your terminal's clipboard (OSC 52); the code is also in "+s.path, s.width)))
	case s.sent:
		b.WriteString(st.OK.Render(ansiWrap("✓ Sent to your terminal's clipboard (OSC 52). If nothing was copied, select the code above.", s.width)))
	case s.path != "" && s.c.clipboard != nil:
		b.WriteString(st.Faint.Render(ansiWrap("The code is in "+s.path+". Press c to send it to your terminal's clipboard (OSC 52).", s.width)))
	case s.path != "":
		b.WriteString(st.Faint.Render(ansiWrap("The code is in "+s.path+".", s.width)))
	case s.c.clipboard != nil:
		b.WriteString(st.Faint.Render(ansiWrap("Press c to send the code to your terminal's clipboard (OSC 52), or select it above.", s.width)))
	default:
		b.WriteString(st.Faint.Render("Select the code above to copy it."))
	}
	b.WriteString("\n" + st.Faint.Render(ansiWrap("Connection "+s.conn.Name+" is Pending until the code is accepted.", s.width)))
	return b.String()
}

func (s *invitationScreen) ShortHelp() []key.Binding {
	switch {
	case s.code == "":
		return nil
	case s.c.clipboard == nil:
		return []key.Binding{s.c.keys.Done}
	}
	return []key.Binding{s.c.keys.Copy, s.c.keys.Done}
}
func (s *invitationScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
