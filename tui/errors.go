package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// errorsScreen lists the failing syncs, of the node (from the connections
// list) or of one connection (from its page), live: each with its item,
// the stage it stopped at, its error in one line, its failed tries and its
// next try. enter shows the whole error; r retries the picked sync now, R
// every one, and x resolves it (stops its retries) for a reason typed in.
type errorsScreen struct {
	c *common
	// conn is the connection listed; nil lists the whole node.
	conn *adminapi.Connection

	list    *adminapi.SyncErrors
	listErr error
	sel     int
	// full shows the picked sync's whole error instead of the list.
	full bool

	resolving bool
	input     textinput.Model
	busy      string
	done      string
	actionErr error

	// loading is true while a read is out; stale says a change arrived
	// meanwhile, so it reads once more when it returns.
	loading bool
	stale   bool
	spin    spinner.Model
	width   int
	height  int
}

type (
	errorsMsg struct {
		list adminapi.SyncErrors
		err  error
	}
	// errorsPollMsg reads the list again now and then: a sync's next try
	// comes closer, and failures come and go without a stage event.
	errorsPollMsg struct{}
	retriedMsg    struct {
		ev  adminapi.StageEvent
		n   int
		all bool
		err error
	}
	resolvedMsg struct {
		ev  adminapi.StageEvent
		err error
	}
)

// errorsPoll is how often the list is read again without news.
const errorsPoll = 2 * time.Second

// errorsLimit is how many failing syncs the screen reads.
const errorsLimit = 200

// newErrorsScreen lists the failing syncs of conn, or of the node when
// conn is nil.
func newErrorsScreen(c *common, conn *adminapi.Connection) *errorsScreen {
	return &errorsScreen{c: c, conn: conn, spin: newSpinner(c), width: 78, height: 17}
}

func (s *errorsScreen) Title() string { return "Errors" }

func (s *errorsScreen) SetSize(w, h int) { s.width, s.height = w, h; s.input.Width = max(w-4, 10) }

// capturing keeps q and ? for the reason while it is typed.
func (s *errorsScreen) capturing() bool { return s.resolving }

// handlesEsc closes the reason or the whole error rather than the page.
func (s *errorsScreen) handlesEsc() bool { return s.resolving || s.full }

func (s *errorsScreen) Init() tea.Cmd { return tea.Batch(s.spin.Tick, s.load(), s.poll()) }

// connID is the connection listed, "" for the node.
func (s *errorsScreen) connID() string {
	if s.conn == nil {
		return ""
	}
	return s.conn.ID
}

func (s *errorsScreen) load() tea.Cmd {
	if s.loading {
		s.stale = true
		return nil
	}
	s.loading = true
	node, ctx, id := s.c.node, s.c.ctx, s.connID()
	return func() tea.Msg {
		l, err := node.Errors(ctx, id, errorsLimit)
		return errorsMsg{l, err}
	}
}

func (s *errorsScreen) poll() tea.Cmd {
	return s.c.tick(errorsPoll, func(time.Time) tea.Msg { return errorsPollMsg{} })
}

// picked is the sync under the cursor; nil when there is none.
func (s *errorsScreen) picked() *adminapi.SyncError {
	if s.list == nil || s.sel >= len(s.list.Errors) {
		return nil
	}
	return &s.list.Errors[s.sel]
}

