package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// connectionsScreen is the home page: the node's connections in a table.
type connectionsScreen struct {
	c       *common
	list    []adminapi.Connection
	cursor  int
	loading bool
	loaded  bool
	err     error
	spin    spinner.Model
	width   int
	height  int
}

type connectionsMsg struct {
	list []adminapi.Connection
	err  error
}

func newConnectionsScreen(c *common) *connectionsScreen {
	return &connectionsScreen{c: c, spin: newSpinner(c), loading: true, width: 78}
}

func (s *connectionsScreen) Title() string { return "Connections" }

func (s *connectionsScreen) SetSize(w, h int) { s.width, s.height = w, h }

func (s *connectionsScreen) Init() tea.Cmd { return tea.Batch(s.load(), s.spin.Tick) }

func (s *connectionsScreen) load() tea.Cmd {
	s.loading = true
	node, ctx := s.c.node, s.c.ctx
	return func() tea.Msg {
		list, err := node.Connections(ctx)
		return connectionsMsg{list, err}
	}
}

func (s *connectionsScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case connectionsMsg:
		s.loading, s.loaded, s.err = false, true, msg.err
		if msg.err == nil {
			s.list = msg.list
			s.cursor = min(s.cursor, max(len(s.list)-1, 0))
		}
		return s, nil
	case revealMsg:
		return s, s.load()
	case stageMsg:
		// A sync moved: counts and last-sync times may have changed (a
		// progress report changes neither).
		if !s.loading && msg.ev.Progress == nil {
			return s, s.load()
		}
		return s, nil
	case spinner.TickMsg:
		return s, spinWhile(s.loading || !s.loaded, &s.spin, msg)
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, s.c.keys.Up):
			s.cursor = max(s.cursor-1, 0)
		case key.Matches(msg, s.c.keys.Down):
			s.cursor = min(s.cursor+1, max(len(s.list)-1, 0))
		case key.Matches(msg, s.c.keys.Initiate):
			return s, push(newInitiateScreen(s.c))
		case key.Matches(msg, s.c.keys.Accept):
			return s, push(newAcceptScreen(s.c))
		case key.Matches(msg, s.c.keys.Refresh):
			return s, s.load()
		case key.Matches(msg, s.c.keys.Errors):
			return s, push(newErrorsScreen(s.c, nil))
		case key.Matches(msg, s.c.keys.Queue):
			return s, push(newQueueScreen(s.c, nil))
		case key.Matches(msg, s.c.keys.Open):
			if len(s.list) > 0 {
				return s, push(newConnectionScreen(s.c, s.list[s.cursor]))
			}
		}
	}
	return s, nil
}

// columns of the table: name, other side, mode, status, synced, queued
// (syncs not finished; shown while any connection has some), last sync.
var connectionColumns = []struct {
	title string
	// min is the narrowest the column is cut to when the screen is too
	// narrow for every column's content; 0 means never cut.
	min int
}{{"Name", 8}, {"Other side", 8}, {"Mode", 0}, {"Status", 0}, {"Synced", 0}, {"Queued", 0}, {"Last sync", 0}}

// queuedColumn is the Queued column's index in connectionColumns.
const queuedColumn = 5

// columnGap separates the table's columns.
const columnGap = "  "

// cells is a connection's row, before padding.
func (s *connectionsScreen) cells(c adminapi.Connection) []string {
	other := c.RemoteName
	if c.Local {
		other = "this node"
	}
	if c.RemoteProjectName != "" {
		other += " / " + c.RemoteProjectName
	}
	return []string{c.Name, other, modeName(c.Mode), statusName(c.Status), fmt.Sprint(c.SyncedItems), fmt.Sprint(c.Queued),
		ago(s.c.now(), c.LastSync)}
}

