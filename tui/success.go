package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// successScreen is "Connection established successfully ✓": it invites
// the admin to sync a first item, typed in or picked from the project's
// recent ones. Opened from a connection's page (again), it syncs one more.
type successScreen struct {
	c      *common
	again  bool
	conn   adminapi.Connection
	input  textinput.Model
	items  []adminapi.Item
	cursor int
	// listed is true once the recent items were read (or failed to be).
	listed  bool
	listErr error
	busy    bool
	err     error
	spin    spinner.Model
	rows    int
}

type recentItemsMsg struct {
	items []adminapi.Item
	err   error
}

type exalatedMsg struct {
	ev  adminapi.StageEvent
	err error
}

func newSuccessScreen(c *common, conn adminapi.Connection) *successScreen {
	ti := c.textInput(refHint(c.self.Vocabulary, "")+", or pick one below", 2048)
	return &successScreen{c: c, conn: conn, input: ti, cursor: -1, spin: newSpinner(c), rows: 6}
}

// itemOf and itemsOf name a tracker's items as its users do (Jira's
// issues, Asana's tasks), from the node's vocabulary: the console names no
// tracker. A node that has not said (its Info not loaded yet) has tasks.
func itemOf(v tracker.Vocabulary) string {
	if v.Item == "" {
		return "task"
	}
	return v.Item
}

func itemsOf(v tracker.Vocabulary) string {
	if v.Items == "" {
		return itemOf(v) + "s"
	}
	return v.Items
}

// refHint says what a reference looks like on the node's tracker, with
// example (a reference to an item that exists, "" for none).
func refHint(v tracker.Vocabulary, example string) string {
	if v.RefHint == "" {
		v.RefHint = "a task id or link"
	}
	return v.Hint(example)
}

// hint is refHint with the project's most recent item as the example:
// one of this project, that exists (an example key of another project
// would mislead), once the recent items are read.
func (s *successScreen) hint() string {
	example := ""
	if len(s.items) > 0 {
		example = s.items[0].Key
	}
	return refHint(s.c.self.Vocabulary, example)
}

// newExalateScreen is the same screen for any later item, from the
// connection's page.
func newExalateScreen(c *common, conn adminapi.Connection) *successScreen {
	s := newSuccessScreen(c, conn)
	s.again = true
	return s
}

func (s *successScreen) Title() string {
	if s.again {
		return "Exalate"
	}
	return "Connection established"
}
func (s *successScreen) SetSize(w, h int) {
	s.input.Width = max(w-4, 10)
	s.rows = max(h-12, 2)
}
func (s *successScreen) capturing() bool { return true }

func (s *successScreen) Init() tea.Cmd {
	node, ctx, project := s.c.node, s.c.ctx, s.conn.LocalProject
	return tea.Batch(textinput.Blink, func() tea.Msg {
		items, err := node.RecentItems(ctx, project, 10)
		return recentItemsMsg{items, err}
	})
}

func (s *successScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case recentItemsMsg:
		s.listed, s.items, s.listErr = true, msg.items, msg.err
		s.input.Placeholder = s.hint() + ", or pick one below"
		return s, nil
	case exalatedMsg:
		s.busy = false
		if msg.err != nil {
			s.err = msg.err
			return s, nil
		}
		// The field is for the next item when the admin comes back: the
		// key just synced would otherwise prefix the next one typed.
		summary := s.summaryOf(msg.ev.EntityID)
		s.input.Reset()
		s.cursor = -1
		return s, push(newSyncScreen(s.c, s.conn, msg.ev).withSummary(summary).asFirst(!s.again))
	case spinner.TickMsg:
		return s, spinWhile(s.busy, &s.spin, msg)
	case tea.KeyMsg:
		if s.busy {
			return s, nil
		}
		switch {
		case key.Matches(msg, s.c.keys.Down) && len(s.items) > 0:
			s.cursor = min(s.cursor+1, len(s.items)-1)
			return s, nil
		case key.Matches(msg, s.c.keys.Up) && s.cursor >= 0:
			s.cursor--
			return s, nil
		case key.Matches(msg, s.c.keys.Exalate):
			return s, s.exalate()
		}
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		s.cursor, s.err = -1, nil
		return s, cmd
	}
	return s, nil
}

