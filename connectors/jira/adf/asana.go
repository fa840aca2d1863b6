package adf

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

// ErrInvalidXML is wrapped by the errors FromRichText returns for rich text
// that is not well-formed XML with a <body> root.
var ErrInvalidXML = errors.New("rich text is not valid XML")

// maxXMLDepth bounds element nesting on input; Asana itself allows 100.
const maxXMLDepth = 1000

// xnode is one element (tag != "") or text run of parsed rich text.
type xnode struct {
	tag     string
	text    string
	href    string
	hasHref bool
	alt     string
	src     string
	kids    []*xnode
}

// parseXML reads rich text into a tree. It checks well-formedness and the
// <body> root only: unknown tags are read leniently (as their content) so
// that text is never lost to a tag Asana might add later.
func parseXML(rich string) (*xnode, error) {
	dec := xml.NewDecoder(strings.NewReader(rich))
	dec.Strict = true
	var root *xnode
	var stack []*xnode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{tag: t.Name.Local}
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "href":
					n.href, n.hasHref = a.Value, true
				case "alt":
					n.alt = a.Value
				case "src":
					n.src = a.Value
				}
			}
			switch {
			case len(stack) > 0:
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			case root != nil:
				return nil, fmt.Errorf("%w: more than one root element", ErrInvalidXML)
			case n.tag != "body":
				return nil, fmt.Errorf("%w: root element is <%s>, want <body>", ErrInvalidXML, n.tag)
			default:
				root = n
			}
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("%w: elements nested more than %d deep", ErrInvalidXML, maxXMLDepth)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if strings.TrimSpace(string(t)) != "" {
					return nil, fmt.Errorf("%w: text outside <body>", ErrInvalidXML)
				}
				continue
			}
			p := stack[len(stack)-1]
			p.kids = append(p.kids, &xnode{text: string(t)})
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no <body> element", ErrInvalidXML)
	}
	return root, nil
}

// flow collects the blocks of mixed content (<body>, <li>, …): runs of
// text and inline tags become paragraphs, block tags become blocks.
type flow struct {
	out   []block
	run   []span
	inRun bool
}

func readFlow(kids []*xnode) []block {
	var f flow
	for _, k := range kids {
		f.walk(k, 0, "")
	}
	f.flush()
	return f.out
}

func (f *flow) flush() {
	if f.inRun {
		f.out = append(f.out, para(f.run...))
	}
	f.run, f.inRun = nil, false
}

func (f *flow) add(s span) {
	f.run = append(f.run, s)
	f.inRun = true
}

func (f *flow) block(b block) {
	f.flushBeforeBlock()
	f.out = append(f.out, b)
}

// flushBeforeBlock ends a run that a block follows. One line break right
// before a block only ends the line (Asana renders "a\n<ul>" and "a<ul>"
// alike), so it is not read as an empty paragraph.
func (f *flow) flushBeforeBlock() {
	for i := len(f.run) - 1; i >= 0; i-- {
		if t := f.run[i].text; t != "" {
			f.run[i].text = strings.TrimSuffix(t, "\n")
			break
		}
	}
	f.flush()
}

func (f *flow) walk(n *xnode, marks mark, href string) {
	if n.tag == "" {
		f.add(span{text: n.text, marks: marks, href: href})
		return
	}
	switch n.tag {
	case "strong", "b":
		marks |= mStrong
	case "em", "i":
		marks |= mEm
	case "u", "ins":
		marks |= mUnderline
	case "s", "strike", "del":
		marks |= mStrike
	case "code":
		marks |= mCode
	case "a":
		if n.hasHref {
			href = n.href
			if textOf(n) == "" {
				// An empty link shows its target, as Asana's plain text does.
				f.add(span{text: href, marks: marks, href: href})
				return
			}
		}
	case "br":
		f.add(span{text: "\n", marks: marks, href: href})
		return
	case "img":
		text := n.alt
		if text == "" {
			text = n.src
		}
		if text == "" {
			text = "[image]"
		}
		f.block(para(span{text: text}))
		return
	case "ul", "ol":
		l := block{kind: kList, ordered: n.tag == "ol"}
		for _, k := range n.kids {
			switch {
			case k.tag == "li":
				l.items = append(l.items, readFlow(k.kids))
			case k.tag != "" || strings.TrimSpace(k.text) != "":
				l.items = append(l.items, readFlow([]*xnode{k}))
			}
		}
		f.block(l)
		return
	case "h1", "h2", "h3", "h4", "h5", "h6":
		level := 2
		if n.tag == "h1" {
			level = 1
		}
		var spans []span
		for i, p := range flattenAll(readFlow(n.kids)) {
			if i > 0 {
				spans = append(spans, span{text: " "})
			}
			spans = append(spans, p.spans...)
		}
		f.block(block{kind: kHeading, level: level, spans: spans})
		return
	case "blockquote":
		f.block(block{kind: kQuote, kids: readFlow(n.kids)})
		return
	case "pre":
		f.block(block{kind: kCode, text: textOf(n)})
		return
	case "hr":
		f.block(block{kind: kRule})
		return
	case "table":
		// Asana tables become one line per row, cells separated by " | ".
		f.flushBeforeBlock()
		f.rows(n)
		return
	}
	for _, k := range n.kids {
		f.walk(k, marks, href)
	}
}

