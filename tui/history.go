package tui

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// historyScreen is one item's history on a connection: its twin (or that
// it was unexalated), its recent syncs with the stages of the one under
// the cursor, and the item operations: unexalate (u, asked first) and
// link to an existing item on the other side (l).
type historyScreen struct {
	c    *common
	conn adminapi.Connection
	// ref is the item as the node knows it (its key, or its id); "" for
	// a sync received for an item that has none here yet, remote (its
	// key on the other side).
	ref, remote string

	hist    *adminapi.ItemHistory
	histErr error
	sel     int

	confirm bool
	linking bool
	input   textinput.Model
	winner  string
	busy    string
	done    string
	err     error
	spin    spinner.Model
	width   int
	height  int
}

type (
	historyMsg struct {
		h   adminapi.ItemHistory
		err error
	}
	unexalatedMsg struct {
		res adminapi.UnexalateResult
		err error
	}
	linkedMsg struct {
		res adminapi.LinkResult
		err error
	}
)

// historyLimit is how many of an item's syncs the screen reads.
const historyLimit = 10

// newHistoryScreen opens the history of the item of ev (one of conn's
// syncs).
func newHistoryScreen(c *common, conn adminapi.Connection, ev adminapi.StageEvent) *historyScreen {
	ref := ev.LocalKey
	if ref == "" {
		ref = ev.EntityID
	}
	return &historyScreen{c: c, conn: conn, ref: ref, remote: ev.RemoteKey, spin: newSpinner(c), winner: adminapi.WinnerLocal, width: 78, height: 17}
}

func (s *historyScreen) Title() string    { return "Item history" }
func (s *historyScreen) SetSize(w, h int) { s.width, s.height = w, h; s.input.Width = max(w-4, 10) }

// capturing keeps q and ? for the text field while a link is typed.
func (s *historyScreen) capturing() bool { return s.linking }

// handlesEsc closes the question or the link field rather than the page.
func (s *historyScreen) handlesEsc() bool { return s.confirm || s.linking }

func (s *historyScreen) Init() tea.Cmd { return tea.Batch(s.spin.Tick, s.load()) }

func (s *historyScreen) load() tea.Cmd {
	if s.ref == "" {
		s.histErr = fmt.Errorf("%s has no item on this side yet: its history here starts once its first sync is applied (E lists the syncs that fail)",
			cmp.Or(s.remote, "this sync's item"))
		return nil
	}
	node, ctx, id, ref := s.c.node, s.c.ctx, s.conn.ID, s.ref
	return func() tea.Msg {
		h, err := node.ItemHistory(ctx, id, ref, historyLimit)
		return historyMsg{h, err}
	}
}

func (s *historyScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case historyMsg:
		s.histErr = msg.err
		if msg.err == nil {
			h := msg.h
			s.hist = &h
			s.sel = min(s.sel, max(len(h.Syncs)-1, 0))
		}
		return s, nil
	case unexalatedMsg:
		s.busy, s.err = "", msg.err
		if msg.err == nil {
			s.done = fmt.Sprintf("✓ Unexalated: %s and %s no longer sync; nothing was deleted in either tracker.", msg.res.LocalKey, msg.res.RemoteKey)
		}
		return s, s.load()
	case linkedMsg:
		s.busy, s.err = "", msg.err
		if msg.err == nil {
			s.linking = false
			s.done = fmt.Sprintf("✓ Linked %s ↔ %s; %d comments and %d attachments were on both sides already.",
				msg.res.LocalKey, msg.res.RemoteKey, msg.res.MatchedComments, msg.res.MatchedAttachments)
		}
		return s, s.load()
	case stageMsg:
		if s.hist != nil && msg.ev.ConnectionID == s.conn.ID && msg.ev.EntityID == s.hist.EntityID && msg.ev.Progress == nil {
			return s, s.load()
		}
		return s, nil
	case revealMsg:
		return s, s.load()
	case spinner.TickMsg:
		return s, spinWhile(s.busy != "" || (s.hist == nil && s.histErr == nil), &s.spin, msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	if s.linking {
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return s, cmd
	}
	return s, nil
}

func (s *historyScreen) key(msg tea.KeyMsg) (screen, tea.Cmd) {
	k := s.c.keys
	switch {
	case s.busy != "":
		return s, nil
	case s.confirm:
		switch {
		case key.Matches(msg, k.Confirm):
			s.confirm = false
			return s, s.unexalate()
		case key.Matches(msg, k.Cancel):
			s.confirm = false
		}
		return s, nil
	case s.linking:
		switch {
		case key.Matches(msg, k.Back):
			s.linking = false
		case key.Matches(msg, k.Winner):
			if s.winner == adminapi.WinnerLocal {
				s.winner = adminapi.WinnerRemote
			} else {
				s.winner = adminapi.WinnerLocal
			}
		case key.Matches(msg, k.LinkGo):
			return s, s.link()
		default:
			var cmd tea.Cmd
			s.input, cmd = s.input.Update(msg)
			return s, cmd
		}
		return s, nil
	}
	switch {
	case key.Matches(msg, k.Up):
		s.sel = max(s.sel-1, 0)
	case key.Matches(msg, k.Down):
		if s.hist != nil {
			s.sel = min(s.sel+1, max(len(s.hist.Syncs)-1, 0))
		}
	case key.Matches(msg, k.Refresh):
		return s, s.load()
	case key.Matches(msg, k.Unexalate):
		s.done, s.err = "", nil
		if s.hist == nil || s.hist.RemoteKey == "" {
			s.err = errors.New("this item has no twin: there is nothing to unexalate (l links it to an item on the other side)")
			return s, nil
		}
		s.confirm = true
	case key.Matches(msg, k.Link):
		s.done, s.err = "", nil
		if s.hist != nil && s.hist.RemoteKey != "" {
			s.err = errors.New("this item has a twin already: unexalate it (u) before linking it to another")
			return s, nil
		}
		s.linking = true
		s.input = s.c.textInput("the other side's item: a key or link", 2048)
		s.input.Width = max(s.width-4, 10)
		return s, textinput.Blink
	}
	return s, nil
}

func (s *historyScreen) unexalate() tea.Cmd {
	s.busy, s.err = "Unexalating: asking "+s.other()+" to agree", nil
	node, ctx, id, ref := s.c.node, s.c.ctx, s.conn.ID, s.ref
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		res, err := node.Unexalate(ctx, id, ref)
		return unexalatedMsg{res, err}
	})
}

