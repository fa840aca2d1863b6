// Package richtext is the tracker contract's neutral rich text: the one
// form descriptions and comment bodies take on an Entity and between nodes.
// It reads, checks and writes that form. Every connector converts its
// tracker's rich text to and from it at its edge (Jira's ADF in
// connectors/jira/adf); no connector reads another's format.
//
// The form is an XML document whose root is <body>, drawn from a small tag
// set (see rules.go). It is exactly Asana's rich text — the html_notes of
// tasks and the html_text of stories, https://developers.asana.com/docs/rich-text
// — chosen because it is small, well specified and checkable, so the Asana
// connector passes it through unconverted. Asana answers 400 Bad Request to
// anything outside it, so clients check before writing and sandboxes check
// what they are sent, both with Validate.
//
// Whitespace inside <body> is content (Asana renders it pre-wrap and uses
// "\n\n" to split paragraph blocks), so nothing here trims or folds it.
package richtext

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validate reports whether html is valid Asana rich text. A non-nil error is
// an *Error wrapping ErrInvalid that says what is wrong and on which line.
func Validate(html string) error {
	_, err := parse(html)
	return err
}

// FromPlain wraps plain text as rich text. It escapes &, <, >, and both
// quotes, and keeps newlines as they are because Asana keeps "\n" inside
// <body>. Characters XML cannot carry at all (NUL, most C0 controls, U+FFFE,
// U+FFFF, invalid UTF-8) become U+FFFD; everything else survives a ToPlain
// round trip exactly. The result is already in Canonical form.
func FromPlain(text string) string {
	var b strings.Builder
	b.Grow(len(text) + len("<body></body>"))
	b.WriteString("<body>")
	writeText(&b, sanitize(text))
	b.WriteString("</body>")
	return b.String()
}

// ToPlain renders rich text as plain text, close to how Asana derives notes
// from html_notes: tags dropped, entities unescaped, text kept verbatim, each
// block (header, list item, quote, code block, image, table row) on its own
// line. List items get "- " or "1. " markers, nested lists two spaces of
// indent per level; images show their alt text (or src); table cells are
// separated by tabs. Invalid input is an error wrapping ErrInvalid.
func ToPlain(html string) (string, error) {
	root, err := parse(html)
	if err != nil {
		return "", err
	}
	var w plainWriter
	w.walk(root, "")
	return w.b.String(), nil
}

// Canonical returns a normalised form of html such that two documents Asana
// would display identically compare equal; the sync engine fingerprints it
// and uses it to prove that html_notes round-trips without growing.
//
// It removes only differences XML or Asana's layout make meaningless:
// attribute order and quoting, entity and character-reference spelling
// (&#39; vs &apos; vs '), CDATA sections, comments, the XML declaration,
// whitespace outside <body>, self-closing versus empty element syntax, and
// whitespace between list items and table rows (where no text can show).
// Text inside <body> is kept byte for byte. Canonical(Canonical(x)) equals
// Canonical(x), and the result always passes Validate. Invalid input is an
// error wrapping ErrInvalid.
func Canonical(html string) (string, error) {
	root, err := parse(html)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(html))
	writeCanonical(&b, root, "")
	return b.String(), nil
}

func writeCanonical(b *strings.Builder, n *node, parent string) {
	if n.tag == "" {
		if rules[parent].content != onlyChildren {
			writeText(b, n.text)
		}
		return
	}
	b.WriteByte('<')
	b.WriteString(n.tag)
	for _, a := range n.attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name.Local)
		b.WriteString(`="`)
		writeAttr(b, a.Value)
		b.WriteByte('"')
	}
	// Void elements are always written self-closed; others always with an
	// end tag, so <a data-asana-gid="1"/> and <a ...></a> compare equal.
	if rules[n.tag].content == emptyContent {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	for _, k := range n.kids {
		writeCanonical(b, k, n.tag)
	}
	b.WriteString("</")
	b.WriteString(n.tag)
	b.WriteByte('>')
}

// WriteText writes s to b as rich-text character data, escaped as
// FromPlain escapes it, so what is written is already canonical.
func WriteText(b *strings.Builder, s string) { writeText(b, s) }