func (f *flow) rows(n *xnode) {
	for _, k := range n.kids {
		if k.tag != "tr" {
			f.rows(k)
			continue
		}
		var spans []span
		cells := 0
		for _, c := range k.kids {
			if c.tag == "" {
				continue
			}
			if cells > 0 {
				spans = append(spans, span{text: " | "})
			}
			cells++
			for i, p := range flattenAll(readFlow([]*xnode{c})) {
				if i > 0 {
					spans = append(spans, span{text: " "})
				}
				spans = append(spans, p.spans...)
			}
		}
		f.out = append(f.out, para(spans...))
	}
}

func flattenAll(blocks []block) []block {
	var out []block
	for _, b := range blocks {
		out = append(out, flatten(b, "")...)
	}
	return out
}

func textOf(n *xnode) string {
	if n.tag == "" {
		return n.text
	}
	var b strings.Builder
	for _, k := range n.kids {
		b.WriteString(textOf(k))
	}
	return b.String()
}

// writeRich renders normalised blocks as Asana rich text. Paragraphs are
// lines: consecutive ones are joined by "\n", and the last line before a
// block ends with "\n" too, so that a lone empty line before a block shows.
func writeRich(blocks []block) string {
	var b strings.Builder
	b.WriteString("<body>")
	writeBlocks(&b, blocks)
	b.WriteString("</body>")
	return b.String()
}

func writeBlocks(b *strings.Builder, blocks []block) {
	for i, bl := range blocks {
		switch bl.kind {
		case kPara:
			if i > 0 && blocks[i-1].kind == kPara {
				b.WriteByte('\n')
			}
			writeSpans(b, bl.spans)
			if i+1 < len(blocks) && blocks[i+1].kind != kPara {
				b.WriteByte('\n')
			}
		case kHeading:
			tag := "h1"
			if bl.level != 1 {
				tag = "h2"
			}
			b.WriteString("<" + tag + ">")
			writeSpans(b, bl.spans)
			b.WriteString("</" + tag + ">")
		case kCode:
			b.WriteString("<pre>")
			richtext.WriteText(b, bl.text)
			b.WriteString("</pre>")
		case kQuote:
			b.WriteString("<blockquote>")
			writeBlocks(b, bl.kids)
			b.WriteString("</blockquote>")
		case kRule:
			b.WriteString("<hr/>")
		case kList:
			tag := "ul"
			if bl.ordered {
				tag = "ol"
			}
			b.WriteString("<" + tag + ">")
			for _, it := range bl.items {
				b.WriteString("<li>")
				writeBlocks(b, it)
				b.WriteString("</li>")
			}
			b.WriteString("</" + tag + ">")
		}
	}
}

// richTags lists the inline tags outermost first, so a link wraps its
// formatting the way Asana's editor writes it.
var richTags = []struct {
	bit mark
	tag string
}{{mStrong, "strong"}, {mEm, "em"}, {mUnderline, "u"}, {mStrike, "s"}, {mCode, "code"}}

func writeSpans(b *strings.Builder, spans []span) {
	for _, s := range spans {
		if s.href != "" {
			b.WriteString(`<a href="`)
			richtext.WriteAttr(b, s.href)
			b.WriteString(`">`)
		}
		for _, t := range richTags {
			if s.marks&t.bit != 0 {
				b.WriteString("<" + t.tag + ">")
			}
		}
		richtext.WriteText(b, s.text)
		for i := len(richTags) - 1; i >= 0; i-- {
			if s.marks&richTags[i].bit != 0 {
				b.WriteString("</" + richTags[i].tag + ">")
			}
		}
		if s.href != "" {
			b.WriteString("</a>")
		}
	}
}