func (s *errorsScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case errorsMsg:
		s.loading, s.listErr = false, msg.err
		if msg.err == nil {
			s.keepPick(msg.list)
		}
		if s.stale {
			s.stale = false
			return s, s.load()
		}
		return s, nil
	case errorsPollMsg:
		return s, tea.Batch(s.load(), s.poll())
	case stageMsg:
		if msg.ev.Progress == nil && (s.conn == nil || msg.ev.ConnectionID == s.conn.ID) {
			return s, s.load()
		}
		return s, nil
	case revealMsg:
		// The poll chain broke while another page was on top.
		s.loading, s.stale = false, false
		return s, tea.Batch(s.load(), s.poll())
	case retriedMsg:
		s.busy, s.actionErr = "", msg.err
		switch {
		case msg.err != nil:
		case msg.all && msg.n == 0:
			s.done = "Nothing to retry here now: the failing syncs wait for their connection or the other node."
		case msg.all:
			s.done = fmt.Sprintf("✓ Retrying %d failing %s now.", msg.n, plural(msg.n, "sync", "syncs"))
		default:
			s.done = "✓ Retrying " + eventItem(msg.ev) + " now."
		}
		return s, s.load()
	case resolvedMsg:
		s.busy, s.actionErr = "", msg.err
		if msg.err == nil {
			s.resolving, s.full = false, false
			s.done = "✓ Resolved " + eventItem(msg.ev) + ": not retried any more; the reason is in its history."
		}
		return s, s.load()
	case spinner.TickMsg:
		return s, spinWhile(s.busy != "" || (s.list == nil && s.listErr == nil), &s.spin, msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	if s.resolving {
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return s, cmd
	}
	return s, nil
}

// keepPick takes a new list, keeping the cursor on the sync it was on.
func (s *errorsScreen) keepPick(l adminapi.SyncErrors) {
	id := ""
	if p := s.picked(); p != nil {
		id = p.EventID
	}
	s.list = &l
	s.sel = min(s.sel, max(len(l.Errors)-1, 0))
	for i, e := range l.Errors {
		if e.EventID == id {
			s.sel = i
		}
	}
	if s.picked() == nil {
		s.full = false
	}
}

func (s *errorsScreen) key(msg tea.KeyMsg) (screen, tea.Cmd) {
	k := s.c.keys
	switch {
	case s.busy != "":
		return s, nil
	case s.resolving:
		switch {
		case key.Matches(msg, k.Back):
			s.resolving, s.actionErr = false, nil
		case key.Matches(msg, k.ResolveGo):
			return s, s.resolve()
		default:
			var cmd tea.Cmd
			s.input, cmd = s.input.Update(msg)
			return s, cmd
		}
		return s, nil
	}
	switch {
	case s.full && key.Matches(msg, k.Back):
		s.full = false
	case key.Matches(msg, k.Up):
		s.sel = max(s.sel-1, 0)
	case key.Matches(msg, k.Down):
		if s.list != nil {
			s.sel = min(s.sel+1, max(len(s.list.Errors)-1, 0))
		}
	case key.Matches(msg, k.FullError):
		s.full = s.picked() != nil && !s.full
	case key.Matches(msg, k.OpenScript):
		return s, s.openScript()
	case key.Matches(msg, k.RetryOne):
		return s, s.retry()
	case key.Matches(msg, k.RetryAll):
		return s, s.retryAll()
	case key.Matches(msg, k.Resolve):
		if s.picked() == nil {
			return s, nil
		}
		s.done, s.actionErr = "", nil
		s.resolving = true
		s.input = s.c.textInput("why give it up? (required)", adminapi.MaxResolveReason)
		s.input.Width = max(s.width-4, 10)
		return s, textinput.Blink
	}
	return s, nil
}

func (s *errorsScreen) retry() tea.Cmd {
	p := s.picked()
	if p == nil {
		return nil
	}
	s.busy, s.done, s.actionErr = "Retrying "+errorItem(*p), "", nil
	node, ctx, conn, id := s.c.node, s.c.ctx, p.ConnectionID, p.EventID
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		ev, err := node.Retry(ctx, conn, id)
		return retriedMsg{ev: ev, err: err}
	})
}

func (s *errorsScreen) retryAll() tea.Cmd {
	if s.list == nil || len(s.list.Errors) == 0 {
		return nil
	}
	s.busy, s.done, s.actionErr = "Retrying every failing sync", "", nil
	node, ctx, conn := s.c.node, s.c.ctx, s.connID()
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		n, err := node.RetryAll(ctx, conn)
		return retriedMsg{n: n, all: true, err: err}
	})
}

