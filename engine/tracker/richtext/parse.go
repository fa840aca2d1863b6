package richtext

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every error that reports a document which is not
// valid Asana rich text, so callers can tell bad input from other failures
// with errors.Is.
var ErrInvalid = errors.New("invalid rich text")

// MaxDepth is how deeply elements may nest, <body> counting as one. Asana's
// editor never nests anywhere near this; the limit keeps hostile input from
// costing unbounded stack in the recursive renderers.
const MaxDepth = 100

// Error describes why a document is not valid rich text and where.
type Error struct {
	// Line is the 1-based line of the offending markup, 0 when unknown.
	Line int
	// Reason says what is wrong, in words a user can act on.
	Reason string
}

// Error formats the reason and line as one sentence.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("rich text: %s (line %d)", e.Reason, e.Line)
	}
	return "rich text: " + e.Reason
}

// Unwrap lets errors.Is(err, ErrInvalid) match.
func (e *Error) Unwrap() error { return ErrInvalid }

// node is one element or one run of text in a parsed document.
type node struct {
	tag   string // "" for text
	text  string
	attrs []xml.Attr // sorted by name: attribute order carries no meaning
	kids  []*node
}

// parser turns a document into a tree, enforcing the rules as it goes so
// that every consumer (Validate, Canonical, ToPlain) agrees on validity.
type parser struct {
	dec   *xml.Decoder
	root  *node
	stack []*node
	line  int  // where the current token starts
	first bool // the current token is the first in the document
}

func invalid(line int, format string, args ...any) error {
	return &Error{Line: line, Reason: fmt.Sprintf(format, args...)}
}

// parse reads a whole document. It never panics: encoding/xml reports
// malformed input as errors and the tree depth is bounded by MaxDepth.
func parse(html string) (*node, error) {
	p := &parser{dec: xml.NewDecoder(strings.NewReader(html))}
	// Strict mode with no Entity map accepts only XML's five named entities
	// and numeric references, as Asana's XML parser does: &nbsp; is an error.
	p.dec.Strict = true
	for {
		p.line, _ = p.dec.InputPos()
		p.first = p.dec.InputOffset() == 0
		tok, err := p.dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, xmlError(p.line, err)
		}
		if err := p.token(tok); err != nil {
			return nil, err
		}
	}
	if p.root == nil {
		return nil, invalid(0, "root element must be <body>; the document has none")
	}
	return p.root, nil
}

func xmlError(line int, err error) error {
	var syn *xml.SyntaxError
	if errors.As(err, &syn) {
		return invalid(syn.Line, "XML is invalid: %s", syn.Msg)
	}
	return invalid(line, "XML is invalid: %v", err)
}

func (p *parser) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		return p.start(t)
	case xml.EndElement:
		// The decoder has already checked that it matches the open element.
		p.stack = p.stack[:len(p.stack)-1]
	case xml.CharData:
		return p.text(string(t))
	case xml.Comment:
		// Comments are well-formed XML and display nothing; they are dropped.
	case xml.ProcInst:
		// The XML declaration is harmless where XML allows it, at the very
		// start; the decoder has already refused versions other than 1.0
		// and non-UTF-8 encodings.
		if t.Target != "xml" || !p.first {
			return invalid(p.line, "processing instruction <?%s?> is not allowed", t.Target)
		}
	case xml.Directive:
		// DOCTYPE and friends could declare entities; rich text has none.
		return invalid(p.line, "<!%s> declarations are not allowed", firstWord(string(t)))
	}
	return nil
}

