package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// common is what every screen of one node's session shares: passed into
// each constructor, never reached through globals.
type common struct {
	ctx    context.Context
	node   Node
	self   adminapi.Instance
	styles *Styles
	keys   *keyMap
	// suggest is a destination URL offered on the Initiate screen (the
	// other demo node), "" when there is none.
	suggest      string
	suggestName  string
	suggestToken string
	// project is this node's usual project and suggestProject the
	// suggested node's: pickers start on them.
	project        string
	suggestProject string
	clipboard      func(string) error
	codeDir        string
	now            func() time.Time
	// tick is tea.Tick; tests replace it so no timer runs.
	tick func(time.Duration, func(time.Time) tea.Msg) tea.Cmd
	// staticCursor turns cursor blinking off (tests: no timers).
	staticCursor bool
	// width is the screens' width, for wrapping messages.
	width int
}

// textInput is a focused text input with the console's prompt.
func (c *common) textInput(placeholder string, limit int) textinput.Model {
	ti := textinput.New()
	ti.Prompt = "> "
	ti.Placeholder = placeholder
	ti.CharLimit = limit
	if c.staticCursor {
		ti.Cursor.SetMode(cursor.CursorStatic)
	}
	ti.Focus()
	return ti
}

// screen is one page of the console. Screens move the wizard by returning
// messages (push, back, home), never by reaching into the router.
type screen interface {
	Init() tea.Cmd
	Update(msg tea.Msg) (screen, tea.Cmd)
	View() string
	// Title names the screen in the header.
	Title() string
	help.KeyMap
	SetSize(width, height int)
}

// capturer is a screen whose focused text input takes printable keys, so q
// and ? are text there rather than commands.
type capturer interface{ capturing() bool }

// escHandler is a screen that uses esc itself (to close a dialog) when
// handlesEsc says so; otherwise esc goes back.
type escHandler interface{ handlesEsc() bool }

type (
	// pushMsg opens a screen on top of the current one.
	pushMsg struct{ s screen }
	// replaceMsg replaces the current screen (a wizard step that can't be
	// gone back to, such as an established connection).
	replaceMsg struct{ s screen }
	// backMsg closes the current screen.
	backMsg struct{}
	// homeMsg closes every screen down to Connections.
	homeMsg struct{}
	// resetMsg closes every screen down to Connections and opens s on it:
	// where a finished wizard lands, so esc goes home, not into the wizard.
	resetMsg struct{ s screen }
	// revealMsg tells a screen it is on top again, to refresh.
	revealMsg struct{}
	// stageMsg is a stage event from the node.
	stageMsg struct{ ev adminapi.StageEvent }
)

func push(s screen) tea.Cmd    { return func() tea.Msg { return pushMsg{s} } }
func replace(s screen) tea.Cmd { return func() tea.Msg { return replaceMsg{s} } }
func reset(s screen) tea.Cmd   { return func() tea.Msg { return resetMsg{s} } }
func back() tea.Msg            { return backMsg{} }
func home() tea.Msg            { return homeMsg{} }

// newSpinner is the spinner every screen shows while it waits.
// Its frames are one cell wide with no trailing space (spinner.Dot has
// one), so "spinner + space + text" lines up with "✓ text".
func newSpinner(c *common) spinner.Model {
	dot := spinner.Dot
	frames := make([]string, len(dot.Frames))
	for i, f := range dot.Frames {
		frames[i] = strings.TrimRight(f, " ")
	}
	dot.Frames = frames
	return spinner.New(spinner.WithSpinner(dot), spinner.WithStyle(c.styles.Accent))
}

// spinWhile turns a screen's spinner while it waits; a tick that comes
// once the wait is over stops the animation.
func spinWhile(waiting bool, sp *spinner.Model, tick spinner.TickMsg) tea.Cmd {
	if !waiting {
		return nil
	}
	var cmd tea.Cmd
	*sp, cmd = sp.Update(tick)
	return cmd
}

// errorLine shows an error where it happened, in one line the user can act on.
func (c *common) errorLine(err error) string {
	if err == nil {
		return ""
	}
	w := c.width
	if w <= 0 {
		w = 78
	}
	// The node's errors are cleaned already (cleanNode); the console's own
	// may quote a path or a pasted code, so the line is cleaned once more.
	return c.styles.Error.Render(wrapText("✗ "+sentence(termtext.Line(err.Error())), w))
}

// ansiWrap wraps plain text to w cells (78 when the width is not known
// yet) without cutting a URL or path that fits on a line (see wrapText).
func ansiWrap(text string, w int) string { return wrapText(text, w) }

// sentence capitalises a message for display.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ago says how long ago t was, for tables.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return t.Local().Format("2 Jan 2006")
}

// statusName is how a connection status reads on screen.
func statusName(s string) string {
	switch s {
	case adminapi.StatusPending:
		return "Pending"
	case adminapi.StatusActive:
		return "Active"
	case adminapi.StatusDeactivated:
		return "Deactivated"
	case adminapi.StatusError:
		return "Error"
	}
	return sentence(s)
}

// modeName is how a configuration mode reads on screen.
func modeName(m adminapi.Mode) string { return sentence(string(m)) }

// truncate cuts s to w cells with an ellipsis.
func truncate(s string, w int) string {
	r := []rune(s)
	if w <= 0 {
		return ""
	}
	if len(r) <= w {
		return s
	}
	if w == 1 {
		return "…"
	}
	return string(r[:w-1]) + "…"
}

// truncateMiddle cuts s to w cells by its middle, keeping both ends: for
// names that share a start and differ at the end (Acme_to_Globex,
// Acme_to_Globex_2 → "Acme_…Globex", "Acme_…obex_2").
func truncateMiddle(s string, w int) string {
	r := []rune(s)
	if len(r) <= w || w < 3 {
		return truncate(s, w)
	}
	head := (w - 1) / 2
	tail := w - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

func itoa(n int) string { return fmt.Sprint(n) }
