package adf

import (
	"bytes"
	"encoding/json"
)

// The writer uses structs so that key order is fixed and the output is
// byte-for-byte deterministic.

type jDoc struct {
	Version int     `json:"version"`
	Type    string  `json:"type"`
	Content []jNode `json:"content"`
}

type jNode struct {
	Type    string  `json:"type"`
	Attrs   any     `json:"attrs,omitempty"`
	Content []jNode `json:"content,omitempty"`
	Text    string  `json:"text,omitempty"`
	Marks   []jMark `json:"marks,omitempty"`
}

type jMark struct {
	Type  string     `json:"type"`
	Attrs *linkAttrs `json:"attrs,omitempty"`
}

type headingAttrs struct {
	Level int `json:"level"`
}

type linkAttrs struct {
	Href string `json:"href"`
}

// writeADF renders normalised blocks as an ADF document.
func writeADF(blocks []block) (json.RawMessage, error) {
	d := jDoc{Version: 1, Type: "doc", Content: adfBlocks(blocks)}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

func adfBlocks(blocks []block) []jNode {
	out := make([]jNode, 0, len(blocks))
	for _, b := range blocks {
		switch b.kind {
		case kPara:
			out = append(out, jNode{Type: "paragraph", Content: adfSpans(b.spans)})
		case kHeading:
			out = append(out, jNode{Type: "heading", Attrs: &headingAttrs{Level: b.level}, Content: adfSpans(b.spans)})
		case kCode:
			n := jNode{Type: "codeBlock"}
			if b.text != "" {
				n.Content = []jNode{{Type: "text", Text: b.text}}
			}
			out = append(out, n)
		case kQuote:
			out = append(out, jNode{Type: "blockquote", Content: adfBlocks(b.kids)})
		case kRule:
			out = append(out, jNode{Type: "rule"})
		case kList:
			n := jNode{Type: "bulletList"}
			if b.ordered {
				n.Type = "orderedList"
			}
			for _, it := range b.items {
				n.Content = append(n.Content, jNode{Type: "listItem", Content: adfBlocks(it)})
			}
			out = append(out, n)
		}
	}
	return out
}

func adfSpans(spans []span) []jNode {
	var out []jNode
	for _, s := range spans {
		n := jNode{Type: "text", Text: s.text}
		for _, m := range []struct {
			bit  mark
			name string
		}{{mStrong, "strong"}, {mEm, "em"}, {mUnderline, "underline"}, {mStrike, "strike"}, {mCode, "code"}} {
			if s.marks&m.bit != 0 {
				n.Marks = append(n.Marks, jMark{Type: m.name})
			}
		}
		if s.href != "" {
			n.Marks = append(n.Marks, jMark{Type: "link", Attrs: &linkAttrs{Href: s.href}})
		}
		out = append(out, n)
	}
	return out
}
