package adf

import (
	"strconv"
	"strings"

	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

// The intermediate form. Both readers (ADF and Asana XML) produce a raw
// tree of blocks, normalise brings it to the one shape both writers can
// express exactly, and each writer is the inverse of its reader on that
// shape. That is what makes round trips converge after one pass.
//
// Normal form:
//   - a paragraph is one line: no "\n" in its spans, spans non-empty,
//     adjacent spans with equal formatting merged, code only with a link;
//   - a heading has level 1 or 2 and no line break;
//   - a quote holds only paragraphs, at least one;
//   - a list has at least one item; an item holds paragraphs and lists
//     and starts with a paragraph; lists nest at most maxListDepth deep;
//   - a sequence does not end in a single empty paragraph after another
//     block (Asana cannot show it), except an item's only paragraph.

// mark is a set of inline formats; the link target travels in span.href.
type mark uint8

const (
	mStrong mark = 1 << iota
	mEm
	mUnderline
	mStrike
	mCode
)

// maxListDepth bounds list nesting so that the Asana writer stays well
// inside richtext.MaxDepth (two elements per level plus <body> and marks).
const maxListDepth = 30

// span is a run of text with one formatting.
type span struct {
	text  string
	marks mark
	href  string // "" for no link
}

type kind uint8

const (
	kPara kind = iota
	kHeading
	kList
	kCode
	kQuote
	kRule
)

// block is one block of the intermediate form.
type block struct {
	kind    kind
	level   int     // kHeading
	spans   []span  // kPara, kHeading
	text    string  // kCode
	kids    []block // kQuote
	ordered bool    // kList
	items   [][]block
}

func para(spans ...span) block { return block{kind: kPara, spans: spans} }

// where says what a sequence of blocks sits in.
type where uint8

const (
	inBody where = iota
	inItem
)

// normalise brings raw blocks to normal form; depth counts enclosing lists.
func normalise(raw []block, w where, depth int) []block {
	var out []block
	for _, b := range raw {
		switch {
		case b.kind == kPara:
			out = append(out, splitPara(b.spans)...)
		case b.kind == kList && depth < maxListDepth:
			l := block{kind: kList, ordered: b.ordered}
			for _, it := range b.items {
				l.items = append(l.items, normalise(it, inItem, depth+1))
			}
			if len(l.items) > 0 {
				out = append(out, l)
			}
		case w == inItem || b.kind == kList:
			// Asana list items hold only text and lists.
			out = append(out, flatten(b, "")...)
		case b.kind == kHeading:
			level := 2
			if b.level <= 1 {
				level = 1
			}
			out = append(out, block{kind: kHeading, level: level, spans: oneLine(b.spans)})
		case b.kind == kCode:
			out = append(out, block{kind: kCode, text: richtext.Sanitize(b.text)})
		case b.kind == kQuote:
			q := block{kind: kQuote}
			for _, k := range b.kids {
				q.kids = append(q.kids, flatten(k, "")...)
			}
			if len(q.kids) == 0 {
				q.kids = []block{para()}
			}
			out = append(out, q)
		case b.kind == kRule:
			out = append(out, block{kind: kRule})
		}
	}
	// A lone empty paragraph after the last block would be written as
	// nothing at all.
	if n := len(out); n > 0 && out[n-1].kind == kPara && len(out[n-1].spans) == 0 &&
		(n == 1 || out[n-2].kind != kPara) && !(w == inItem && n == 1) {
		out = out[:n-1]
	}
	if w == inItem && (len(out) == 0 || out[0].kind != kPara) {
		out = append([]block{para()}, out...)
	}
	return out
}

// flatten turns any block into normalised paragraphs, keeping its text:
// list items get "- " or "1. " markers and two spaces of indent per level.
func flatten(b block, indent string) []block {
	switch b.kind {
	case kPara, kHeading:
		return splitPara(prefixed(indent, b.spans))
	case kCode:
		var out []block
		for _, line := range strings.Split(b.text, "\n") {
			out = append(out, splitPara([]span{{text: indent}, {text: line, marks: mCode}})...)
		}
		return out
	case kQuote:
		var out []block
		for _, k := range b.kids {
			out = append(out, flatten(k, indent)...)
		}
		return out
	case kRule:
		return splitPara([]span{{text: indent + "---"}})
	case kList:
		var out []block
		for i, it := range b.items {
			marker := "- "
			if b.ordered {
				marker = strconv.Itoa(i+1) + ". "
			}
			first := true
			for _, k := range it {
				switch {
				case k.kind == kList:
					out = append(out, flatten(k, indent+"  ")...)
				case first:
					out = append(out, flatten(k, indent+marker)...)
				default:
					out = append(out, flatten(k, indent+"  ")...)
				}
				first = false
			}
			if first {
				out = append(out, splitPara([]span{{text: indent + marker}})...)
			}
		}
		return out
	}
	return nil
}

func prefixed(prefix string, spans []span) []span {
	if prefix == "" {
		return spans
	}
	return append([]span{{text: prefix}}, spans...)
}

// splitPara cleans spans and cuts them into one paragraph per line.
func splitPara(spans []span) []block {
	var out []block
	var cur []span
	for _, s := range spans {
		lines := strings.Split(s.text, "\n")
		for i, line := range lines {
			if i > 0 {
				out = append(out, para(clean(cur)...))
				cur = nil
			}
			cur = append(cur, span{text: line, marks: s.marks, href: s.href})
		}
	}
	return append(out, para(clean(cur)...))
}

// oneLine cleans spans for a heading, which must fit on one line.
func oneLine(spans []span) []span {
	out := make([]span, len(spans))
	for i, s := range spans {
		s.text = strings.NewReplacer("\r", " ", "\n", " ").Replace(s.text)
		out[i] = s
	}
	return clean(out)
}

// clean drops empty spans, enforces "code combines only with link" and
// merges neighbours with the same formatting.
func clean(spans []span) []span {
	var out []span
	var text strings.Builder // the text of the last span, while it grows
	for _, s := range spans {
		s.text = richtext.Sanitize(s.text)
		s.href = richtext.Sanitize(s.href)
		if s.text == "" {
			continue
		}
		if s.marks&mCode != 0 {
			s.marks = mCode
		}
		if n := len(out); n > 0 && out[n-1].marks == s.marks && out[n-1].href == s.href {
			text.WriteString(s.text)
			continue
		}
		if n := len(out); n > 0 {
			out[n-1].text = text.String()
		}
		text.Reset()
		text.WriteString(s.text)
		out = append(out, s)
	}
	if n := len(out); n > 0 {
		out[n-1].text = text.String()
	}
	return out
}

// plain renders normalised blocks as text lines.
func plain(blocks []block) string {
	var lines []string
	for _, b := range blocks {
		for _, p := range flatten(b, "") {
			var sb strings.Builder
			for _, s := range p.spans {
				sb.WriteString(s.text)
			}
			lines = append(lines, sb.String())
		}
	}
	return strings.Join(lines, "\n")
}
