package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// directionIn is StageEvent.Direction of a sync received from the other side.
const directionIn = "in"

// labelWidth is the width of the labels of the Scope and Info tabs.
const labelWidth = 12

// View draws the header, the tab bar and the current tab, then as many
// recent syncs as the height leaves room for.
func (s *connectionScreen) View() string {
	parts := []string{s.header()}
	if s.connErr != nil {
		parts = append(parts, s.c.errorLine(fmt.Errorf("reading the connection: %w", s.connErr)))
	}
	parts = append(parts, s.tabBar())
	action := s.actionView()
	switch s.tab {
	case tabScope:
		parts = append(parts, s.scopeView())
	case tabRules:
		room := s.height - lipgloss.Height(strings.Join(parts, "\n"))
		if action != "" {
			room -= 1 + lipgloss.Height(action)
		}
		parts = append(parts, s.rulesView(room))
	case tabStats:
		parts = append(parts, s.statsView())
	case tabInfo:
		parts = append(parts, s.infoView())
	}
	if action != "" {
		parts = append(parts, "", action)
	}
	body := strings.Join(parts, "\n")
	// The recent syncs take a blank line, their title and one line each.
	if rows := min(recentLimit, s.height-lipgloss.Height(body)-2); rows > 0 {
		body += "\n\n" + s.recentView(rows)
	}
	return body
}

// otherSide names the other side of the connection and its project; a
// Pending connection's says what it waits for.
func (s *connectionScreen) otherSide() string {
	if s.pending() {
		return sentence(pendingWords(s.conn))
	}
	other := s.conn.RemoteName
	switch {
	case s.conn.Local:
		other = "this node"
	case other == "":
		other = "the other side"
	}
	if s.conn.RemoteProjectName != "" {
		other += " / " + s.conn.RemoteProjectName
	}
	return other
}

// pendingWords says what a Pending connection waits for: the other side
// to accept this node's invitation, or (on the accepting side, until the
// inviting node answers) the inviting node to confirm.
func pendingWords(c adminapi.Connection) string {
	who := c.RemoteName
	if who == "" {
		who = "the other side"
	}
	if c.Role == adminapi.RoleAcceptor {
		return "waiting for " + who + " to confirm the invitation"
	}
	return "waiting for " + who + " to accept the invitation"
}

func (s *connectionScreen) header() string {
	st := s.c.styles
	head := st.Subtitle.Render(s.conn.Name) + st.Faint.Render(" · ") +
		connStatusStyle(st, s.conn.Status).Render(statusName(s.conn.Status)) + st.Faint.Render(" · ")
	if s.pending() {
		return head + pendingWords(s.conn)
	}
	return head + st.Faint.Render("with ") + s.otherSide()
}

// connStatusStyle colours a connection status.
func connStatusStyle(st *Styles, status string) lipgloss.Style {
	switch status {
	case adminapi.StatusActive:
		return st.OK
	case adminapi.StatusError:
		return st.Error
	case adminapi.StatusPending:
		return st.Warn
	}
	return st.Faint
}

// tabBar draws the tabs over a rule that is heavy under the current one, so
// the current tab shows without colour too.
func (s *connectionScreen) tabBar() string {
	st := s.c.styles
	var tabs, rule strings.Builder
	used := 0
	for t := range tabCount {
		style, line, mark := st.Tab, st.Faint, "─"
		if t == s.tab {
			style, line, mark = st.ActiveTab, st.Accent, "━"
		}
		r := style.Render(t.String())
		w := lipgloss.Width(r)
		tabs.WriteString(r)
		rule.WriteString(line.Render(strings.Repeat(mark, w)))
		used += w
	}
	rule.WriteString(st.Faint.Render(strings.Repeat("─", max(s.width-used, 0))))
	return tabs.String() + "\n" + rule.String()
}

// row is a labelled line of the Scope and Info tabs.
func (s *connectionScreen) row(label, value string) string {
	return s.c.styles.Faint.Render(pad(label, labelWidth)) + value
}

