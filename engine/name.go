package engine

import (
	"fmt"
	"unicode/utf8"
)

// CheckInstanceName refuses an instance name a terminal could act on: one
// with control characters (escape sequences start with one), bidirectional
// controls, line separators or invalid UTF-8. Other admins see the name in
// their consoles and command lines, and in invitation codes; a node gives
// itself only names that are plain printable text.
//
// It accepts exactly what termtext.Clean accepts (a test in package main
// holds the two together); the engine checks for itself rather than import
// the console's package.
func CheckInstanceName(name string) error {
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		var what string
		switch {
		case r == utf8.RuneError && size == 1:
			what = fmt.Sprintf("a byte that is not UTF-8 (%#x)", name[i])
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			what = fmt.Sprintf("a control character (%U)", r)
		case r == '\u2028' || r == '\u2029':
			what = fmt.Sprintf("a line separator (%U)", r)
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c:
			what = fmt.Sprintf("a bidirectional control (%U)", r)
		}
		if what != "" {
			return fmt.Errorf("%w: the instance name %q has %s at byte %d; give a name of printable text (--name)", ErrBadRequest, name, what, i)
		}
		i += size
	}
	return nil
}
