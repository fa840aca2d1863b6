package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// testRunScreen runs the draft on a real item and writes nothing: an item
// of the project is picked (or its key or link typed), tab says which
// script, and the result shows what the outgoing script would send (the
// replica) or the changes the incoming one would make on the last replica
// received, with what the script printed and its error by line.
type testRunScreen struct {
	c    *common
	conn adminapi.Connection
	pick picker
	// incoming runs the incoming script; false, the outgoing one.
	incoming bool

	listed  bool
	listErr error
	busy    string
	err     error
	run     *adminapi.TestRun
	spin    spinner.Model
	vp      viewport.Model
	width   int
	height  int
}

type testRunMsg struct {
	run adminapi.TestRun
	err error
}

func newTestRunScreen(c *common, conn adminapi.Connection) *testRunScreen {
	p := newPicker(c, "type to filter, or a key or link")
	return &testRunScreen{c: c, conn: conn, pick: p, spin: newSpinner(c), vp: viewport.New(78, 10), width: 78, height: 17}
}

func (s *testRunScreen) Title() string { return "Test run" }

func (s *testRunScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.pick.filter.Width = max(w-12, 10)
	s.pick.height = max(h-8, 3)
	s.vp.Width, s.vp.Height = w, max(h-2, 3)
	s.fill()
}

// capturing keeps q and ? for the filter while an item is picked.
func (s *testRunScreen) capturing() bool { return s.run == nil }

// handlesEsc goes from a result back to picking, rather than leaving.
func (s *testRunScreen) handlesEsc() bool { return s.run != nil }

func (s *testRunScreen) Init() tea.Cmd {
	node, ctx, project := s.c.node, s.c.ctx, s.conn.LocalProject
	return tea.Batch(textinput.Blink, func() tea.Msg {
		items, err := node.RecentItems(ctx, project, 10)
		return recentItemsMsg{items, err}
	})
}

func (s *testRunScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case recentItemsMsg:
		s.listed, s.listErr = true, msg.err
		var cs []choice
		for _, it := range msg.items {
			cs = append(cs, choice{ID: it.ID, Label: truncate(it.Summary, 52), Note: it.Key})
		}
		s.pick.SetChoices(cs)
		return s, nil
	case testRunMsg:
		s.busy, s.err = "", msg.err
		if msg.err == nil {
			run := msg.run
			s.run = &run
			s.vp.GotoTop()
			s.fill()
		}
		return s, nil
	case spinner.TickMsg:
		return s, spinWhile(s.busy != "", &s.spin, msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	return s, s.pick.Update(msg)
}

func (s *testRunScreen) key(msg tea.KeyMsg) (screen, tea.Cmd) {
	k := s.c.keys
	switch {
	case s.busy != "":
		return s, nil
	case s.run != nil:
		switch {
		case key.Matches(msg, k.Back):
			s.run = nil
		case scroll(&s.vp, k, msg):
		}
		return s, nil
	case key.Matches(msg, k.Direction):
		s.incoming = !s.incoming
		return s, nil
	case key.Matches(msg, k.RunTest):
		return s, s.start()
	}
	s.err = nil
	return s, s.pick.Update(msg)
}

// direction is the script run, as the admin API names it.
func (s *testRunScreen) direction() string {
	if s.incoming {
		return adminapi.TestIncoming
	}
	return adminapi.TestOutgoing
}

// start runs the draft on the picked item, or on what was typed when
// nothing listed matches it.
func (s *testRunScreen) start() tea.Cmd {
	ref := ""
	if ch, ok := s.pick.Selected(); ok {
		ref = ch.ID
	} else {
		ref = strings.TrimSpace(s.pick.filter.Value())
	}
	if ref == "" {
		example := ""
		if len(s.pick.all) > 0 {
			example = s.pick.all[0].Note
		}
		s.err = errors.New("pick " + itemOf(s.c.self.Vocabulary) + " with ↑/↓, or type " + refHint(s.c.self.Vocabulary, example))
		return nil
	}
	s.busy, s.err = "Running the draft's "+s.direction()+" script", nil
	node, ctx, id, dir := s.c.node, s.c.ctx, s.conn.ID, s.direction()
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		run, err := node.TestRun(ctx, id, adminapi.TestRunRequest{Ref: ref, Direction: dir, Version: adminapi.DraftVersion})
		return testRunMsg{run, err}
	})
}

