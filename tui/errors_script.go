package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// A failing sync whose error is in one of this node's scripts opens that
// script at its line (o), on its connection's Rules tab.

// pickedScript is where the picked sync's error points in this node's
// scripts.
func (s *errorsScreen) pickedScript() (scriptLoc, bool) {
	p := s.picked()
	if p == nil {
		return scriptLoc{}, false
	}
	return ownScriptLoc(p.Direction, p.Error)
}

func (s *errorsScreen) openScript() tea.Cmd {
	loc, ok := s.pickedScript()
	if !ok {
		return nil
	}
	p := s.picked()
	conn := adminapi.Connection{ID: p.ConnectionID, Name: p.ConnectionName}
	if s.conn != nil {
		conn = *s.conn
	}
	return openScript(s.c, conn, loc)
}

// withOpen adds o to the help when the picked sync's error is a script's.
func (s *errorsScreen) withOpen(ks []key.Binding) []key.Binding {
	if _, ok := s.pickedScript(); ok {
		return append([]key.Binding{s.c.keys.OpenScript}, ks...)
	}
	return ks
}

// scriptRows are the full error's rows on the rules: the version the sync
// runs under, and the script and line of this node's script that failed.
func (s *errorsScreen) scriptRows(e adminapi.SyncError, label func(string) string) []string {
	st := s.c.styles
	var rows []string
	if e.RulesVersion != "" {
		rows = append(rows, label("Rules")+rulesVersionName(e.RulesVersion))
	}
	if loc, own := ownScriptLoc(e.Direction, e.Error); own {
		rows = append(rows, label("Script")+st.Error.Render(loc.String())+st.Faint.Render(" · o opens it at that line"))
	}
	return rows
}
