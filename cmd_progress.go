package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/tandem-sync/tandem/engine"
)

// progressQuiet is the longest a non-terminal output goes without a
// progress line while progress is being made between tenths.
const progressQuiet = 10 * time.Second

// progressLine prints the progress reports of a long sync ("comments 120
// of 5000"). On a terminal it keeps one line, rewritten in place with a
// carriage return (no escape sequence); elsewhere (a pipe, a log file) it
// prints a line at each tenth of the way, and between tenths at most once
// every progressQuiet, so a 48-minute sync writes tens of lines, not
// thousands.
type progressLine struct {
	w   io.Writer
	tty bool
	now func() time.Time
	// open is the width of the line drawn in place on a terminal, 0 when
	// none is.
	open int
	// last is what was printed last, per label and kind of item.
	last map[string]printedProgress
}

type printedProgress struct {
	at    time.Time
	done  int
	tenth int
}

func newProgressLine(w io.Writer) *progressLine {
	return &progressLine{w: w, tty: isTerminal(w), now: time.Now, last: map[string]printedProgress{}}
}

// isTerminal says whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// show prints progress p of the sync labelled label (a stage name, or an
// item's key in a bulk sync).
func (l *progressLine) show(label string, p engine.Progress) {
	text := fmt.Sprintf("  … %-19s %s", shown(label), p)
	if l.tty {
		// Cells, not runes: a wide key (CJK) takes two.
		width := ansi.StringWidth(text)
		// Spaces wipe what a longer earlier line left behind.
		fmt.Fprintf(l.w, "\r%s%s", text, strings.Repeat(" ", max(l.open-width, 0)))
		l.open = width
		return
	}
	key := label + "\x00" + p.What
	tenth := p.Done * 10 / max(p.Total, 1)
	prev, seen := l.last[key]
	now := l.now()
	if seen && tenth <= prev.tenth && (now.Sub(prev.at) < progressQuiet || p.Done == prev.done) {
		return
	}
	l.last[key] = printedProgress{at: now, done: p.Done, tenth: tenth}
	fmt.Fprintln(l.w, text)
}

// count prints a count with no total yet ("Bulk Exalate: 1200 items
// started"): in place on a terminal; elsewhere the first, and then at most
// one every progressQuiet.
func (l *progressLine) count(label string, n int, what string) {
	text := fmt.Sprintf("  … %s: %d %s", shown(label), n, what)
	if l.tty {
		width := ansi.StringWidth(text)
		fmt.Fprintf(l.w, "\r%s%s", text, strings.Repeat(" ", max(l.open-width, 0)))
		l.open = width
		return
	}
	key := "count\x00" + label
	prev, seen := l.last[key]
	now := l.now()
	if seen && (n == prev.done || now.Sub(prev.at) < progressQuiet) {
		return
	}
	l.last[key] = printedProgress{at: now, done: n}
	fmt.Fprintln(l.w, text)
}

// end finishes the line drawn in place, so what is printed next starts on
// a line of its own and the last progress stays visible.
func (l *progressLine) end() {
	if l.open > 0 {
		fmt.Fprintln(l.w)
		l.open = 0
	}
}