func (s *historyScreen) link() tea.Cmd {
	to := strings.TrimSpace(s.input.Value())
	if to == "" {
		s.err = errors.New("type the other side's item (its key or link), then enter")
		return nil
	}
	s.busy, s.err = "Linking: asking "+s.other()+" to agree", nil
	node, ctx := s.c.node, s.c.ctx
	req := adminapi.LinkRequest{Ref: s.ref, RemoteRef: to, Connection: s.conn.ID, Winner: s.winner}
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		res, err := node.LinkItems(ctx, req)
		return linkedMsg{res, err}
	})
}

// other names the other side.
func (s *historyScreen) other() string {
	if s.conn.Local || s.conn.RemoteName == "" {
		return "the other side"
	}
	return s.conn.RemoteName
}

func (s *historyScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	switch {
	case s.confirm:
		return []key.Binding{k.Confirm, k.Cancel}
	case s.linking:
		return []key.Binding{k.LinkGo, k.Winner, k.Back}
	}
	return []key.Binding{k.Up, k.Down, k.Unexalate, k.Link, k.Back}
}

func (s *historyScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.Refresh}, {k.Unexalate, k.Link, k.Back}}
}

// View draws the pair, the recent syncs and the stages of the selected one,
// then the question, the link field or what the last operation did.
func (s *historyScreen) View() string {
	st := s.c.styles
	var parts []string
	parts = append(parts, st.Subtitle.Render("History of "+termtext.Line(cmp.Or(s.ref, s.remote)))+st.Faint.Render(" · "+s.conn.Name))
	switch {
	case s.histErr != nil:
		parts = append(parts, "", s.c.errorLine(s.histErr))
	case s.hist == nil:
		parts = append(parts, "", s.spin.View()+" Loading the item's syncs…")
	default:
		parts = append(parts, s.pairView()...)
		parts = append(parts, "", s.syncsView())
		if stages := s.stagesView(); stages != "" {
			parts = append(parts, "", stages)
		}
	}
	if line := s.actionView(); line != "" {
		parts = append(parts, "", line)
	}
	return strings.Join(parts, "\n")
}

func (s *historyScreen) pairView() []string {
	st := s.c.styles
	h := s.hist
	label := func(l string) string { return st.Faint.Render(pad(l, labelWidth)) }
	lines := []string{label("This side") + h.LocalKey + "  " + st.Faint.Render(truncate(h.LocalURL, max(s.width-labelWidth-len(h.LocalKey)-2, 0)))}
	switch {
	case h.RemoteKey != "":
		lines = append(lines, label("Twin")+h.RemoteKey+"  "+st.Faint.Render(truncate(h.RemoteURL, max(s.width-labelWidth-len(h.RemoteKey)-2, 0))))
	case !h.UnexalatedAt.IsZero():
		lines = append(lines, label("Twin")+st.Warn.Render("none: unexalated "+ago(s.c.now(), h.UnexalatedAt))+
			st.Faint.Render(" (it was "+h.UnexalatedTwin+")"))
	default:
		lines = append(lines, label("Twin")+st.Faint.Render("none yet"))
	}
	return lines
}

