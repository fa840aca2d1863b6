// Package termtext makes text that came from outside safe to write to a
// terminal: task summaries, comments, file and user names, another node's
// instance name and URL, error messages that quote any of them.
//
// A terminal acts on what it is sent: an OSC 52 sequence in a task name
// overwrites the operator's clipboard, CSI 2J clears the screen, OSC 8
// plants a link, a right-to-left override turns the rest of the line
// around. Everything a terminal would act on is therefore taken out or
// made visible, and the text around it is kept:
//
//   - a whole escape sequence (CSI "ESC [ … final", OSC "ESC ] … BEL or ST",
//     DCS, SOS, PM and APC "ESC P/X/^/_ … ST", and their 8-bit forms
//     U+009B, U+009D, U+0090, U+0098, U+009E, U+009F) becomes one "␛"
//     (U+241B), so the operator sees that something was there without its
//     payload; an unterminated string sequence loses only its introducer;
//   - a bare ESC, and every other C1 control (U+0080–U+009F, each the 8-bit
//     form of an ESC sequence), also becomes "␛";
//   - other C0 controls and DEL become their Control Pictures (NUL "␀",
//     BEL "␇", DEL "␡"), except the line breaks and tabs a caller keeps;
//   - bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
//     U+061C) are dropped, so text shows in the order it is stored;
//   - invalid UTF-8 becomes U+FFFD.
//
// The results are idempotent and already-clean text comes back unchanged
// (and unallocated). Widths must be measured on the result, never on the
// input: the replacements are one cell each, the sequences they stand for
// none. The package imports nothing of the project's, so the console, the
// command line and the engine can all use it.
package termtext

import (
	"strings"
	"unicode/utf8"
)

// Escape is what an escape sequence, a bare ESC or a C1 control is shown as.
const Escape = '␛'

// Line returns s as one line of safe text: line breaks (CR, LF, CRLF as one,
// U+2028, U+2029) and tabs become a space. For names, keys, summaries,
// links and error messages: anything drawn within a line or a table cell.
func Line(s string) string { return clean(s, false) }

// Text returns s as safe text that keeps its lines and tabs: CRLF and a lone
// CR become LF (a lone CR would let a line overwrite itself), U+2028 and
// U+2029 become LF. For multi-line text such as a comment or description.
func Text(s string) string { return clean(s, true) }

// Clean reports whether s is safe, printable, single-line text as it is:
// valid UTF-8 with no control character (tab and newline included), no
// escape sequence and no bidirectional control. It is true exactly when
// Line(s) == s; a name a node gives itself must be Clean.
func Clean(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !plain(r, size) {
			return false
		}
		i += size
	}
	return true
}

// plain is a rune both modes pass through unchanged.
func plain(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return false
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return false
	case r == '\u2028', r == '\u2029':
		return false
	}
	return !Bidi(r)
}

// Bidi reports whether r is a bidirectional formatting control: the
// embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069, the
// marks U+200E, U+200F and the Arabic letter mark U+061C.
func Bidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0x200e || r == 0x200f || r == 0x061c
}

func clean(s string, multiline bool) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !plain(r, size) && !(multiline && (r == '\n' || r == '\t')) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == 0x1b:
			size = escapeLen(s[i:])
			b.WriteRune(Escape)
		case r >= 0x80 && r <= 0x9f:
			size = c1Len(s[i:], r)
			b.WriteRune(Escape)
		case r == '\r' || r == '\n' || r == '\u2028' || r == '\u2029':
			if r == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				size = 2
			}
			if multiline {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case r == '\t':
			if multiline {
				b.WriteByte('\t')
			} else {
				b.WriteByte(' ')
			}
		case r < 0x20:
			b.WriteRune(0x2400 + r) // ␀ … ␟
		case r == 0x7f:
			b.WriteRune('␡')
		case Bidi(r):
			// dropped
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// escapeLen is the length of the escape sequence s starts with (s[0] is
// ESC): the whole sequence for CSI and the string sequences, the ESC alone
// otherwise (what follows a bare ESC is harmless text once the ESC is gone).
func escapeLen(s string) int {
	if len(s) < 2 {
		return 1
	}
	switch s[1] {
	case '[':
		return csiLen(s, 2)
	case ']':
		return stringLen(s, 2, true)
	case 'P', 'X', '^', '_':
		return stringLen(s, 2, false)
	}
	return 1
}

// c1Len is the length of what the C1 control r at the start of s (two bytes
// of UTF-8) introduces: a CSI or string sequence in full, else r alone.
func c1Len(s string, r rune) int {
	switch r {
	case 0x9b:
		return csiLen(s, 2)
	case 0x9d:
		return stringLen(s, 2, true)
	case 0x90, 0x98, 0x9e, 0x9f:
		return stringLen(s, 2, false)
	}
	return utf8.RuneLen(r)
}

// csiLen ends a control sequence whose parameters start at s[from]:
// parameter bytes, intermediate bytes, one final byte (ECMA-48 5.4). A
// sequence cut short ends where it stops being one.
func csiLen(s string, from int) int {
	j := from
	for j < len(s) && s[j] >= 0x30 && s[j] <= 0x3f {
		j++
	}
	for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
		j++
	}
	if j < len(s) && s[j] >= 0x40 && s[j] <= 0x7e {
		j++
	}
	return j
}

// stringLen ends a control string whose body starts at s[from] at its
// string terminator (ESC \ or U+009C; BEL too for OSC, as xterm takes it).
// Another ESC ends it too, as in terminals, and starts a sequence of its
// own. A string never terminated loses only its introducer: its body, now
// harmless, is shown rather than silently swallowed to the end of s.
func stringLen(s string, from int, osc bool) int {
	for j := from; j < len(s); j++ {
		switch {
		case osc && s[j] == 0x07:
			return j + 1
		case s[j] == 0x1b:
			if j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
			return j
		case s[j] == 0xc2 && j+1 < len(s) && s[j+1] == 0x9c:
			return j + 2
		}
	}
	return from
}
