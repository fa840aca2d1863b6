package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// syncScreen follows one sync through the five stages, live.
type syncScreen struct {
	c      *common
	conn   adminapi.Connection
	ev     adminapi.StageEvent
	status *adminapi.EventStatus
	err    error
	spin   spinner.Model
	// fetching is true while an EventStatus call is out, so events that
	// arrive meanwhile don't pile calls up.
	fetching bool
	stale    bool
	summary  string
	// progress is the other side's latest report on its apply, shown
	// under Waiting for remote.
	progress *adminapi.Progress
	// first is the first sync after setting the connection up, which
	// ends with the seed's congratulations; explain shows what each
	// stage means (?).
	first   bool
	explain bool
	width   int
}

type eventStatusMsg struct {
	st  adminapi.EventStatus
	err error
}

// syncPollMsg re-reads the status now and then, in case the event stream
// dropped an event (it does, for a listener that falls behind).
type syncPollMsg struct{ event string }

const syncPoll = time.Second

func newSyncScreen(c *common, conn adminapi.Connection, ev adminapi.StageEvent) *syncScreen {
	return &syncScreen{c: c, conn: conn, ev: ev, spin: newSpinner(c)}
}

// withSummary names the item being synced, when the screen that started
// the sync knows it.
func (s *syncScreen) withSummary(summary string) *syncScreen {
	s.summary = summary
	return s
}

// asFirst marks the connection's first sync.
func (s *syncScreen) asFirst(first bool) *syncScreen {
	s.first = first
	return s
}

func (s *syncScreen) Title() string    { return "Sync status" }
func (s *syncScreen) SetSize(w, _ int) { s.width = w }

// stageHelp says what each stage is, in the words of DESIGN §5.
func stageHelp(stage string) string {
	switch stage {
	case adminapi.StagePreparing:
		return "this node reads the item, applies the outgoing rules and stores what it sends."
	case adminapi.StageSending:
		return "it goes to the other node, retried until that node has stored it."
	case adminapi.StageWaiting:
		return "the other node creates or updates its item, comments and attachments."
	case adminapi.StageFinalizing:
		return "this node records the link between the two items, so later changes sync."
	case adminapi.StageSynchronized:
		return "done: both items are linked."
	}
	return ""
}

func (s *syncScreen) Init() tea.Cmd { return tea.Batch(s.spin.Tick, s.fetch(), s.poll()) }

func (s *syncScreen) done() bool {
	return s.status != nil && s.status.Stage == adminapi.StageSynchronized
}

// held says the sync waits for something other than this node (the
// invitation's acceptance): no spinner then.
func (s *syncScreen) held() bool {
	if s.status != nil {
		return s.status.Held != ""
	}
	return s.ev.Held != ""
}

func (s *syncScreen) fetch() tea.Cmd {
	if s.fetching {
		s.stale = true
		return nil
	}
	s.fetching = true
	node, ctx, conn, id := s.c.node, s.c.ctx, s.ev.ConnectionID, s.ev.EventID
	return func() tea.Msg {
		st, err := node.EventStatus(ctx, conn, id)
		return eventStatusMsg{st, err}
	}
}

func (s *syncScreen) poll() tea.Cmd {
	id := s.ev.EventID
	return s.c.tick(syncPoll, func(time.Time) tea.Msg { return syncPollMsg{id} })
}

