//go:build tools

// This file pins the dependencies DESIGN.md §1 chose for parts of tandem
// that have not landed yet (the console), so
// go.mod records the agreed versions and `go mod tidy` keeps them. Each line
// goes away when the first package that really imports it lands.
package main

import (
	_ "github.com/charmbracelet/bubbles/key"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/charmbracelet/x/exp/teatest"
)