func (s *connectionScreen) scopeView() string {
	st := s.c.styles
	if s.pending() {
		// Until the other side accepts there is no trigger or Bulk
		// Exalate to offer: one item can be queued, and it says so.
		lines := []string{
			s.row("This side", s.c.self.Name+" / "+s.conn.LocalProjectName),
			s.row("Other side", s.otherSide()),
			"",
		}
		if s.invited() {
			lines = append(lines, st.Faint.Render(wrapText("c shows the invitation code again: a new one, the old one stops working.", s.width)),
				st.Faint.Render("x cancels the invitation."))
		}
		return strings.Join(append(lines, st.Faint.Render(wrapText("s queues one item of "+s.conn.LocalProjectName+
			": it is sent once the invitation is accepted.", s.width))), "\n")
	}
	trigger := st.Faint.Render("off")
	if s.conn.TriggerNewTasks {
		trigger = st.OK.Render("on")
	}
	lines := []string{
		s.row("This side", s.c.self.Name+" / "+s.conn.LocalProjectName),
		s.row("Other side", s.otherSide()),
		"",
		"Sync new " + itemsOf(s.c.self.Vocabulary) + " automatically: " + trigger,
		"",
		st.Faint.Render("s syncs one item of " + s.conn.LocalProjectName + " now, by its key or link."),
	}
	return strings.Join(append(lines, s.bulkView()...), "\n")
}

// bulkView is the Bulk Exalate line: what it does before it runs, then its
// progress.
func (s *connectionScreen) bulkView() []string {
	st := s.c.styles
	b := s.bulk
	switch {
	case b == nil:
		return []string{st.Faint.Render("Bulk Exalate syncs every " + itemOf(s.c.self.Vocabulary) + " of " + s.conn.LocalProjectName + " now.")}
	case b.starting:
		return []string{s.spin.View() + " Bulk Exalate: reading the " + itemsOf(s.c.self.Vocabulary) + " of " + s.conn.LocalProjectName + "…"}
	}
	var out []string
	done, failing := b.counts()
	switch {
	case len(b.ids) == 0 && b.err == nil:
		out = append(out, st.OK.Render("✓")+" Bulk Exalate: "+s.conn.LocalProjectName+" has no "+itemsOf(s.c.self.Vocabulary)+" to sync.")
	case len(b.ids) > 0:
		prefix := ""
		if b.finished() {
			prefix = st.OK.Render("✓") + " "
		}
		progress := prefix + "Bulk Exalate " + s.progressBar(done, len(b.ids), 20) + " " +
			fmt.Sprintf("%d of %d synchronized", done, len(b.ids))
		if failing > 0 {
			progress += st.Error.Render(fmt.Sprintf(" · %d failing", failing))
		}
		out = append(out, progress)
		if b.more > 0 {
			out = append(out, st.Faint.Render(fmt.Sprintf("and %d more started, not followed here (the node lists the first %d); the history shows them.", b.more, len(b.ids))))
		}
	}
	if b.err != nil {
		out = append(out, s.c.errorLine(b.err))
	}
	if !b.finished() && s.conn.Status != adminapi.StatusActive {
		out = append(out, st.Faint.Render("The connection is not active: the syncs wait until it is activated (d)."))
	}
	return out
}

// progressBar draws done of total in w cells.
func (s *connectionScreen) progressBar(done, total, w int) string {
	filled := 0
	if total > 0 {
		filled = done * w / total
	}
	return s.c.styles.OK.Render(strings.Repeat("█", filled)) + s.c.styles.Faint.Render(strings.Repeat("░", w-filled))
}

func (s *connectionScreen) statsView() string {
	st := s.c.styles
	switch {
	case s.statsErr != nil:
		return s.c.errorLine(fmt.Errorf("reading the statistics: %w", s.statsErr)) + "\n" +
			st.Faint.Render("Press r to try again.")
	case s.stats == nil:
		return s.spin.View() + " Loading statistics…"
	}
	x := s.stats
	const w = 17
	label := func(l string) string { return st.Faint.Render(pad(l, w)) }
	failing := itoa(x.Failing)
	if x.Failing > 0 {
		failing = st.Error.Render(failing)
	}
	left := strings.Join([]string{
		label("Synced items") + itoa(x.SyncedItems),
		label("Events out / in") + itoa(x.EventsOut) + " / " + itoa(x.EventsIn),
		label("Synchronized") + itoa(x.Synchronized),
		label("Failing") + failing,
		label("Last sync") + ago(s.c.now(), x.LastSync),
	}, "\n")
	right := []string{st.Header.Render("Median time per stage")}
	for _, stage := range adminapi.Stages() {
		if stage == adminapi.StageSynchronized {
			continue // the last stage is never left
		}
		v := "—"
		if d, ok := x.MedianStage[stage]; ok {
			v = stageTime(d)
		}
		right = append(right, st.Faint.Render(pad(adminapi.StageName(stage), 20))+v)
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, left, "     ", strings.Join(right, "\n"))
}

