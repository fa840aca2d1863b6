// Package tui is tandem's console: a Bubble Tea program that sets
// connections up, shows them and follows every sync through its five
// stages. app.go routes (global keys, resize, one stack of screens per
// node); each screen has its own file; key bindings live in keys.go and
// styles in styles.go. It is the only package that imports bubbletea or
// lipgloss.
//
// It talks to a node only through Node, so the same screens run on an
// in-process engine (tandem demo) or on a node across the network (tandem
// console --node).
package tui
