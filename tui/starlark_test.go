package tui

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// TestHighlightStarlark: keywords, strings and comments take their
// colours, attributes and names do not, a triple-quoted string spans
// lines, and the text is the script's either way; with NO_COLOR nothing
// is coloured.
func TestHighlightStarlark(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("CLICOLOR_FORCE", "1")
	st := NewStyles(lipgloss.NewRenderer(io.Discard, termenv.WithTTY(true)))
	h := highlighter{st: st}
	src := []string{
		`def incoming(item, replica, previous, first_sync):  # the hook`,
		`    if replica.changed("status") and not item.pass_through:`,
		`        item.status = 'Done' if replica.completed else "To \" Do"`,
		`    x = """two`,
		`lines""" + deft`,
	}
	var out []string
	for _, l := range src {
		out = append(out, h.line(l))
	}
	for i, l := range out {
		if plain(l) != src[i] {
			t.Errorf("line %d reads %q, want %q", i+1, plain(l), src[i])
		}
	}
	coloured := func(line int, part string) bool {
		i := strings.Index(out[line], part)
		return i > 0 && strings.HasSuffix(out[line][:i], "m") // an escape sequence ends right before it
	}
	for _, c := range []struct {
		line int
		part string
		want bool
	}{
		{0, "def", true}, {0, "# the hook", true}, {1, "if", true}, {1, "and", true}, {1, "not", true},
		{1, `"status"`, true}, {2, `'Done'`, true}, {2, `"To \" Do"`, true}, {2, "else", true},
		{1, "pass_through", false}, {4, "deft", false},
	} {
		if got := coloured(c.line, c.part); got != c.want {
			t.Errorf("line %d: %q coloured = %v, want %v: %q", c.line+1, c.part, got, c.want, out[c.line])
		}
	}
	if !strings.HasPrefix(out[4], "\x1b") || !coloured(3, "two") {
		t.Errorf("the end of a triple-quoted string is not coloured: %q", out[4])
	}

	t.Setenv("NO_COLOR", "1")
	st = NewStyles(lipgloss.NewRenderer(io.Discard, termenv.WithTTY(true)))
	h = highlighter{st: st}
	for _, l := range src {
		if got := h.line(l); strings.Contains(got, "\x1b[3") || strings.Contains(got, "\x1b[9") {
			t.Errorf("colours with NO_COLOR set: %q", got)
		}
	}
	for _, l := range diffLines(st, "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n") {
		if strings.Contains(l, "\x1b[3") || strings.Contains(l, "\x1b[9") {
			t.Errorf("a diff coloured with NO_COLOR set: %q", l)
		}
	}
}