// historyRows is how many syncs the list shows at most.
const historyRows = 5

func (s *historyScreen) syncsView() string {
	st := s.c.styles
	if len(s.hist.Syncs) == 0 {
		return st.Faint.Render("No syncs yet.")
	}
	lines := []string{st.Header.Render("  " + pad("When", 10) + pad("Way", 7) + pad("Stage", 20) + "Rules")}
	first := max(0, min(s.sel-historyRows+1, len(s.hist.Syncs)-historyRows))
	for i, ev := range s.hist.Syncs[first:min(first+historyRows, len(s.hist.Syncs))] {
		dir := "→ out"
		if ev.Direction == directionIn {
			dir = "← in"
		}
		rules := ev.RulesVersion
		if rules == "" {
			rules = "—"
		}
		stage := adminapi.StageName(ev.Stage)
		switch {
		case !ev.ResolvedAt.IsZero() && ev.Stage != adminapi.StageSynchronized:
			// (A result that came in anyway made it Synchronized.)
			stage = "Resolved"
		case ev.Error != "":
			stage = "✗ " + stage
		}
		line := pad(ago(s.c.now(), ev.At), 10) + pad(dir, 7) + pad(stage, 20) + rules
		if first+i == s.sel {
			lines = append(lines, st.Selected.Render("› "+line))
		} else {
			lines = append(lines, "  "+line)
		}
	}
	return strings.Join(lines, "\n")
}

// stagesView lists the selected sync's stages with the time each took to
// reach, and its error.
func (s *historyScreen) stagesView() string {
	st := s.c.styles
	if s.sel >= len(s.hist.Syncs) {
		return ""
	}
	ev := s.hist.Syncs[s.sel]
	var steps, failures []string
	for i, e := range ev.Stages {
		when := e.At.In(s.c.now().Location()).Format("15:04:05")
		if i > 0 {
			when = "+" + since(ev.Stages[0].At, e.At)
		}
		step := adminapi.StageName(e.Stage) + " " + when
		if e.Error != "" {
			step = "✗ " + step
			failures = append(failures, adminapi.StageName(e.Stage)+" "+when+": "+e.Error)
		}
		steps = append(steps, step)
	}
	lines := []string{ansiWrap(st.Faint.Render("Stages: ")+strings.Join(steps, " · "), s.width)}
	// A resolved sync says who gave it up and why; the latest failure, in
	// full: a sync that failed and is retried shows why; one that failed
	// before it went through shows it too.
	if !ev.ResolvedAt.IsZero() {
		lines = append(lines, st.Warn.Render(ansiWrap("Resolved "+ev.ResolvedAt.In(s.c.now().Location()).Format("2 Jan 15:04:05")+
			", not retried (it stopped at "+adminapi.StageName(ev.Stage)+"): "+ev.Resolution, s.width)))
		if ev.Error != "" {
			lines = append(lines, st.Faint.Render(ansiWrap("Its last failure: "+ev.Error, s.width)))
		}
	} else if ev.Error != "" {
		lines = append(lines, s.c.errorLine(errors.New(ev.Error)))
	} else if len(failures) > 0 {
		lines = append(lines, st.Faint.Render(ansiWrap("Failed before it went through: "+failures[len(failures)-1], s.width)))
	}
	return strings.Join(lines, "\n")
}

func (s *historyScreen) actionView() string {
	st := s.c.styles
	switch {
	case s.confirm:
		return st.Warn.Width(s.width).Render("Unexalate " + s.hist.LocalKey + " ↔ " + s.hist.RemoteKey + "? Both sides stop syncing the pair; " +
			"nothing is deleted in either tracker. y/n")
	case s.busy != "":
		return s.spin.View() + " " + s.busy + "…"
	case s.linking:
		win := "this side's"
		if s.winner == adminapi.WinnerRemote {
			win = s.other() + "'s"
		}
		out := ansiWrap("Link to an existing item on "+s.other()+"; "+win+" fields win the first sync (tab switches).", s.width) +
			"\n" + s.input.View()
		if s.err != nil {
			out += "\n" + s.c.errorLine(s.err)
		}
		return out
	case s.err != nil:
		return s.c.errorLine(s.err)
	case s.done != "":
		return st.OK.Render(ansiWrap(s.done, s.width))
	}
	return ""
}
