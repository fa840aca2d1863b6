// Package termtexttest is what the tests of every terminal output path
// share: the hostile text issue 12 found reaching operators' terminals,
// how it must look once cleaned, and the check that nothing a terminal
// acts on got through.
package termtexttest

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tandem-sync/tandem/tui/termtext"
)

// Hostile is the task name that overwrote a tester's clipboard (OSC 52),
// cleared the screen (CSI 2J) and planted a link (OSC 8); it also carries
// a right-to-left override and an 8-bit CSI.
const Hostile = "Hostile \x1b]52;c;cHduZWQ=\x07 \x1b[2J\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ \u202eevil\u009b31m"

// HostileShown is how Hostile must look: each sequence one visible ␛, the
// words around them kept.
const HostileShown = "Hostile ␛ ␛␛link␛ evil␛"

// RequireSafe fails the test if out, what a terminal was sent, holds an
// ESC byte, a C1 control (as a rune or a raw byte), a bidi control, DEL,
// another C0 control than newline and tab, or invalid UTF-8.
func RequireSafe(t testing.TB, where, out string) {
	t.Helper()
	if i := strings.IndexByte(out, 0x1b); i >= 0 {
		t.Fatalf("%s: an ESC byte reached the terminal at %d: %q", where, i, out[max(i-30, 0):min(i+30, len(out))])
	}
	if !utf8.ValidString(out) {
		t.Fatalf("%s: invalid UTF-8 (a raw C1 byte?) reached the terminal: %q", where, out)
	}
	for _, r := range out {
		if (r >= 0x80 && r <= 0x9f) || termtext.Bidi(r) || (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f {
			t.Fatalf("%s: control %U reached the terminal:\n%s", where, r, out)
		}
	}
}
