package tui

import (
	"context"
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
// the Pending connection and shows its invitation code to pass on. Going
// back from it cancels that invitation (deleting the Pending connection,
// after asking), so going forward again never leaves a second one behind.
// Opened from a Pending connection's page (renewing), it shows that
// connection's invitation as a new code instead, and esc just goes back.
type invitationScreen struct {
	c    *common
	d    draft
	conn adminapi.Connection
	// renew is set when the screen shows a new code for conn, a Pending
	// connection that exists already.
	renew bool
	code  string
	busy  bool
	err   error
	// asking is true while esc asks whether to cancel the invitation;
	// cancelling while the Pending connection is being deleted.
	asking     bool
	cancelling bool
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

// invitationCancelledMsg says whether deleting the Pending connection of
// a cancelled invitation worked.
type invitationCancelledMsg struct{ err error }

func newInvitationScreen(c *common, d draft) *invitationScreen {
	return &invitationScreen{c: c, d: d, busy: true, spin: newSpinner(c), width: 76}
}

// newRenewedInvitationScreen shows a Pending connection's invitation as a
// new code, the old one revoked.
func newRenewedInvitationScreen(c *common, conn adminapi.Connection) *invitationScreen {
	return &invitationScreen{c: c, conn: conn, renew: true, busy: true, spin: newSpinner(c), width: 76}
}

func (s *invitationScreen) Title() string    { return "Invitation code" }
func (s *invitationScreen) SetSize(w, h int) { s.width, s.height = w, h }

// handlesEsc keeps esc while the connection is being made (going back
// then would leave it behind, unseen) and once it is made, to ask
// whether to cancel it. A renewed code's esc just goes back.
func (s *invitationScreen) handlesEsc() bool {
	return !s.renew && (s.busy || s.cancelling || s.code != "")
}

// Init creates the invitation (or renews it) and writes its code to a
// file straight away, so the screen never claims a file that is not there
// yet.
func (s *invitationScreen) Init() tea.Cmd {
	node, ctx, d, dir := s.c.node, s.c.ctx, s.d, s.c.codeDir
	renew, id := s.renew, s.conn.ID
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		var (
			c    adminapi.Connection
			code string
			err  error
		)
		if renew {
			c, code, err = node.RenewInvitation(ctx, id)
		} else {
			c, code, err = node.Invite(ctx, adminapi.InviteRequest{To: d.to, Project: d.project.ID, Mode: d.mode})
		}
		msg := invitedMsg{conn: c, code: code, err: err}
		if err == nil && dir != "" {
			msg.path, msg.fileErr = writeCode(dir, c, code)
		}
		return msg
	})
}

// writeCode writes an invitation code to a file only its owner can read,
// named after the connection and the start of its id: a name can be given
// again once its connection is renamed (Acme_to_pending, accepted, is
// Acme_to_Globex), two names can clean to the same file name, and two
// nodes may share the folder, but the file of one connection is never
// another's. A new code for the same connection replaces its old one,
// which no longer works.
func writeCode(dir string, c adminapi.Connection, code string) (string, error) {
	id := c.ID // an identifier, as the node gave it: cleaned by fileName
	if len(id) > 8 {
		id = id[:8]
	}
	path := filepath.Join(dir, "invitation-"+fileName(c.Name)+"-"+fileName(id)+".txt")
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
	case invitationCancelledMsg:
		s.cancelling = false
		if msg.err != nil {
			s.err = fmt.Errorf("cancelling the invitation: %w", msg.err)
			return s, nil
		}
		if s.path != "" {
			_ = os.Remove(s.path) // its code works no more
		}
		return s, back
	case spinner.TickMsg:
		return s, spinWhile(s.busy || s.cancelling, &s.spin, msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	return s, nil
}

func (s *invitationScreen) key(msg tea.KeyMsg) (screen, tea.Cmd) {
	k := s.c.keys
	switch {
	case s.busy || s.cancelling:
	case s.asking:
		switch {
		case key.Matches(msg, k.Confirm):
			s.asking, s.cancelling, s.err = false, true, nil
			node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
			return s, tea.Batch(s.spin.Tick, func() tea.Msg { return invitationCancelledMsg{cancelInvitation(ctx, node, id)} })
		case key.Matches(msg, k.Cancel):
			s.asking = false
		}
	case s.code != "" && !s.renew && key.Matches(msg, k.CancelInvitation):
		s.asking = true
	case s.code != "" && s.c.clipboard != nil && key.Matches(msg, k.Copy):
		return s, s.copy()
	case key.Matches(msg, k.Done):
		if s.renew {
			return s, back // to the connection's page
		}
		return s, home
	}
	return s, nil
}

// cancelInvitation deletes the Pending connection id, unless its
// invitation was accepted meanwhile: then the connection is Active, and
// deleting it is not what cancelling an invitation means.
func cancelInvitation(ctx context.Context, node Node, id string) error {
	c, err := node.Connection(ctx, id)
	if err != nil {
		return err
	}
	if c.Status != adminapi.StatusPending {
		return fmt.Errorf("the invitation was accepted meanwhile: %s is %s, and was left as it is (delete it from its page if you mean to)",
			c.Name, statusName(c.Status))
	}
	return node.Delete(ctx, id)
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
	case s.busy && s.renew:
		return s.spin.View() + " Making a new invitation code…"
	case s.busy:
		return s.spin.View() + " Creating the connection and its invitation code…"
	case s.code == "" && s.renew:
		b.WriteString(s.c.errorLine(s.err) + "\n")
		b.WriteString(st.Faint.Render("Press esc to go back to the connection."))
		return b.String()
	case s.code == "":
		b.WriteString(s.c.errorLine(s.err) + "\n")
		b.WriteString(st.Faint.Render("Press esc to go back and change the connection."))
		return b.String()
	}
	title := "Send this invitation code to the other side's admin"
	if s.renew {
		title = "A new invitation code for " + s.conn.Name + "; the old one no longer works"
	}
	b.WriteString(st.Subtitle.Render(ansiWrap(title, s.width)) + "\n")
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
	switch {
	case s.cancelling:
		b.WriteString("\n" + s.spin.View() + " Cancelling the invitation…")
	case s.asking:
		b.WriteString("\n" + st.Warn.Render(ansiWrap("Cancel this invitation and go back? Its code stops working and "+s.conn.Name+" is deleted. y/n", s.width)))
	case s.renew:
		b.WriteString("\n" + st.Faint.Render(ansiWrap("Connection "+s.conn.Name+" is Pending until the code is accepted.", s.width)))
	default:
		b.WriteString("\n" + st.Faint.Render(ansiWrap("Connection "+s.conn.Name+" is Pending until the code is accepted. Enter keeps it; esc cancels it and goes back.", s.width)))
	}
	return b.String()
}

func (s *invitationScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	switch {
	case s.code == "" || s.cancelling:
		return nil
	case s.asking:
		return []key.Binding{k.Confirm, k.Cancel}
	}
	var ks []key.Binding
	if s.c.clipboard != nil {
		ks = append(ks, k.Copy)
	}
	ks = append(ks, k.Done)
	if !s.renew {
		ks = append(ks, k.CancelInvitation)
	}
	return ks
}
func (s *invitationScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
