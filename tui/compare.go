package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// compareScreen shows two versions of a connection's scripts compared
// (CompareScripts), as a coloured unified diff: the version in force
// against the draft to start with; tab picks which end to change and ←/→
// its version, among the published ones and the draft.
type compareScreen struct {
	c    *common
	conn adminapi.Connection
	from int
	to   int
	// toEnd says ←/→ change the "to" end; false, the "from" end.
	toEnd bool

	versions []adminapi.ScriptVersion // newest first
	diff     *adminapi.ScriptDiff
	err      error
	loading  bool
	spin     spinner.Model
	vp       viewport.Model
	width    int
	height   int
}

type (
	scriptVersionsMsg struct {
		versions []adminapi.ScriptVersion
		err      error
	}
	scriptDiffMsg struct {
		diff adminapi.ScriptDiff
		err  error
	}
)

// newCompareScreen compares version from with version to
// (adminapi.DraftVersion: the draft).
func newCompareScreen(c *common, conn adminapi.Connection, from, to int) *compareScreen {
	return &compareScreen{c: c, conn: conn, from: from, to: to, toEnd: true, spin: newSpinner(c), vp: viewport.New(78, 12), width: 78, height: 17}
}

func (s *compareScreen) Title() string { return "Compare scripts" }

func (s *compareScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.vp.Width, s.vp.Height = w, max(h-3, 3)
	s.fill()
}

func (s *compareScreen) Init() tea.Cmd {
	node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
	return tea.Batch(s.spin.Tick, s.load(), func() tea.Msg {
		vs, err := node.ScriptVersions(ctx, id)
		return scriptVersionsMsg{vs, err}
	})
}

func (s *compareScreen) load() tea.Cmd {
	s.loading = true
	node, ctx, id, from, to := s.c.node, s.c.ctx, s.conn.ID, s.from, s.to
	return func() tea.Msg {
		d, err := node.CompareScripts(ctx, id, from, to)
		return scriptDiffMsg{d, err}
	}
}

func (s *compareScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case scriptVersionsMsg:
		if msg.err == nil {
			s.versions = msg.versions
		}
	case scriptDiffMsg:
		// An answer for ends changed since is not the one on screen.
		if msg.err == nil && (msg.diff.From != s.from || msg.diff.To != s.to) {
			return s, nil
		}
		s.loading, s.err = false, msg.err
		if msg.err == nil {
			d := msg.diff
			s.diff = &d
			s.vp.GotoTop()
			s.fill()
		}
	case spinner.TickMsg:
		return s, spinWhile(s.loading, &s.spin, msg)
	case tea.KeyMsg:
		k := s.c.keys
		switch {
		case scroll(&s.vp, k, msg):
		case key.Matches(msg, k.FromTo):
			s.toEnd = !s.toEnd
		case key.Matches(msg, k.Versions):
			if s.step(msg.String() == "right") {
				return s, tea.Batch(s.spin.Tick, s.load())
			}
		}
	}
	return s, nil
}

// choices are the versions either end can be, oldest first, then the
// draft.
func (s *compareScreen) choices() []int {
	var out []int
	for i := len(s.versions) - 1; i >= 0; i-- {
		out = append(out, s.versions[i].Version)
	}
	return append(out, adminapi.DraftVersion)
}

// step moves the chosen end to the next newer (or older) version; false
// when there is none.
func (s *compareScreen) step(newer bool) bool {
	end := &s.from
	if s.toEnd {
		end = &s.to
	}
	cs := versionList(s.choices())
	i := cs.index(*end)
	switch {
	case i < 0:
		return false
	case newer && i+1 < len(cs):
		*end = cs[i+1]
	case !newer && i > 0:
		*end = cs[i-1]
	default:
		return false
	}
	return true
}

// versionList is versions in order, for stepping through them.
type versionList []int

func (cs versionList) index(v int) int {
	for i, c := range cs {
		if c == v {
			return i
		}
	}
	return -1
}

// fill puts the diff in the viewport.
func (s *compareScreen) fill() {
	if s.diff == nil {
		return
	}
	var lines []string
	for _, d := range []string{s.diff.Outgoing, s.diff.Incoming} {
		if d == "" {
			continue
		}
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		for _, l := range diffLines(s.c.styles, d) {
			lines = append(lines, ansi.Truncate(l, s.width, "…"))
		}
	}
	s.vp.SetContent(strings.Join(lines, "\n"))
}

// versionName names a version for the header.
func versionName(v, published int) string {
	switch {
	case v == adminapi.DraftVersion:
		return "the draft"
	case v == published:
		return fmt.Sprintf("v%d (in force)", v)
	}
	return fmt.Sprintf("v%d", v)
}

func (s *compareScreen) View() string {
	st := s.c.styles
	published := 0
	if len(s.versions) > 0 {
		published = s.versions[0].Version
	}
	end := func(v int, chosen bool) string {
		name := versionName(v, published)
		if chosen {
			return st.Selected.Render("‹" + name + "›")
		}
		return name
	}
	head := s.conn.Name + ": " + end(s.from, !s.toEnd) + st.Faint.Render(" → ") + end(s.to, s.toEnd)
	parts := []string{ansi.Truncate(head, s.width, "…"), ""}
	switch {
	case s.err != nil:
		parts = append(parts, s.c.errorLine(fmt.Errorf("comparing the scripts: %w", s.err)))
	case s.diff == nil:
		parts = append(parts, s.spin.View()+" Comparing…")
	case s.diff.Outgoing == "" && s.diff.Incoming == "":
		parts = append(parts, st.Faint.Render("No difference: the two scripts are the same in both."))
	default:
		parts = append(parts, s.vp.View())
	}
	return strings.Join(parts, "\n")
}

func (s *compareScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	return []key.Binding{k.FromTo, k.Versions, k.Scroll}
}

func (s *compareScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.FromTo, k.Versions}, {k.Scroll, k.PageUp, k.PageDown}}
}