func (s *connectionsScreen) View() string {
	var b strings.Builder
	switch {
	case s.err != nil:
		b.WriteString(s.c.errorLine(fmt.Errorf("listing the connections: %w", s.err)) + "\n")
		b.WriteString(s.c.styles.Faint.Render("Press r to try again."))
		return b.String()
	case !s.loaded:
		return s.spin.View() + " Loading connections…"
	case len(s.list) == 0:
		b.WriteString("No connections yet.\n\n")
		b.WriteString("Press " + s.c.styles.Accent.Render("i") + " to initiate a connection with another tandem node,\n")
		b.WriteString("or " + s.c.styles.Accent.Render("a") + " to accept an invitation code another admin sent you.")
		return b.String()
	}
	widths := s.widths()
	var head []string
	for i, col := range connectionColumns {
		if widths[i] > 0 {
			head = append(head, pad(col.title, widths[i]))
		}
	}
	b.WriteString(s.c.styles.Header.Render("  "+strings.Join(head, columnGap)) + "\n")
	rows := max(s.height-2, 1)
	start := 0
	if s.cursor >= rows {
		start = s.cursor - rows + 1
	}
	for i := start; i < min(start+rows, len(s.list)); i++ {
		c := s.list[i]
		cells := s.cells(c)
		var line []string
		for j, cell := range cells {
			switch {
			case widths[j] == 0:
			case j == 0: // a name: its end tells Acme_to_Globex_2 from Acme_to_Globex
				line = append(line, pad(truncateMiddle(cell, widths[j]), widths[j]))
			default:
				line = append(line, pad(truncate(cell, widths[j]), widths[j]))
			}
		}
		if i == s.cursor {
			b.WriteString(s.c.styles.Selected.Render("› " + strings.Join(line, columnGap)))
		} else {
			line[3] = s.statusStyle(c.Status).Render(line[3])
			b.WriteString("  " + strings.Join(line, columnGap))
		}
		if i < len(s.list)-1 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func (s *connectionsScreen) statusStyle(status string) lipgloss.Style {
	switch status {
	case adminapi.StatusActive:
		return s.c.styles.OK
	case adminapi.StatusError:
		return s.c.styles.Error
	case adminapi.StatusPending:
		return s.c.styles.Warn
	}
	return s.c.styles.Faint
}

// widths sizes each column to its widest cell; when that is more than
// the screen, the Other side column gives up the difference first, down
// to its minimum, then the Name column: a name is what tells two
// connections to the same node apart (Acme_to_Globex, Acme_to_Globex_2).
func (s *connectionsScreen) widths() []int {
	w := make([]int, len(connectionColumns))
	for i, col := range connectionColumns {
		w[i] = lipgloss.Width(col.title)
	}
	queued := false
	for _, c := range s.list {
		for i, cell := range s.cells(c) {
			w[i] = max(w[i], lipgloss.Width(cell))
		}
		queued = queued || c.Queued > 0
	}
	cols := len(w)
	if !queued {
		w[queuedColumn], cols = 0, cols-1
	}
	total := 2 + len(columnGap)*(cols-1) // the cursor and the gaps
	for _, x := range w {
		total += x
	}
	least := func(i int) int { // a column is never cut narrower than its title
		return max(connectionColumns[i].min, lipgloss.Width(connectionColumns[i].title))
	}
	for over := total - s.width; over > 0; over-- {
		i := 1
		if w[1] <= least(1) {
			i = 0
		}
		if w[i] <= least(i) {
			break
		}
		w[i]--
	}
	return w
}

// pad fills s with spaces to w cells.
func pad(s string, w int) string {
	n := lipgloss.Width(s)
	if n >= w {
		return s
	}
	return s + strings.Repeat(" ", w-n)
}

func (s *connectionsScreen) ShortHelp() []key.Binding {
	if len(s.list) == 0 {
		return []key.Binding{s.c.keys.Initiate, s.c.keys.Accept}
	}
	// With connections to run, their keys come first.
	return []key.Binding{s.c.keys.Open, s.c.keys.Errors, s.c.keys.Queue, s.c.keys.Initiate, s.c.keys.Accept}
}

func (s *connectionsScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{{s.c.keys.Initiate, s.c.keys.Accept, s.c.keys.Open}, {s.c.keys.Up, s.c.keys.Down, s.c.keys.Refresh},
		{s.c.keys.Errors, s.c.keys.Queue}}
}