func (s *syncScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case eventStatusMsg:
		s.fetching = false
		wasHeld := s.held()
		if msg.err != nil {
			s.err = msg.err
		} else {
			st := msg.st
			s.status, s.err = &st, nil
		}
		var cmds []tea.Cmd
		if wasHeld && !s.held() && !s.done() {
			cmds = append(cmds, s.spin.Tick) // on its way again
		}
		if s.stale {
			s.stale = false
			cmds = append(cmds, s.fetch())
		}
		return s, tea.Batch(cmds...)
	case stageMsg:
		if msg.ev.ConnectionID != s.ev.ConnectionID || msg.ev.EventID != s.ev.EventID || s.done() {
			return s, nil
		}
		if p := msg.ev.Progress; p != nil {
			// News, not a stage change: nothing to read again.
			if s.ev.Direction == "" || msg.ev.Direction == s.ev.Direction {
				s.progress = p
			}
			return s, nil
		}
		return s, s.fetch()
	case syncPollMsg:
		if msg.event != s.ev.EventID || s.done() {
			return s, nil
		}
		return s, tea.Batch(s.fetch(), s.poll())
	case revealMsg:
		return s, tea.Batch(s.fetch(), s.poll(), s.spin.Tick)
	case spinner.TickMsg:
		return s, spinWhile(!s.done() && !s.held(), &s.spin, msg)
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, s.c.keys.Done):
			return s, home
		case key.Matches(msg, s.c.keys.Help):
			s.explain = !s.explain
		case key.Matches(msg, s.c.keys.OpenScript):
			if loc, ok := s.scriptLoc(); ok {
				return s, openScript(s.c, s.conn, loc)
			}
		}
	}
	return s, nil
}

func (s *syncScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	cur := s.ev
	if s.status != nil {
		cur = s.status.StageEvent
	}
	what := cur.LocalKey
	if what == "" {
		what = termtext.Line(cur.EntityID) // identifiers come uncleaned (see cleanNode)
	}
	if s.summary != "" {
		what = truncate(s.summary, 40) + " (" + what + ")"
	}
	b.WriteString("Syncing " + st.Subtitle.Render(what) + st.Faint.Render(" on "+s.conn.Name) + "\n\n")
	var entries []adminapi.StageEntry
	if s.status != nil {
		entries = s.status.Stages
	}
	first := firstEntries(entries)
	stages := adminapi.Stages()
	curIdx := indexOf(stages, cur.Stage)
	for i, stage := range stages {
		name := pad(adminapi.StageName(stage), 20)
		switch {
		case i < curIdx || (i == curIdx && stage == adminapi.StageSynchronized):
			elapsed := ""
			if t, ok := first[stage]; ok {
				if i+1 < len(stages) {
					if next, ok := first[stages[i+1]]; ok {
						elapsed = since(t, next)
					}
				} else if t0, ok := first[stages[0]]; ok {
					elapsed = "total " + since(t0, t)
				}
			}
			b.WriteString(st.OK.Render("✓ ") + name + st.Faint.Render(elapsed) + "\n")
		case i == curIdx && cur.Error != "":
			b.WriteString(st.Error.Render("✗ "+name) + "\n")
			if loc, ok := findScriptLoc(cur.Error); ok {
				// A script's error: its script and line, then its message.
				where := "    " + loc.String()
				if _, own := ownScriptLoc(cur.Direction, cur.Error); own {
					where += st.Faint.Render(" (o opens it)")
				}
				b.WriteString(st.Error.Render(where) + "\n")
				b.WriteString(st.Error.Render("    "+truncate(loc.Msg, 72)) + "\n")
			} else {
				b.WriteString(st.Error.Render("    "+truncate(sentence(cur.Error), 72)) + "\n")
			}
			if !cur.NextRetry.IsZero() {
				b.WriteString(st.Faint.Render("    next retry "+retryIn(s.c.now(), cur.NextRetry)) + "\n")
			}
		case i == curIdx && cur.Held != "":
			// Not a spinner: nothing is being tried until what it waits
			// for happens.
			b.WriteString(st.Warn.Render("… "+name) + "\n")
			b.WriteString(st.Faint.Render(wrapText("    "+sentence(cur.Held)+"; it moves on by itself then.", s.w())) + "\n")
		case i == curIdx:
			b.WriteString(s.spin.View() + " " + name + "\n")
			if stage == adminapi.StageWaiting && s.progress != nil {
				b.WriteString(st.Faint.Render("    "+s.progress.String()) + "\n")
			}
		default:
			b.WriteString(st.Faint.Render("  "+name) + "\n")
		}
	}
	if s.explain {
		// In place of the rest, which ? again brings back: at 80×24 the
		// two don't fit together.
		b.WriteString("\n" + st.Header.Render("What the stages mean") + "\n")
		for _, stage := range adminapi.Stages() {
			b.WriteString(st.Faint.Render(wrapText("  "+adminapi.StageName(stage)+": "+stageHelp(stage), s.w())) + "\n")
		}
		b.WriteString(st.Faint.Render("Press ? again for the links.") + "\n")
		if s.err != nil {
			b.WriteString("\n" + s.c.errorLine(s.err))
		}
		return strings.TrimRight(b.String(), "\n")
	}
	if s.status != nil {
		for _, why := range s.status.Skipped {
			b.WriteString(st.Warn.Render(ansiWrap("⚠ Not synced: "+why, s.w())) + "\n")
		}
		for _, note := range s.status.Notes {
			b.WriteString(st.Faint.Render(ansiWrap("Note: "+note, s.w())) + "\n")
		}
	}
	if s.status != nil && s.status.RulesVersion != "" {
		b.WriteString(st.Faint.Render("Rules: "+rulesVersionName(s.status.RulesVersion)+" on "+s.c.self.Name) + "\n")
	}
	if s.done() && s.first && cur.Error == "" {
		b.WriteString("\n" + st.OK.Render(wrapText("Congratulations! Your first sync is done: the two items are linked, and a change to either now syncs to the other.", s.w())) + "\n")
	}
	b.WriteString("\n")
	side := func(label, node, key, url string) {
		b.WriteString(st.Subtitle.Render(label) + "  " + pad(node, 10) + " ")
		if key == "" {
			b.WriteString(st.Faint.Render("not yet known") + "\n")
			return
		}
		// A link wider than the screen wraps after its slashes and keeps
		// its indent, rather than being cut by the frame.
		b.WriteString(key + "\n" + st.Faint.Render(wrapText("        "+url, s.w())) + "\n")
	}
	side("Side A", s.c.self.Name, cur.LocalKey, cur.LocalURL)
	remote := s.conn.RemoteName
	if s.conn.Local {
		remote = s.c.self.Name
	}
	side("Side B", remote, cur.RemoteKey, cur.RemoteURL)
	if s.err != nil {
		b.WriteString("\n" + s.c.errorLine(s.err))
	}
	return strings.TrimRight(b.String(), "\n")
}

