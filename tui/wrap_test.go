package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
)

// TestWrapKeepsWordsWhole checks that wrapping never cuts a URL, a path or
// a dashed name that fits on a line, keeps indents as hanging indents, and
// stays within the width (trap 9: URLs split in error messages).
func TestWrapKeepsWordsWhole(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		w          int
		whole      []string
	}{
		{"url in an error", "✗ Could not reach the destination http://127.0.0.1:45079/api/v1/instance: connection refused", 58,
			[]string{"http://127.0.0.1:45079/api/v1/instance:"}},
		{"dashed file name", "The code is in /home/someone/.local/share/tandem/invitation-Acme_to_Globex.txt. Press c", 40,
			[]string{"invitation-Acme_to_Globex.txt.", "/home/someone/.local/share/tandem/"}},
		{"path wider than the line", "in /a-very-long-folder-name/another-long-folder/invitation-Acme_to_Globex.txt", 32,
			[]string{"a-very-long-folder-name/", "another-long-folder/", "invitation-Acme_to_Globex.txt"}},
		{"hanging indent", "    Fixed rules: type, summary, description, comments and attachments sync both ways.", 40, nil},
	} {
		got := wrapText(tt.text, tt.w)
		for _, l := range strings.Split(got, "\n") {
			if lipgloss.Width(l) > tt.w {
				t.Errorf("%s: line %q is wider than %d", tt.name, l, tt.w)
			}
			if strings.HasPrefix(tt.text, "    ") && !strings.HasPrefix(l, "    ") {
				t.Errorf("%s: line %q lost its indent", tt.name, l)
			}
		}
		for _, w := range tt.whole {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q was cut:\n%s", tt.name, w, got)
			}
		}
		if strings.Join(strings.Fields(got), "") != strings.Join(strings.Fields(tt.text), "") {
			t.Errorf("%s: text changed:\n%s", tt.name, got)
		}
	}
}
