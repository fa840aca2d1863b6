package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// wrapText wraps plain text to w cells at spaces only: a word that fits on
// a line of its own (a URL, a path, a name with a dash) is never cut. A
// word wider than w is broken after its slashes, and cut only if a part is
// still too wide. Each line keeps its leading spaces as the indent of its
// continuation lines, so an indented paragraph wraps with a hanging indent.
func wrapText(text string, w int) string {
	if w <= 0 {
		w = 78
	}
	lines := strings.Split(text, "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, wrapLine(l, w)...)
	}
	return strings.Join(out, "\n")
}

func wrapLine(l string, w int) []string {
	body := strings.TrimLeft(l, " ")
	indent := l[:len(l)-len(body)]
	if ansi.StringWidth(indent) > w/2 {
		indent = ""
	}
	var lines []string
	cur := indent
	empty := true
	for _, word := range strings.Fields(body) {
		ww := ansi.StringWidth(word)
		sep := " "
		if empty {
			sep = ""
		}
		if ansi.StringWidth(cur)+len(sep)+ww <= w {
			cur += sep + word
			empty = false
			continue
		}
		if !empty {
			lines = append(lines, cur)
			cur, empty = indent, true
		}
		room := w - ansi.StringWidth(indent)
		if ww <= room {
			cur += word
			empty = false
			continue
		}
		for _, part := range splitLong(word, room) {
			if !empty && ansi.StringWidth(cur)+ansi.StringWidth(part) > w {
				lines = append(lines, cur)
				cur = indent
			}
			cur += part
			empty = false
		}
	}
	return append(lines, cur)
}

// splitLong breaks a word wider than w after each slash, cutting a part
// that is still wider than w.
func splitLong(word string, w int) []string {
	w = max(w, 1)
	var parts []string
	for word != "" {
		i := strings.IndexByte(word, '/')
		part := word
		if i >= 0 {
			part = word[:i+1]
		}
		word = word[len(part):]
		for ansi.StringWidth(part) > w {
			parts = append(parts, ansi.Truncate(part, w, ""))
			part = ansi.TruncateLeft(part, w, "")
		}
		parts = append(parts, part)
	}
	return parts
}