// firstEntries gives when each stage was first entered.
func firstEntries(es []adminapi.StageEntry) map[string]time.Time {
	m := map[string]time.Time{}
	for _, e := range es {
		if _, ok := m[e.Stage]; !ok {
			m[e.Stage] = e.At
		}
	}
	return m
}

func indexOf(xs []string, x string) int {
	for i, s := range xs {
		if s == x {
			return i
		}
	}
	return 0
}

// since formats the time from a to b for a stage.
func since(a, b time.Time) string {
	d := b.Sub(a)
	switch {
	case d < 0:
		d = 0
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d < time.Second:
		// Local syncs take milliseconds: "0.0s" would say nothing.
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func retryIn(now, t time.Time) string {
	d := t.Sub(now)
	if d <= 0 {
		return "now"
	}
	return "in " + d.Round(time.Second).String()
}

// w is the screen's width, 78 before the first resize.
func (s *syncScreen) w() int {
	if s.width > 0 {
		return s.width
	}
	if s.c.width > 0 {
		return s.c.width
	}
	return 78
}

// scriptLoc is where the sync's error points in this node's scripts.
func (s *syncScreen) scriptLoc() (scriptLoc, bool) {
	cur := s.ev
	if s.status != nil {
		cur = s.status.StageEvent
	}
	if cur.Error == "" {
		return scriptLoc{}, false
	}
	return ownScriptLoc(cur.Direction, cur.Error)
}

// rulesVersionName is a rules version as the console says it: "Basic",
// "script v3".
func rulesVersionName(v string) string {
	if v == "basic" {
		return "Basic"
	}
	return v
}

func (s *syncScreen) ShortHelp() []key.Binding {
	if _, ok := s.scriptLoc(); ok {
		return []key.Binding{s.c.keys.Done, s.c.keys.OpenScript, s.c.keys.Stages}
	}
	return []key.Binding{s.c.keys.Done, s.c.keys.Stages}
}
func (s *syncScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
