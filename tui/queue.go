package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// queueScreen is the sync queue, of the node (from the connections list)
// or of one connection (from its page), live: every sync that has not
// finished, oldest first, with its stage, where it stands (queued, in
// flight, waiting its turn behind an earlier sync of the same item,
// retrying, paused with its connection) and its age. enter follows the
// picked sync's stages.
type queueScreen struct {
	c *common
	// conn is the connection listed; nil lists the whole node.
	conn *adminapi.Connection

	q     *adminapi.SyncQueue
	qErr  error
	sel   int
	conns map[string]adminapi.Connection

	loading bool
	stale   bool
	spin    spinner.Model
	width   int
	height  int
}

type (
	queueMsg struct {
		q     adminapi.SyncQueue
		conns []adminapi.Connection
		err   error
	}
	// queuePollMsg reads the queue again now and then: ages grow, and a
	// sync waiting its turn moves on without a stage event of its own.
	queuePollMsg struct{}
)

// queuePoll is how often the queue is read again without news.
const queuePoll = 2 * time.Second

// queueLimit is how many open syncs the screen reads.
const queueLimit = 200

// newQueueScreen lists the open syncs of conn, or of the node when conn
// is nil.
func newQueueScreen(c *common, conn *adminapi.Connection) *queueScreen {
	return &queueScreen{c: c, conn: conn, spin: newSpinner(c), width: 78, height: 17}
}

func (s *queueScreen) Title() string { return "Sync queue" }

func (s *queueScreen) SetSize(w, h int) { s.width, s.height = w, h }

func (s *queueScreen) Init() tea.Cmd { return tea.Batch(s.spin.Tick, s.load(), s.poll()) }

func (s *queueScreen) load() tea.Cmd {
	if s.loading {
		s.stale = true
		return nil
	}
	s.loading = true
	node, ctx, id := s.c.node, s.c.ctx, ""
	if s.conn != nil {
		id = s.conn.ID
	}
	nodeWide := s.conn == nil
	return func() tea.Msg {
		q, err := node.Queue(ctx, id, queueLimit)
		m := queueMsg{q: q, err: err}
		if err == nil && nodeWide {
			// To follow a sync, its page needs its connection.
			m.conns, _ = node.Connections(ctx)
		}
		return m
	}
}

func (s *queueScreen) poll() tea.Cmd {
	return s.c.tick(queuePoll, func(time.Time) tea.Msg { return queuePollMsg{} })
}

func (s *queueScreen) picked() *adminapi.QueueEntry {
	if s.q == nil || s.sel >= len(s.q.Entries) {
		return nil
	}
	return &s.q.Entries[s.sel]
}

func (s *queueScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case queueMsg:
		s.loading, s.qErr = false, msg.err
		if msg.err == nil {
			id := ""
			if p := s.picked(); p != nil {
				id = p.EventID
			}
			q := msg.q
			s.q = &q
			s.sel = min(s.sel, max(len(q.Entries)-1, 0))
			for i, e := range q.Entries {
				if e.EventID == id {
					s.sel = i
				}
			}
			if msg.conns != nil {
				s.conns = map[string]adminapi.Connection{}
				for _, c := range msg.conns {
					s.conns[c.ID] = c
				}
			}
		}
		if s.stale {
			s.stale = false
			return s, s.load()
		}
		return s, nil
	case queuePollMsg:
		return s, tea.Batch(s.load(), s.poll())
	case stageMsg:
		if msg.ev.Progress == nil && (s.conn == nil || msg.ev.ConnectionID == s.conn.ID) {
			return s, s.load()
		}
		return s, nil
	case revealMsg:
		s.loading, s.stale = false, false
		return s, tea.Batch(s.load(), s.poll())
	case spinner.TickMsg:
		return s, spinWhile(s.q == nil && s.qErr == nil, &s.spin, msg)
	case tea.KeyMsg:
		k := s.c.keys
		switch {
		case key.Matches(msg, k.Up):
			s.sel = max(s.sel-1, 0)
		case key.Matches(msg, k.Down):
			if s.q != nil {
				s.sel = min(s.sel+1, max(len(s.q.Entries)-1, 0))
			}
		case key.Matches(msg, k.FollowOne):
			if p := s.picked(); p != nil {
				return s, push(newSyncScreen(s.c, s.connectionOf(*p), queuedEvent(*p)))
			}
		}
	}
	return s, nil
}

// connectionOf is the connection of a queued sync, as far as the page
// knows it.
func (s *queueScreen) connectionOf(e adminapi.QueueEntry) adminapi.Connection {
	if s.conn != nil {
		return *s.conn
	}
	if c, ok := s.conns[e.ConnectionID]; ok {
		return c
	}
	return adminapi.Connection{ID: e.ConnectionID, Name: e.ConnectionName}
}

// queuedEvent is a queued sync as the sync status page follows it.
func queuedEvent(e adminapi.QueueEntry) adminapi.StageEvent {
	return adminapi.StageEvent{ConnectionID: e.ConnectionID, EventID: e.EventID, Direction: e.Direction, EntityID: e.EntityID,
		Stage: e.Stage, Error: e.Error, NextRetry: e.NextRetry, At: e.StageSince, LocalKey: e.LocalKey, RemoteKey: e.RemoteKey}
}

func (s *queueScreen) ShortHelp() []key.Binding {
	if s.picked() == nil {
		return nil
	}
	return []key.Binding{s.c.keys.Up, s.c.keys.Down, s.c.keys.FollowOne}
}

func (s *queueScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{{s.c.keys.Up, s.c.keys.Down, s.c.keys.FollowOne}}
}

