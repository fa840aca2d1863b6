package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// publishScreen publishes a connection's draft: it shows how the draft
// differs from the version in force and asks y/n. A draft that does not
// compile is refused here, with its errors by line, as the node would
// refuse it.
type publishScreen struct {
	c    *common
	conn adminapi.Connection

	sc   *adminapi.Scripts
	diff *adminapi.ScriptDiff
	err  error

	busy      bool
	published *adminapi.ScriptVersion
	pubErr    error
	spin      spinner.Model
	vp        viewport.Model
	width     int
	height    int
}

type (
	publishLoadedMsg struct {
		sc   adminapi.Scripts
		diff adminapi.ScriptDiff
		err  error
	}
	publishedMsg struct {
		v   adminapi.ScriptVersion
		err error
	}
)

// publishNote is what a version published from the console says of
// itself in its history.
const publishNote = "published in the console"

func newPublishScreen(c *common, conn adminapi.Connection) *publishScreen {
	return &publishScreen{c: c, conn: conn, spin: newSpinner(c), vp: viewport.New(78, 8), width: 78, height: 17}
}

func (s *publishScreen) Title() string { return "Publish the draft" }

func (s *publishScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.layout()
}

func (s *publishScreen) Init() tea.Cmd {
	node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		sc, err := node.Scripts(ctx, id)
		if err != nil {
			return publishLoadedMsg{err: err}
		}
		d, err := node.CompareScripts(ctx, id, sc.Published, adminapi.DraftVersion)
		return publishLoadedMsg{sc: sc, diff: d, err: err}
	})
}

func (s *publishScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case publishLoadedMsg:
		s.err = msg.err
		if msg.err == nil {
			sc, d := msg.sc, msg.diff
			s.sc, s.diff = &sc, &d
			s.layout()
		}
	case publishedMsg:
		s.busy, s.pubErr = false, msg.err
		if msg.err == nil {
			v := msg.v
			s.published = &v
		}
	case spinner.TickMsg:
		return s, spinWhile(s.busy || (s.sc == nil && s.err == nil), &s.spin, msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	return s, nil
}

func (s *publishScreen) key(msg tea.KeyMsg) (screen, tea.Cmd) {
	k := s.c.keys
	switch {
	case s.busy:
	case s.published != nil:
		if key.Matches(msg, k.Done) {
			return s, back
		}
	case scroll(&s.vp, k, msg):
	case key.Matches(msg, k.Confirm):
		if err := s.refusal(); err != nil {
			s.pubErr = err
			return s, nil
		}
		s.busy, s.pubErr = true, nil
		node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
		return s, tea.Batch(s.spin.Tick, func() tea.Msg {
			v, err := node.Publish(ctx, id, adminapi.PublishRequest{Note: publishNote})
			return publishedMsg{v, err}
		})
	case key.Matches(msg, k.Cancel):
		return s, back
	}
	return s, nil
}

// refusal says why the draft can't be published, nil when it can.
func (s *publishScreen) refusal() error {
	switch {
	case s.sc == nil:
		return errors.New("the draft is still being read; wait a moment")
	case len(s.sc.DraftErrors) > 0:
		return errors.New("the draft does not compile: fix the lines above (e on the Rules tab opens it), then publish")
	case !s.sc.DraftDiffers:
		return fmt.Errorf("the draft is version %d already: edit it first (e on the Rules tab)", s.sc.Published)
	}
	return nil
}

// errorLines are the draft's compile errors, by script and line.
func (s *publishScreen) errorLines() []string {
	var out []string
	for _, e := range s.sc.DraftErrors {
		text := e
		if loc, ok := findScriptLoc(e); ok {
			text = loc.String() + "  " + loc.Msg
		}
		out = append(out, s.c.styles.Error.Render(ansi.Truncate("✗ "+text, s.width, "…")))
	}
	return out
}

// layout gives the diff what the question and the errors leave.
func (s *publishScreen) layout() {
	// The title, two blank lines and the question (two lines, wrapped).
	used := 5
	if s.sc != nil {
		used += len(s.sc.DraftErrors)
	}
	s.vp.Width, s.vp.Height = s.width, max(s.height-used, 3)
	if s.diff == nil {
		return
	}
	var lines []string
	for _, d := range []string{s.diff.Outgoing, s.diff.Incoming} {
		for _, l := range diffLines(s.c.styles, d) {
			if d != "" {
				lines = append(lines, ansi.Truncate(l, s.width, "…"))
			}
		}
	}
	s.vp.SetContent(strings.Join(lines, "\n"))
}

func (s *publishScreen) View() string {
	st := s.c.styles
	switch {
	case s.err != nil:
		return s.c.errorLine(fmt.Errorf("reading the draft: %w", s.err))
	case s.sc == nil:
		return s.spin.View() + " Reading the draft…"
	}
	next := s.sc.Published + 1
	parts := []string{ansi.Truncate(s.conn.Name+": the draft against version "+itoa(s.sc.Published)+", in force", s.width, "…"), ""}
	if s.diff.Outgoing == "" && s.diff.Incoming == "" {
		parts = append(parts, st.Faint.Render("The draft is the version in force: nothing to publish."))
	} else {
		parts = append(parts, s.vp.View())
	}
	parts = append(parts, s.errorLines()...)
	parts = append(parts, "")
	switch {
	case s.published != nil:
		parts = append(parts, st.OK.Render(ansiWrap(fmt.Sprintf("✓ Published version %d: syncs from now on run it, and record it.", s.published.Version), s.width)))
	case s.busy:
		parts = append(parts, s.spin.View()+" Publishing…")
	case s.pubErr != nil:
		parts = append(parts, s.c.errorLine(s.pubErr))
	case len(s.sc.DraftErrors) > 0:
		parts = append(parts, st.Error.Render(ansiWrap("The draft can't be published until it compiles: e on the Rules tab opens it.", s.width)))
	case !s.sc.DraftDiffers:
		parts = append(parts, st.Faint.Render("Edit the draft first: e on the Rules tab."))
	default:
		parts = append(parts, st.Warn.Render(ansiWrap(fmt.Sprintf("Publish the draft as version %d? Syncs from now on run it. y/n", next), s.width)))
	}
	return strings.Join(parts, "\n")
}

func (s *publishScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	if s.published != nil {
		return []key.Binding{k.Done}
	}
	return []key.Binding{k.Confirm, k.Cancel, k.Scroll}
}

func (s *publishScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Confirm, k.Cancel}, {k.Scroll, k.PageUp, k.PageDown}}
}