func (s *errorsScreen) resolve() tea.Cmd {
	p := s.picked()
	reason := strings.TrimSpace(s.input.Value())
	switch {
	case p == nil:
		s.resolving = false
		return nil
	case reason == "":
		s.actionErr = errors.New("type why the sync is given up: the reason is recorded in the item's history")
		return nil
	}
	s.busy, s.actionErr = "Resolving "+errorItem(*p), nil
	node, ctx, conn, id := s.c.node, s.c.ctx, p.ConnectionID, p.EventID
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		ev, err := node.Resolve(ctx, conn, id, reason)
		return resolvedMsg{ev, err}
	})
}

func (s *errorsScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	switch {
	case s.resolving:
		return []key.Binding{k.ResolveGo, k.Back}
	case s.picked() == nil:
		return nil
	case s.full:
		return s.withOpen([]key.Binding{k.RetryOne, k.Resolve, k.Back})
	}
	return s.withOpen([]key.Binding{k.FullError, k.RetryOne, k.RetryAll, k.Resolve})
}

func (s *errorsScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.FullError}, {k.RetryOne, k.RetryAll, k.Resolve}}
}

// where names what the page lists: a connection, or the node.
func (s *errorsScreen) where() string {
	if s.conn != nil {
		return s.conn.Name
	}
	return s.c.self.Name + ", every connection"
}

func (s *errorsScreen) View() string {
	st := s.c.styles
	title := st.Subtitle.Render("Failing syncs on " + s.where())
	if s.list != nil {
		title += st.Faint.Render(" · " + itoa(s.list.Total))
	}
	parts := []string{ansi.Truncate(title, s.width, "…")}
	switch {
	case s.listErr != nil && s.list == nil:
		parts = append(parts, "", s.c.errorLine(fmt.Errorf("reading the failing syncs: %w", s.listErr)))
	case s.list == nil:
		parts = append(parts, "", s.spin.View()+" Reading the failing syncs…")
	case len(s.list.Errors) == 0:
		parts = append(parts, "", ansiWrap("No failing syncs. A sync that fails shows here with its error; it is retried on its own "+
			"until it goes through, or until it is resolved here.", s.width))
	case s.full:
		parts = append(parts, "", s.fullView())
	default:
		parts = append(parts, "", s.listView())
	}
	if line := s.actionView(); line != "" {
		parts = append(parts, "", line)
	}
	return strings.Join(parts, "\n")
}

// errorRows is how many syncs the list shows: two lines each, in what the
// title and the action line leave.
func (s *errorsScreen) errorRows() int {
	room := s.height - 3 // title, blank, header
	if s.busy != "" || s.done != "" || s.actionErr != nil || s.resolving {
		room -= 3
	}
	if s.resolving {
		room--
	}
	return max(room/2, 1)
}

// listView is the table: per sync a row and, under it, its error in one
// line (after its connection's name when the page lists the node).
func (s *errorsScreen) listView() string {
	st := s.c.styles
	l := s.list.Errors
	const stageW, triesW, nextW = 18, 5, 13
	itemW := max(s.width-(2+stageW+triesW+nextW+3*len(columnGap)), 8)
	row := func(cells ...string) string { return strings.Join(cells, columnGap) }
	head := []string{pad("Item", itemW), pad("Stage", stageW), pad("Tries", triesW), "Next try"}
	lines := []string{st.Header.Render("  " + row(head...))}
	rows := s.errorRows()
	first := max(0, min(s.sel-rows+1, len(l)-rows))
	for i := first; i < min(first+rows, len(l)); i++ {
		e := l[i]
		cells := []string{pad(truncate(errorItem(e), itemW), itemW), pad(adminapi.StageName(e.Stage), stageW),
			pad(itoa(e.Attempts), triesW), truncate(s.nextTry(e), nextW)}
		if i == s.sel {
			lines = append(lines, st.Selected.Render("› "+row(cells...)))
		} else {
			lines = append(lines, "  "+row(cells...))
		}
		why := "  ✗ "
		if s.conn == nil {
			why += e.ConnectionName + " · "
		}
		lines = append(lines, st.Error.Render(truncate(why+scriptErrorText(firstLine(e.Error)), s.width)))
	}
	if more := s.list.Total - len(l); more > 0 && first+rows >= len(l) {
		lines = append(lines, st.Faint.Render(fmt.Sprintf("  … and %d more (tandem errors --limit lists them)", more)))
	}
	return strings.Join(lines, "\n")
}

