// Package tui is tandem's Bubble Tea console: a router, one file per
// screen, key bindings in keys.go and styles in styles.go. It is the only
// package that imports bubbletea or lipgloss.
//
// The console lands with issue 4; until then this package holds only this
// description so the layout of DESIGN.md §1 is in place.
package tui
