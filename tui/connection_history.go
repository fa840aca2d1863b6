package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// The connection page's way into an item's history: ↑/↓ pick one of the
// recent syncs (recentSel, 1-based; 0 while none is picked), and h, or
// enter once one is picked, opens its item's history. Enter with none
// picked still opens the newest sync, as it always did.

// pickRecent moves the pick among the recent syncs the page shows.
func (s *connectionScreen) pickRecent(msg tea.KeyMsg) {
	n := min(len(s.events), recentLimit)
	if n == 0 {
		return
	}
	switch {
	case key.Matches(msg, s.c.keys.Up):
		s.recentSel = max(s.recentSel-1, 1)
	default:
		s.recentSel = min(s.recentSel+1, n)
	}
}

// openHistory opens the history of the picked sync's item (the newest
// when none is picked).
func (s *connectionScreen) openHistory() tea.Cmd {
	if len(s.events) == 0 || s.busy != "" || (s.bulk != nil && s.bulk.starting) {
		return nil
	}
	i := min(max(s.recentSel-1, 0), len(s.events)-1)
	return push(newHistoryScreen(s.c, s.conn, s.events[i]))
}