func (p *parser) start(t xml.StartElement) error {
	name := t.Name.Local
	if t.Name.Space != "" {
		return invalid(p.line, "tag <%s:%s> is not allowed: rich text has no namespaces", t.Name.Space, name)
	}
	r, known := rules[name]
	if !known {
		return invalid(p.line, "tag <%s> is not allowed", name)
	}
	if len(p.stack) == 0 {
		if p.root != nil {
			return invalid(p.line, "only one root element is allowed, found <%s> after </body>", name)
		}
		if name != "body" {
			return invalid(p.line, "root element must be <body>, not <%s>", name)
		}
	} else {
		parent := p.stack[len(p.stack)-1]
		pr := rules[parent.tag]
		if pr.content == emptyContent {
			return invalid(p.line, "<%s> must be empty", parent.tag)
		}
		if !pr.allows(name) {
			return invalid(p.line, "<%s> is not allowed inside <%s>%s", name, parent.tag, placementHint(name))
		}
	}
	if len(p.stack) >= MaxDepth {
		return invalid(p.line, "elements are nested more than %d deep", MaxDepth)
	}
	n := &node{tag: name}
	if err := p.attrs(n, r, t.Attr); err != nil {
		return err
	}
	if len(p.stack) == 0 {
		p.root = n
	} else {
		parent := p.stack[len(p.stack)-1]
		parent.kids = append(parent.kids, n)
	}
	p.stack = append(p.stack, n)
	return nil
}

func (p *parser) attrs(n *node, r rule, attrs []xml.Attr) error {
	for _, a := range attrs {
		if a.Name.Space != "" {
			return invalid(p.line, "attribute %q is not allowed on <%s>: rich text has no namespaces", a.Name.Space+":"+a.Name.Local, n.tag)
		}
		if !r.attrs[a.Name.Local] {
			return invalid(p.line, "attribute %q is not allowed on <%s>", a.Name.Local, n.tag)
		}
		if slices.ContainsFunc(n.attrs, func(b xml.Attr) bool { return b.Name.Local == a.Name.Local }) {
			return invalid(p.line, "attribute %q appears twice on <%s>", a.Name.Local, n.tag)
		}
		n.attrs = append(n.attrs, xml.Attr{Name: xml.Name{Local: a.Name.Local}, Value: a.Value})
	}
	slices.SortFunc(n.attrs, func(a, b xml.Attr) int { return strings.Compare(a.Name.Local, b.Name.Local) })
	if len(r.oneOf) > 0 && !slices.ContainsFunc(n.attrs, func(a xml.Attr) bool { return slices.Contains(r.oneOf, a.Name.Local) }) {
		return invalid(p.line, "<%s> needs a %s attribute", n.tag, strings.Join(r.oneOf, " or "))
	}
	return nil
}

func (p *parser) text(s string) error {
	blank := strings.TrimSpace(s) == ""
	if len(p.stack) == 0 {
		// Whitespace around the root is XML's "misc" and carries nothing.
		if !blank {
			return invalid(p.line, "text outside <body> is not allowed")
		}
		return nil
	}
	parent := p.stack[len(p.stack)-1]
	pr := rules[parent.tag]
	switch {
	case pr.content == emptyContent:
		return invalid(p.line, "<%s> must be empty", parent.tag)
	case !blank && !pr.allowsText():
		// Point at the first visible character, not the line break before it.
		line := p.line + strings.Count(s[:len(s)-len(strings.TrimLeft(s, " \t\r\n"))], "\n")
		return invalid(line, "text is not allowed directly inside <%s>; put it in <%s>", parent.tag, pr.children[0])
	case pr.noNewline && strings.ContainsAny(s, "\r\n"):
		return invalid(p.line, "<%s> must fit on one line", parent.tag)
	}
	if !utf8.ValidString(s) {
		// The decoder rejects invalid UTF-8; this guards the invariant.
		return invalid(p.line, "text is not valid UTF-8")
	}
	// Runs split by a comment or CDATA section stay separate nodes; the
	// renderers write them back to back, and merging here would be
	// quadratic in the number of splits.
	parent.kids = append(parent.kids, &node{text: s})
	return nil
}

// placementHint adds the usual fix for elements that only fit one place.
func placementHint(tag string) string {
	switch tag {
	case "li":
		return "; list items go inside <ul> or <ol>"
	case "tr":
		return "; rows go inside <table>"
	case "td":
		return "; cells go inside <tr>"
	case "body":
		return "; <body> is only the root"
	}
	if blockTags[tag] {
		return "; it is a block and cannot sit inside formatting, headers or quotes"
	}
	return ""
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}