// WriteAttr writes s to b as an attribute value (an href), escaped so that
// XML attribute normalisation keeps its tabs and line breaks.
func WriteAttr(b *strings.Builder, s string) { writeAttr(b, s) }

// Sanitize replaces what XML 1.0 cannot carry, even as a reference, with
// U+FFFD: no rich text can hold it, so no round trip could keep it.
func Sanitize(s string) string { return sanitize(s) }

// writeText escapes character data. Quotes are escaped too (not required by
// XML) so that FromPlain output is canonical as it stands. A carriage return
// must be a reference: XML parsers turn a literal one into "\n".
func writeText(b *strings.Builder, s string) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&#39;")
		case '\r':
			b.WriteString("&#13;")
		default:
			b.WriteRune(r)
		}
	}
}

// writeAttr escapes an attribute value; tabs and line breaks become
// references because XML attribute normalisation would turn them to spaces.
func writeAttr(b *strings.Builder, s string) {
	for _, r := range s {
		switch r {
		case '\t':
			b.WriteString("&#9;")
		case '\n':
			b.WriteString("&#10;")
		default:
			writeText(b, string(r))
		}
	}
}

// sanitize replaces what XML 1.0 cannot represent, even as a reference.
func sanitize(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || !isXMLChar(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !isXMLChar(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isXMLChar is the Char production of XML 1.0.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// plainWriter accumulates ToPlain output. Blocks start on a fresh line and
// push whatever follows them onto the next line, without doubling a line
// break the text already has.
type plainWriter struct {
	b       strings.Builder
	pending bool // a block ended: the next text starts on a new line
}

func (w *plainWriter) atLineStart() bool {
	s := w.b.String()
	return s == "" || s[len(s)-1] == '\n'
}

// startBlock moves to the start of a line.
func (w *plainWriter) startBlock() {
	if !w.atLineStart() {
		w.b.WriteByte('\n')
	}
	w.pending = false
}

func (w *plainWriter) endBlock() { w.pending = true }

func (w *plainWriter) text(s string) {
	if s == "" {
		return
	}
	if w.pending {
		if s[0] != '\n' && !w.atLineStart() {
			w.b.WriteByte('\n')
		}
		w.pending = false
	}
	w.b.WriteString(s)
}

func (w *plainWriter) walk(n *node, indent string) {
	switch n.tag {
	case "":
		w.text(n.text)
	case "ul", "ol":
		w.startBlock()
		num := 0
		for _, k := range n.kids {
			if k.tag != "li" {
				continue // whitespace between items
			}
			num++
			w.startBlock()
			w.b.WriteString(indent)
			if n.tag == "ol" {
				w.b.WriteString(strconv.Itoa(num) + ". ")
			} else {
				w.b.WriteString("- ")
			}
			w.kids(k, indent+"  ")
			w.endBlock()
		}
		w.endBlock()
	case "h1", "h2", "blockquote", "pre", "object":
		w.startBlock()
		w.kids(n, indent)
		w.endBlock()
	case "hr":
		// Asana's guidance: render a rule as a line break if it can't be drawn.
		w.startBlock()
		w.endBlock()
	case "img":
		w.startBlock()
		if alt := attr(n, "alt"); alt != "" {
			w.text(alt)
		} else {
			w.text(attr(n, "src"))
		}
		w.endBlock()
	case "table":
		w.startBlock()
		for _, row := range n.kids {
			if row.tag != "tr" {
				continue
			}
			w.startBlock()
			cells := 0
			for _, cell := range row.kids {
				if cell.tag != "td" {
					continue
				}
				if cells > 0 {
					w.b.WriteByte('\t')
				}
				cells++
				w.kids(cell, indent)
			}
			w.endBlock()
		}
		w.endBlock()
	case "a":
		// A mention written as <a data-asana-gid="…"/> has no text until
		// Asana expands it; show the link target rather than nothing.
		if len(n.kids) == 0 {
			w.text(attr(n, "href"))
			return
		}
		w.kids(n, indent)
	default:
		w.kids(n, indent)
	}
}

func (w *plainWriter) kids(n *node, indent string) {
	for _, k := range n.kids {
		w.walk(k, indent)
	}
}

func attr(n *node, name string) string {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
