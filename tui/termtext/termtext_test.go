package termtext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile is the task name from issue 12: OSC 52 (clipboard), CSI 2J (clear
// screen), an OSC 8 link, a right-to-left override and an 8-bit CSI.
const hostile = "Hostile \x1b]52;c;cHduZWQ=\x07 \x1b[2J\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ \u202eevil\u009b31m"

func TestLine(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "Fix the login page", "Fix the login page"},
		{"unicode", "Größe — 日本語 ✓ 🚀", "Größe — 日本語 ✓ 🚀"},
		{"empty", "", ""},
		{"hostile", hostile, "Hostile ␛ ␛␛link␛ evil␛"},
		{"csi colour", "\x1b[31mred\x1b[0m", "␛red␛"},
		{"csi private", "a\x1b[?1049hb", "a␛b"},
		{"csi cut short", "a\x1b[12", "a␛"},
		{"osc bel", "a\x1b]0;title\x07b", "a␛b"},
		{"osc st", "a\x1b]0;title\x1b\\b", "a␛b"},
		{"osc 8-bit st", "a\x1b]0;title\u009cb", "a␛b"},
		{"osc unterminated", "a\x1b]0;title", "a␛0;title"},
		{"osc ended by another escape", "a\x1b]0;t\x1b[2Jb", "a␛␛b"},
		{"dcs", "a\x1bPq#0;2;0;0;0\x1b\\b", "a␛b"},
		{"sos pm apc", "\x1bXs\x1b\\\x1b^p\x1b\\\x1b_a\x1b\\.", "␛␛␛."},
		{"apc bel is not its end", "a\x1b_x\x07y\x1b\\b", "a␛b"},
		{"bare esc", "a\x1bcb", "a␛cb"},
		{"esc at end", "a\x1b", "a␛"},
		{"8-bit csi", "a\u009b2Jb", "a␛b"},
		{"8-bit osc", "a\u009d52;c;x\u0007b", "a␛b"},
		{"8-bit dcs", "a\u0090q\u009cb", "a␛b"},
		{"8-bit apc", "a\u009fx\x1b\\b", "a␛b"},
		{"other c1", "a\u0085b\u0084c", "a␛b␛c"},
		{"c0", "a\x00b\x07c\x08d\x7fe", "a␀b␇c␈d␡e"},
		{"breaks and tabs", "a\nb\r\nc\rd\te\u2028f\u2029g", "a b c d e f g"},
		{"bidi", "\u202aa\u202bb\u202cc\u202dd\u202ee\u2066f\u2067g\u2068h\u2069i\u200ej\u200fk\u061cl", "abcdefghijkl"},
		{"invalid utf-8", "a\xffb\xc3c\x9bd", "a\uFFFDb\uFFFDc\uFFFDd"},
		{"raw 8-bit csi byte", "a\x9b2Jb", "a\uFFFD2Jb"},
		{"visible marks kept", "␛ ␇ \uFFFD", "␛ ␇ \uFFFD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Line(tc.in); got != tc.want {
				t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if Clean(tc.in) != (tc.in == tc.want) {
				t.Errorf("Clean(%q) = %v, but Line changes it: %v", tc.in, Clean(tc.in), tc.in != tc.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"lines and tabs kept", "a\n\tb", "a\n\tb"},
		{"crlf", "a\r\nb", "a\nb"},
		{"lone cr", "abc\rX", "abc\nX"},
		{"separators", "a\u2028b\u2029c", "a\nb\nc"},
		{"hostile", hostile + "\nline 2", "Hostile ␛ ␛␛link␛ evil␛\nline 2"},
		{"other c0", "a\x0bb\x0cc", "a␋b␌c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCleanTextComesBackUnallocated(t *testing.T) {
	s := "An ordinary summary, with ünïcödé"
	if n := testing.AllocsPerRun(100, func() { _ = Line(s) }); n != 0 {
		t.Errorf("Line of clean text allocated %v times", n)
	}
}

// checkSafe fails t when out could make a terminal act: an ESC byte, a C0
// control (but the newline and tab a multi-line caller keeps), DEL, a C1
// control, a bidi control, a line separator or invalid UTF-8.
func checkSafe(t *testing.T, in, out string, multiline bool) {
	t.Helper()
	if strings.IndexByte(out, 0x1b) >= 0 {
		t.Fatalf("ESC byte left in %q (from %q)", out, in)
	}
	if !utf8.ValidString(out) {
		t.Fatalf("invalid UTF-8 left in %q (from %q)", out, in)
	}
	for _, r := range out {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case r < 0x20 || r == 0x7f:
			t.Fatalf("C0 control %U left in %q (from %q)", r, out, in)
		case r >= 0x80 && r <= 0x9f:
			t.Fatalf("C1 control %U left in %q (from %q)", r, out, in)
		case Bidi(r):
			t.Fatalf("bidi control %U left in %q (from %q)", r, out, in)
		case r == '\u2028' || r == '\u2029':
			t.Fatalf("line separator %U left in %q (from %q)", r, out, in)
		}
	}
}

func FuzzSanitise(f *testing.F) {
	for _, s := range []string{hostile, "", "plain", "\x1b", "\x1b[", "\x1b]", "\x1bP\x1b", "\u009b\u009d\u0090",
		"\xc2", "a\r\n\tb", "\u202e\u2066", "\x1b]8;;\x07\x1b\\", "\xc2\x9c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line, text := Line(s), Text(s)
		checkSafe(t, s, line, false)
		checkSafe(t, s, text, true)
		if Line(line) != line {
			t.Fatalf("Line is not idempotent: %q → %q → %q", s, line, Line(line))
		}
		if Text(text) != text {
			t.Fatalf("Text is not idempotent: %q → %q → %q", s, text, Text(text))
		}
		if !Clean(line) {
			t.Fatalf("Clean(Line(%q)) = false for %q", s, line)
		}
		if Clean(s) != (line == s) {
			t.Fatalf("Clean(%q) = %v but Line gives %q", s, Clean(s), line)
		}
		if Clean(s) && text != s {
			t.Fatalf("Text changed clean %q to %q", s, text)
		}
	})
}