// fullView is the picked sync with its whole error.
func (s *errorsScreen) fullView() string {
	st := s.c.styles
	e := *s.picked()
	label := func(l string) string { return st.Faint.Render(pad(l, labelWidth)) }
	way := "sent to " + s.other(e)
	if e.Direction == directionIn {
		way = "received from " + s.other(e)
	}
	lines := []string{
		label("Item") + truncate(errorItem(e), s.width-labelWidth),
		label("Sync") + truncate(e.EventID+" · "+way, s.width-labelWidth),
		label("Stage") + adminapi.StageName(e.Stage) + st.Faint.Render(" since "+ago(s.c.now(), e.FailedAt)+", started "+ago(s.c.now(), e.Started)),
		label("Tries") + itoa(e.Attempts) + st.Faint.Render(" failed · next try "+s.nextTry(e)),
	}
	lines = append(append(lines, s.scriptRows(e, label)...), "", st.Error.Render(ansiWrap("✗ "+e.Error, s.width)))
	if e.Waits != "" {
		lines = append(lines, st.Faint.Render(ansiWrap("It waits for "+adminapi.WaitsName(e.Waits, s.other(e))+".", s.width)))
	}
	return strings.Join(lines, "\n")
}

// other names the other side of a failing sync's connection.
func (s *errorsScreen) other(e adminapi.SyncError) string {
	if s.conn != nil && s.conn.RemoteName != "" && !s.conn.Local {
		return s.conn.RemoteName
	}
	return "the other node"
}

// nextTry says, in a few cells, when a failing sync is tried next.
func (s *errorsScreen) nextTry(e adminapi.SyncError) string {
	switch {
	case e.Running:
		return "running now"
	case e.Waits == adminapi.WaitsActivation:
		return "on activation"
	case e.Waits == adminapi.WaitsAcceptance:
		return "on acceptance"
	case e.Waits == adminapi.WaitsOtherNode:
		return "by other node"
	case e.Waits != "" || e.NextRetry.IsZero():
		return "not scheduled"
	case !e.NextRetry.After(s.c.now()):
		return "now"
	}
	return "in " + adminapi.Span(e.NextRetry.Sub(s.c.now()))
}

func (s *errorsScreen) actionView() string {
	st := s.c.styles
	switch {
	case s.busy != "":
		return s.spin.View() + " " + s.busy + "…"
	case s.resolving:
		out := ansiWrap("Resolve "+errorItem(*s.picked())+": it is not retried any more. Why? (recorded in its history)", s.width) +
			"\n" + s.input.View()
		if s.actionErr != nil {
			out += "\n" + s.c.errorLine(s.actionErr)
		}
		return out
	case s.actionErr != nil:
		return s.c.errorLine(s.actionErr)
	case s.done != "":
		return st.OK.Render(ansiWrap(s.done, s.width))
	case s.listErr != nil:
		return s.c.errorLine(fmt.Errorf("reading the failing syncs again: %w", s.listErr))
	}
	return ""
}

// errorItem names a failing sync's item: its key here (or the other
// side's, while it has none here), then its summary.
func errorItem(e adminapi.SyncError) string { return itemName(e.LocalKey, e.RemoteKey, e.Summary) }

// eventItem names a sync's item by its key.
func eventItem(ev adminapi.StageEvent) string {
	if n := itemName(ev.LocalKey, ev.RemoteKey, ""); n != "" {
		return n
	}
	return "the sync"
}

func itemName(localKey, remoteKey, summary string) string {
	key := localKey
	if key == "" {
		key = remoteKey
	}
	if summary == "" {
		return key
	}
	return key + " " + summary
}

// firstLine is the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
