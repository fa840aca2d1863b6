package tui

import (
	"strconv"
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// Script mode's text on screen: a script's lines coloured (keywords,
// strings, comments), a unified diff coloured, and where in a script an
// error points. Colours come from the Styles, so NO_COLOR (and the tests'
// plain renderer) leave the text as it is.

// The two scripts of a connection's side, as files and errors name them.
const (
	outgoingFile = "outgoing.star"
	incomingFile = "incoming.star"
)

// starlarkKeyword says whether a word is one of Starlark's keywords or
// constants, which a script shows in the keyword colour.
func starlarkKeyword(w string) bool {
	switch w {
	case "and", "break", "continue", "def", "elif", "else", "for", "if", "in", "lambda", "load", "not", "or",
		"pass", "return", "while", "True", "False", "None":
		return true
	}
	return false
}

// highlighter colours a script a line at a time; open is the quote of a
// triple-quoted string still open at the end of the last line.
type highlighter struct {
	st   *Styles
	open string
}

// line colours one line of a script (tabs already expanded).
func (h *highlighter) line(s string) string {
	var b, plain strings.Builder
	flush := func() {
		b.WriteString(plain.String())
		plain.Reset()
	}
	i := 0
	for i < len(s) {
		if h.open != "" {
			end := strings.Index(s[i:], h.open)
			flush()
			if end < 0 {
				b.WriteString(h.st.String.Render(s[i:]))
				return b.String()
			}
			end = i + end + len(h.open)
			b.WriteString(h.st.String.Render(s[i:end]))
			h.open, i = "", end
			continue
		}
		c := s[i]
		switch {
		case c == '#':
			flush()
			b.WriteString(h.st.Comment.Render(s[i:]))
			return b.String()
		case c == '"' || c == '\'':
			flush()
			if q3 := strings.Repeat(string(c), 3); strings.HasPrefix(s[i:], q3) {
				b.WriteString(h.st.String.Render(q3))
				h.open, i = q3, i+3
				continue
			}
			end := stringEnd(s, i)
			b.WriteString(h.st.String.Render(s[i:end]))
			i = end
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(s) && (s[j] == '_' || unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j]))) {
				j++
			}
			// A keyword is a whole word: not an attribute (item.pass) nor a
			// part of a longer name.
			if w := s[i:j]; starlarkKeyword(w) && (i == 0 || s[i-1] != '.') {
				flush()
				b.WriteString(h.st.Keyword.Render(w))
			} else {
				plain.WriteString(w)
			}
			i = j
		default:
			plain.WriteByte(c)
			i++
		}
	}
	flush()
	return b.String()
}

// stringEnd is where the one-line string starting at s[i] (a quote) ends:
// after its closing quote, or at the end of the line.
func stringEnd(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j + 1
		}
	}
	return len(s)
}

// expandTabs replaces tabs with spaces to the next multiple of four, so a
// script's lines measure what they show.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		if r == '\t' {
			n := 4 - col%4
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

// diffLines colours a unified diff: file names, hunk headers, lines added
// and lines taken out.
func diffLines(st *Styles, diff string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
		l = expandTabs(l)
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			out = append(out, st.Header.Render(l))
		case strings.HasPrefix(l, "@@"):
			out = append(out, st.DiffHunk.Render(l))
		case strings.HasPrefix(l, "+"):
			out = append(out, st.DiffAdd.Render(l))
		case strings.HasPrefix(l, "-"):
			out = append(out, st.DiffDel.Render(l))
		default:
			out = append(out, l)
		}
	}
	return out
}

// scriptLoc is the place in a script an error names ("incoming.star:12:9:
// message"), and the message; Line is 0 when the error names the script
// only.
type scriptLoc struct {
	File string
	Line int
	Col  int
	Msg  string
}

// findScriptLoc finds where in a script an error happened, wherever in
// the error the script is named ("Acme_to_Globex's incoming rules on
// KAN-1: incoming.star:12:9: …"); ok is false for an error that names no
// script.
func findScriptLoc(err string) (loc scriptLoc, ok bool) {
	for i := 0; i < len(err); {
		j := indexScript(err[i:])
		if j < 0 {
			return scriptLoc{}, false
		}
		j += i
		file := err[j : j+len(outgoingFile)]
		rest := err[j+len(file):]
		nums, msg, found := strings.Cut(rest, ": ")
		if found && (nums == "" || nums[0] == ':') {
			loc = scriptLoc{File: file, Msg: msg}
			parts := strings.Split(strings.TrimPrefix(nums, ":"), ":")
			if nums != "" {
				if loc.Line, _ = strconv.Atoi(parts[0]); loc.Line <= 0 {
					i = j + 1
					continue
				}
				if len(parts) > 1 {
					loc.Col, _ = strconv.Atoi(parts[1])
				}
			}
			return loc, true
		}
		i = j + 1
	}
	return scriptLoc{}, false
}

// indexScript is where the first script name starts in s, -1 if none.
func indexScript(s string) int {
	o, in := strings.Index(s, outgoingFile), strings.Index(s, incomingFile)
	switch {
	case o < 0:
		return in
	case in < 0:
		return o
	}
	return min(o, in)
}

// String is the place as "incoming.star:12" (the script alone when the
// error names no line).
func (l scriptLoc) String() string {
	if l.Line == 0 {
		return l.File
	}
	return l.File + ":" + itoa(l.Line)
}

// ownScriptLoc is where a sync's error points in this node's scripts: a
// sync sent fails in this side's outgoing script, one received in its
// incoming script. An error naming the other side's script (reported back
// here) is not this node's to open: ok is false for it.
func ownScriptLoc(direction, err string) (loc scriptLoc, ok bool) {
	loc, found := findScriptLoc(err)
	if !found || loc.Line == 0 {
		return loc, false
	}
	want := outgoingFile
	if direction == directionIn {
		want = incomingFile
	}
	return loc, loc.File == want
}

// scriptErrorText is an error as the console lists it: a script's error
// as its script, line and message ("incoming.star:12  ran past its
// budget…"), any other as it is.
func scriptErrorText(err string) string {
	if loc, ok := findScriptLoc(err); ok {
		return loc.String() + "  " + loc.Msg
	}
	return err
}

// openScript opens a connection's page on its Rules tab at loc, for a
// script error.
func openScript(c *common, conn adminapi.Connection, loc scriptLoc) tea.Cmd {
	// A script error is a Script mode connection's, whatever the caller
	// last read of it; the page reads it afresh.
	conn.Mode = adminapi.ModeScript
	return push(newConnectionScreen(c, conn).atScript(loc))
}
