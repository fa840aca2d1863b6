package tui

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// The connection page's Rules tab: in Basic mode the fixed rules, which
// can be exported and upgraded to Script mode (asked first); in Script
// mode this side's scripts (rules_script.go).

// upgradedMsg is the connection's scripts after the upgrade.
type upgradedMsg struct {
	sc  adminapi.Scripts
	err error
}

// scripted says whether the page shows a Script mode connection.
func (s *connectionScreen) scripted() bool { return s.conn.Mode == adminapi.ModeScript }

// ensureScripts makes the Script mode pane once the connection is known
// to be in Script mode, and returns its first read.
func (s *connectionScreen) ensureScripts() tea.Cmd {
	if !s.scripted() {
		return nil
	}
	if s.script == nil {
		s.script = newScriptPane(s.c, s.conn)
		return s.script.load()
	}
	s.script.conn = s.conn
	return nil
}

// rulesKey handles the Rules tab's own keys; handled is false for the
// page's.
func (s *connectionScreen) rulesKey(msg tea.KeyMsg) (cmd tea.Cmd, handled bool) {
	k := s.c.keys
	if s.scripted() {
		if s.script == nil {
			return nil, false
		}
		return s.script.key(msg)
	}
	switch {
	case key.Matches(msg, k.Export):
		return s.export(), true
	case key.Matches(msg, k.Upgrade) && s.busy == "":
		s.actionErr = nil
		s.confirm = confirmUpgrade
		return nil, true
	}
	return nil, false
}

// upgrade moves the connection to Script mode on this side, now that the
// admin said yes.
func (s *connectionScreen) upgrade() tea.Cmd {
	s.busy = "Upgrading to Script mode"
	node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		sc, err := node.Upgrade(ctx, id)
		if err != nil {
			return upgradedMsg{err: fmt.Errorf("upgrading to Script mode: %w", err)}
		}
		return upgradedMsg{sc: sc}
	})
}

// upgraded shows the scripts the upgrade made, and reads the connection
// and its rules again.
func (s *connectionScreen) upgraded(msg upgradedMsg) tea.Cmd {
	s.busy, s.actionErr = "", msg.err
	if msg.err != nil {
		return nil
	}
	// The connection and its rules are read again; the scripts are
	// those the upgrade answered.
	reload := s.load()
	s.conn.Mode = adminapi.ModeScript
	s.script = newScriptPane(s.c, s.conn)
	s.script.update(scriptsMsg{sc: msg.sc, done: fmt.Sprintf("✓ Upgraded: version %d, the Basic rules as scripts, is in force on this side.", msg.sc.Published)})
	return reload
}

// export writes the rules as indented JSON next to the invitation codes,
// read afresh from the node.
func (s *connectionScreen) export() tea.Cmd {
	s.exported, s.exportErr = "", nil
	dir := s.c.codeDir
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "rules-"+fileName(s.conn.Name)+".json")
	node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
	return func() tea.Msg {
		rules, err := node.Rules(ctx, id)
		if err != nil {
			return rulesExportedMsg{err: fmt.Errorf("reading the rules to export: %w", err)}
		}
		data, err := json.MarshalIndent(rules, "", "  ")
		if err == nil {
			err = os.WriteFile(path, append(data, '\n'), 0o644)
		}
		if err != nil {
			return rulesExportedMsg{err: fmt.Errorf("exporting the rules to %s: %w", path, err)}
		}
		return rulesExportedMsg{path: path}
	}
}

// rulesView is the Rules tab in room lines.
func (s *connectionScreen) rulesView(room int) string {
	if s.scripted() {
		if s.script == nil {
			return s.spin.View() + " Loading the scripts…"
		}
		s.script.setSize(s.width, room)
		return s.script.view(s.spin.View())
	}
	st := s.c.styles
	const order, side, arrow = 7, 13, 3
	noteWidth := max(s.width-order-2*side-arrow, 20)
	switch {
	case s.rulesErr != nil:
		return s.c.errorLine(fmt.Errorf("reading the rules: %w", s.rulesErr)) + "\n" +
			st.Faint.Render("Press r to try again.")
	case s.rules == nil:
		return s.spin.View() + " Loading rules…"
	}
	var b strings.Builder
	b.WriteString(st.Header.Render(pad("Order", order)+pad("This side", side)+pad("↔", arrow)+"Other side") + "\n")
	for _, r := range s.rules {
		line := pad(itoa(r.Order), order) + pad(r.ThisSide, side) + pad("↔", arrow) + r.OtherSide
		if r.Note != "" {
			// A long note wraps in its column rather than losing its end.
			line = lipgloss.JoinHorizontal(lipgloss.Top, pad(line, order+2*side+arrow), st.Faint.Width(noteWidth).Render(r.Note))
		}
		b.WriteString(line + "\n")
	}
	if s.conn.Mode == adminapi.ModeBasic {
		b.WriteString(st.Faint.Render("Basic mode rules cannot be edited.") + "\n")
		b.WriteString(st.Faint.Render(wrapText("u upgrades this side to Script mode, where you write your own rules.", s.width)))
	} else {
		b.WriteString(st.Faint.Render(modeName(s.conn.Mode) + " mode: the rules as this side runs them."))
	}
	switch {
	case s.exportErr != nil:
		b.WriteString("\n" + s.c.errorLine(s.exportErr))
	case s.exported != "":
		b.WriteString("\n" + st.OK.Render("✓") + " Exported to " + s.exported)
	}
	return b.String()
}

// upgradeQuestion says what the upgrade does before it is done.
func (s *connectionScreen) upgradeQuestion() string {
	return "Upgrade " + s.conn.Name + " to Script mode on this side? This side gets scripts equal to the Basic rules, " +
		"so nothing changes until you edit them. It can't be undone, and the other side is not changed."
}

// rulesHelp is the Rules tab's keys.
func (s *connectionScreen) rulesHelp() []key.Binding {
	k := s.c.keys
	switch {
	case !s.scripted():
		return []key.Binding{k.Upgrade, k.Export}
	case s.script == nil:
		return nil
	}
	return s.script.keys()
}