// stageTime formats a time spent in a stage the way the sync page does.
func stageTime(d time.Duration) string {
	var t0 time.Time
	return since(t0, t0.Add(d))
}

func (s *connectionScreen) infoView() string {
	c := s.conn
	status := connStatusStyle(s.c.styles, c.Status).Render(statusName(c.Status))
	if c.StatusReason != "" {
		status += s.c.styles.Faint.Render(" — " + sentence(c.StatusReason))
	}
	other := "this node (a local connection)"
	if !c.Local {
		other = strings.Join(nonEmpty(c.RemoteName, c.RemoteURL, c.RemoteTracker), " · ")
		if s.pending() {
			other = strings.Join(nonEmpty(other, pendingWords(c)), ": ")
		}
	}
	created := "—"
	if !c.CreatedAt.IsZero() {
		// In the clock's zone: the local one in a terminal, fixed in tests.
		created = c.CreatedAt.In(s.c.now().Location()).Format("2 Jan 2006 15:04")
	}
	return strings.Join([]string{
		s.row("Name", c.Name),
		s.row("Mode", modeName(c.Mode)),
		s.row("Status", status),
		s.row("This node", strings.Join(nonEmpty(s.c.self.Name, s.c.self.URL, s.c.self.Tracker), " · ")),
		s.row("Other side", other),
		s.row("Role", sentence(c.Role)),
		s.row("Created", created),
	}, "\n")
}

// nonEmpty drops the empty strings.
func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// actionView is the open question, the change under way or its error.
func (s *connectionScreen) actionView() string {
	st := s.c.styles
	name := s.conn.Name
	ask := func(q string) string { return st.Warn.Width(s.width).Render(q + " y/n") }
	switch {
	case s.confirm == confirmDeactivate:
		return ask("Deactivate " + name + "? Changes queue up and replay on activation.")
	case s.confirm == confirmActivate:
		return ask("Activate " + name + "? The syncs queued while it was off are replayed.")
	case s.confirm == confirmBulk:
		return ask(s.bulkQuestion())
	case s.confirm == confirmUpgrade:
		return ask(s.upgradeQuestion())
	case s.confirm == confirmDelete && s.invited():
		return ask("Cancel the invitation? Its code stops working and " + name + " is deleted.")
	case s.confirm == confirmDelete:
		return ask("Delete " + name + " on this node? Its twins' links and sync history are forgotten; " +
			"items stay in both trackers, and the other side keeps its end.")
	case s.confirm == confirmRenew:
		return ask("Show the code again? A new code replaces the old one, which stops working.")
	case s.busy != "":
		return s.spin.View() + " " + s.busy + "…"
	case s.actionErr != nil:
		return s.c.errorLine(s.actionErr)
	}
	return ""
}

// recentView lists the latest syncs, newest first, in rows lines.
func (s *connectionScreen) recentView(rows int) string {
	st := s.c.styles
	title := st.Header.Render("Recent syncs")
	switch {
	case s.eventsErr != nil:
		return title + "\n" + s.c.errorLine(fmt.Errorf("reading the recent syncs: %w", s.eventsErr))
	case !s.eventsOK:
		return title + "\n" + s.spin.View() + " Loading…"
	case len(s.events) == 0:
		return title + "\n" + st.Faint.Render("No syncs yet.")
	}
	lines := []string{title}
	for i, ev := range s.events[:min(rows, len(s.events))] {
		dir := "→ out"
		if ev.Direction == directionIn {
			dir = "← in "
		}
		what := ev.LocalKey
		if what == "" {
			what = termtext.Line(ev.EntityID) // identifiers come uncleaned (see cleanNode)
		}
		stage := pad(adminapi.StageName(ev.Stage), 19)
		if ev.Stage == adminapi.StageSynchronized {
			stage = st.OK.Render(stage)
		}
		when := ago(s.c.now(), ev.At)
		line := dir + "  " + pad(truncate(what, 17), 17) + " " + stage + " "
		const used = 5 + 2 + 17 + 1 + 19 + 1 + 10 + 1
		switch {
		case ev.Error != "":
			line += pad(when, 10) + " " + st.Error.Render(truncate("✗ "+sentence(ev.Error), s.width-used))
		case ev.Held != "":
			line += pad(when, 10) + " " + st.Warn.Render(truncate("… "+ev.Held, s.width-used))
		default:
			line += when
		}
		if i+1 == s.recentSel {
			line = st.Selected.Render("›" + strings.TrimPrefix(strings.TrimPrefix(line, "→"), "←"))
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