// summaryOf is the summary of a listed item, "" if it isn't listed.
func (s *successScreen) summaryOf(id string) string {
	for _, it := range s.items {
		if it.ID == id {
			return it.Summary
		}
	}
	return ""
}

// exalate syncs what was typed or, with nothing typed, the picked item.
func (s *successScreen) exalate() tea.Cmd {
	ref := strings.TrimSpace(s.input.Value())
	if s.cursor >= 0 && s.cursor < len(s.items) {
		ref = s.items[s.cursor].ID
	}
	if ref == "" {
		s.err = errors.New("enter " + s.hint() + " from " + s.conn.LocalProjectName + ", or pick one with ↓")
		return nil
	}
	s.busy, s.err = true, nil
	node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		ev, err := node.Exalate(ctx, id, ref)
		return exalatedMsg{ev, err}
	})
}

func (s *successScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	other := s.conn.RemoteName
	switch {
	case s.conn.Local:
		other = s.c.self.Name
	case other == "":
		other = "the other side"
	}
	if s.conn.RemoteProjectName != "" {
		other += " / " + s.conn.RemoteProjectName
	}
	if s.again {
		b.WriteString(st.Faint.Render(s.conn.Name+": "+s.c.self.Name+" / "+s.conn.LocalProjectName+" ↔ "+other) + "\n\n")
		if s.conn.Status == adminapi.StatusPending {
			b.WriteString(st.Warn.Render(wrapText("The invitation is not accepted yet: the sync waits for it, then goes by itself.", s.c.width)) + "\n")
		}
		b.WriteString(wrapText("Sync one item of "+s.conn.LocalProjectName+" now: enter "+s.hint()+":", s.c.width) + "\n")
	} else {
		b.WriteString(st.OK.Render("Connection established successfully ✓") + "\n")
		b.WriteString(st.Faint.Render(s.conn.Name+": "+s.c.self.Name+" / "+s.conn.LocalProjectName+" ↔ "+other) + "\n\n")
		words := s.c.self.Vocabulary
		b.WriteString("Sync your first " + itemOf(words) + " to see how it works.\n" +
			wrapText("Enter "+s.hint()+" from the project "+s.conn.LocalProjectName+" to proceed:", s.c.width) + "\n")
	}
	b.WriteString(s.input.View() + "\n")
	switch {
	case !s.listed:
	case s.listErr != nil:
		b.WriteString(s.c.errorLine(s.listErr) + "\n")
	case len(s.items) == 0:
		b.WriteString(st.Faint.Render("  The project has no "+itemsOf(s.c.self.Vocabulary)+" yet.") + "\n")
	default:
		b.WriteString(st.Faint.Render("Recent "+itemsOf(s.c.self.Vocabulary)+":") + "\n")
		start := 0
		if s.cursor >= s.rows {
			start = s.cursor - s.rows + 1
		}
		for i := start; i < min(start+s.rows, len(s.items)); i++ {
			it := s.items[i]
			label := truncate(it.Summary, 52)
			if i == s.cursor {
				b.WriteString(st.Selected.Render("› "+label) + st.Faint.Render("  "+it.Key) + "\n")
			} else {
				b.WriteString("  " + label + st.Faint.Render("  "+it.Key) + "\n")
			}
		}
	}
	switch {
	case s.busy:
		b.WriteString("\n" + s.spin.View() + " Starting the sync…")
	case s.err != nil:
		b.WriteString("\n" + s.c.errorLine(s.err))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *successScreen) ShortHelp() []key.Binding {
	return []key.Binding{s.c.keys.Exalate, s.c.keys.Down}
}
func (s *successScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