// fill puts the result in the viewport: what the script printed, its
// error, the changes, the replica and the notes.
func (s *testRunScreen) fill() {
	r := s.run
	if r == nil {
		return
	}
	st := s.c.styles
	var lines []string
	section := func(title string, body []string) {
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, st.Header.Render(title))
		for _, l := range body {
			lines = append(lines, ansi.Truncate("  "+expandTabs(l), s.width, "…"))
		}
	}
	if r.Error != "" {
		// The script and line, then the message under it.
		where, msg := "the script failed", r.Error
		if loc, ok := findScriptLoc(r.Error); ok {
			where, msg = loc.String(), loc.Msg
		}
		lines = append(lines, st.Error.Render("✗ "+where))
		for _, l := range strings.Split(ansiWrap("  "+msg, s.width), "\n") {
			lines = append(lines, st.Error.Render(l))
		}
	}
	if r.Log != "" {
		section("Printed", strings.Split(strings.TrimRight(r.Log, "\n"), "\n"))
	}
	if r.Direction == adminapi.TestIncoming && r.Error == "" {
		changes := r.Changes
		if len(changes) == 0 {
			changes = []string{"nothing: the item would stay as it is"}
		}
		section("Changes it would make", changes)
	}
	if r.Replica != "" {
		title := "Replica it would send"
		if r.Direction == adminapi.TestIncoming {
			title = "Replica received"
		}
		section(title, strings.Split(strings.TrimRight(r.Replica, "\n"), "\n"))
	}
	if len(r.Notes) > 0 {
		section("Notes", r.Notes)
	}
	s.vp.SetContent(strings.Join(lines, "\n"))
}

func (s *testRunScreen) View() string {
	st := s.c.styles
	if r := s.run; r != nil {
		head := fmt.Sprintf("The draft's %s script on %s", r.Direction, r.Item)
		return ansi.Truncate(st.Subtitle.Render(head)+st.Faint.Render(" · nothing was written"), s.width, "…") + "\n\n" + s.vp.View()
	}
	var b strings.Builder
	b.WriteString(ansi.Truncate("Run the draft on one of "+s.conn.LocalProjectName+"'s "+itemsOf(s.c.self.Vocabulary)+
		"; nothing is written.", s.width, "…") + "\n")
	out, in := "  outgoing", "  incoming"
	if s.incoming {
		in = st.Selected.Render("› incoming")
	} else {
		out = st.Selected.Render("› outgoing")
	}
	b.WriteString("Script: " + out + st.Faint.Render(" (the replica it sends)") + "  " + in + st.Faint.Render(" (the changes it makes)") + "\n\n")
	switch {
	case !s.listed:
		b.WriteString(s.pick.filter.View())
	case s.listErr != nil:
		b.WriteString(s.pick.filter.View() + "\n" + s.c.errorLine(s.listErr))
	default:
		b.WriteString(s.pick.View())
	}
	switch {
	case s.busy != "":
		b.WriteString("\n\n" + s.spin.View() + " " + s.busy + "…")
	case s.err != nil:
		b.WriteString("\n\n" + s.c.errorLine(s.err))
	}
	return b.String()
}

func (s *testRunScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	if s.run != nil {
		return []key.Binding{k.Scroll, k.Previous}
	}
	return []key.Binding{k.RunTest, k.Direction, k.Up, k.Down}
}

func (s *testRunScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.RunTest, k.Direction}, {k.Up, k.Down}, {k.Scroll, k.PageUp, k.PageDown, k.Previous}}
}