func (s *queueScreen) View() string {
	st := s.c.styles
	where := s.c.self.Name + ", every connection"
	if s.conn != nil {
		where = s.conn.Name
	}
	title := st.Subtitle.Render("Sync queue on " + where)
	if s.q != nil {
		title += st.Faint.Render(" · " + itoa(s.q.Total) + " open")
	}
	parts := []string{ansi.Truncate(title, s.width, "…")}
	switch {
	case s.qErr != nil && s.q == nil:
		parts = append(parts, "", s.c.errorLine(fmt.Errorf("reading the sync queue: %w", s.qErr)))
	case s.q == nil:
		parts = append(parts, "", s.spin.View()+" Reading the sync queue…")
	case len(s.q.Entries) == 0:
		parts = append(parts, "", ansiWrap("Nothing queued: every sync has finished. A sync waiting for a worker, for the other node, "+
			"for an earlier sync of the same item or for its connection to be activated shows here.", s.width))
	default:
		parts = append(parts, "", s.tableView())
		parts = append(parts, "", st.Faint.Render(ansiWrap(s.summary(), s.width)))
	}
	if s.qErr != nil && s.q != nil {
		parts = append(parts, "", s.c.errorLine(fmt.Errorf("reading the sync queue again: %w", s.qErr)))
	}
	return strings.Join(parts, "\n")
}

// queueColumns of the table: the item (after → for a sync this node
// sends, ← for one it receives), the connection (node-wide only), stage,
// state, age.
var queueColumns = []string{"Item", "Connection", "Stage", "State", "Age"}

func (s *queueScreen) cells(e adminapi.QueueEntry) []string {
	way := "→ "
	if e.Direction == directionIn {
		way = "← "
	}
	return []string{way + itemName(e.LocalKey, e.RemoteKey, e.Summary), e.ConnectionName, adminapi.StageName(e.Stage),
		adminapi.QueueStateName(e.State), adminapi.Span(s.c.now().Sub(e.Started))}
}

// When the screen is too narrow for the table, the item column gives up
// room first, down to its widest key (the summary after it is what
// enter shows), then the connection column, down to queueConnWidth, then
// the item column again, down to queueItemWidth: a connection's name is
// what tells two connections to the same node apart (Acme_to_Globex_2).
const (
	queueItemWidth = 12
	queueConnWidth = 12
)

// widths sizes the columns to their content, cut as above when the
// screen is too narrow.
func (s *queueScreen) widths() []int {
	w := make([]int, len(queueColumns))
	for i, t := range queueColumns {
		w[i] = lipgloss.Width(t)
	}
	keys := queueItemWidth
	for _, e := range s.q.Entries {
		for i, c := range s.cells(e) {
			w[i] = max(w[i], lipgloss.Width(c))
		}
		keys = max(keys, lipgloss.Width("→ "+itemName(e.LocalKey, e.RemoteKey, ""))+1) // and the … after it
	}
	cols := len(w)
	if s.conn != nil {
		w[1], cols = 0, cols-1
	}
	total := 2 + len(columnGap)*(cols-1)
	for _, x := range w {
		total += x
	}
	for over := total - s.width; over > 0; over-- {
		switch {
		case w[0] > keys:
			w[0]--
		case s.conn == nil && w[1] > queueConnWidth:
			w[1]--
		case w[0] > queueItemWidth:
			w[0]--
		default:
			return w
		}
	}
	return w
}

// tableView is the queue as a table, scrolled to keep the pick in sight.
func (s *queueScreen) tableView() string {
	st := s.c.styles
	w := s.widths()
	join := func(cells []string) string {
		var out []string
		for i, c := range cells {
			if i == 1 && s.conn != nil {
				continue
			}
			if i == len(cells)-1 {
				out = append(out, truncate(c, w[i]))
				continue
			}
			if i == 1 { // a connection's name: its end tells Acme_to_Globex_2 from Acme_to_Globex
				out = append(out, pad(truncateMiddle(c, w[i]), w[i]))
				continue
			}
			out = append(out, pad(truncate(c, w[i]), w[i]))
		}
		return strings.Join(out, columnGap)
	}
	lines := []string{st.Header.Render("  " + join(queueColumns))}
	rows := max(s.height-6, 1) // title, blank, header; blank and two lines of summary below
	l := s.q.Entries
	first := max(0, min(s.sel-rows+1, len(l)-rows))
	for i := first; i < min(first+rows, len(l)); i++ {
		cells := s.cells(l[i])
		if i == s.sel {
			lines = append(lines, st.Selected.Render("› "+join(cells)))
			continue
		}
		line := "  " + join(cells)
		switch l[i].State {
		case adminapi.QueueRetrying:
			line = st.Error.Render(line)
		case adminapi.QueuePaused, adminapi.QueueWaitingTurn:
			line = st.Faint.Render(line)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// summary counts the queue by state, and says more than the page shows.
func (s *queueScreen) summary() string {
	counts := map[string]int{}
	for _, e := range s.q.Entries {
		counts[e.State]++
	}
	var parts []string
	for _, state := range []string{adminapi.QueueInFlight, adminapi.QueueQueued, adminapi.QueueWaitingTurn, adminapi.QueueRetrying, adminapi.QueuePaused} {
		if n := counts[state]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(adminapi.QueueStateName(state))))
		}
	}
	out := strings.Join(parts, " · ")
	if more := s.q.Total - len(s.q.Entries); more > 0 {
		out += fmt.Sprintf(" · %d more not shown", more)
	}
	if counts[adminapi.QueuePaused] > 0 {
		out += ". Paused syncs go once their connection is active."
	}
	return out
}
