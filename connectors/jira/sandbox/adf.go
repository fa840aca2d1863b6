package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// adfInvalid is the message Jira gives for a rich-text field that is not
// an Atlassian Document.
const adfInvalid = "Operation value must be an Atlassian Document (see the Atlassian Document Format)."

// adfNode says where a node type may appear and what it requires.
type adfNode struct {
	inline   bool
	leaf     bool // has no content
	children []string
}

var (
	adfInlines = []string{"text", "hardBreak", "mention", "emoji", "inlineCard"}
	adfBlocks  = []string{"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "blockquote", "rule", "mediaSingle", "table", "panel"}
)

// adfNodes is the node vocabulary the sandbox accepts: the subset of ADF
// tandem meets, which Jira validates the same way.
var adfNodes = map[string]adfNode{
	"doc":         {children: adfBlocks},
	"paragraph":   {children: adfInlines},
	"heading":     {children: adfInlines},
	"bulletList":  {children: []string{"listItem"}},
	"orderedList": {children: []string{"listItem"}},
	"listItem":    {children: []string{"paragraph", "bulletList", "orderedList", "codeBlock", "mediaSingle"}},
	"codeBlock":   {children: []string{"text"}},
	"blockquote":  {children: []string{"paragraph", "bulletList", "orderedList", "codeBlock", "mediaSingle"}},
	"rule":        {leaf: true},
	"mediaSingle": {children: []string{"media"}},
	"media":       {leaf: true},
	"table":       {children: []string{"tableRow"}},
	"tableRow":    {children: []string{"tableHeader", "tableCell"}},
	"tableHeader": {children: adfBlocks},
	"tableCell":   {children: adfBlocks},
	"panel":       {children: []string{"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "rule", "mediaSingle"}},
	"text":        {inline: true, leaf: true},
	"hardBreak":   {inline: true, leaf: true},
	"mention":     {inline: true, leaf: true},
	"emoji":       {inline: true, leaf: true},
	"inlineCard":  {inline: true, leaf: true},
}

var adfMarks = map[string]bool{
	"strong": true, "em": true, "underline": true, "strike": true, "code": true,
	"link": true, "textColor": true, "subsup": true,
}

// checkADF validates raw as an Atlassian Document and returns it compacted
// for storage, or an error naming the first problem.
func checkADF(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not an object")
	}
	if n, ok := doc["version"].(json.Number); !ok || n.String() != "1" {
		return nil, fmt.Errorf("version must be 1")
	}
	if doc["type"] != "doc" {
		return nil, fmt.Errorf("the root must have type doc")
	}
	if err := checkNode(doc, "doc", "doc"); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func checkNode(n map[string]any, typ, path string) error {
	spec := adfNodes[typ]
	attrs, _ := n["attrs"].(map[string]any)
	if a, ok := n["attrs"]; ok && attrs == nil && a != nil {
		return fmt.Errorf("%s: attrs must be an object", path)
	}
	switch typ {
	case "text":
		s, ok := n["text"].(string)
		if !ok || s == "" {
			return fmt.Errorf("%s: a text node needs a non-empty text", path)
		}
		if err := checkMarks(n["marks"], path); err != nil {
			return err
		}
	case "heading":
		l, ok := attrs["level"].(json.Number)
		if !ok || (l.String() < "1" || l.String() > "6") || len(l.String()) != 1 {
			return fmt.Errorf("%s: heading level must be 1 to 6", path)
		}
	case "mention":
		if _, ok := attrs["id"].(string); !ok {
			return fmt.Errorf("%s: a mention needs attrs.id", path)
		}
	case "emoji":
		if _, ok := attrs["shortName"].(string); !ok {
			return fmt.Errorf("%s: an emoji needs attrs.shortName", path)
		}
	case "inlineCard":
		if _, ok := attrs["url"].(string); !ok {
			if _, ok := attrs["data"]; !ok {
				return fmt.Errorf("%s: an inlineCard needs attrs.url", path)
			}
		}
	case "media":
		if _, ok := attrs["id"].(string); !ok {
			if _, ok := attrs["url"].(string); !ok {
				return fmt.Errorf("%s: a media node needs attrs.id or attrs.url", path)
			}
		}
	}
	if typ != "text" {
		if _, ok := n["marks"]; ok && typ != "paragraph" {
			return fmt.Errorf("%s: only text nodes carry marks here", path)
		}
	}
	content, has := n["content"]
	if spec.leaf {
		if has {
			return fmt.Errorf("%s: a %s node has no content", path, typ)
		}
		return nil
	}
	if !has {
		if typ == "doc" || typ == "bulletList" || typ == "orderedList" || typ == "table" || typ == "tableRow" || typ == "mediaSingle" || typ == "listItem" {
			return fmt.Errorf("%s: content is required", path)
		}
		return nil
	}
	items, ok := content.([]any)
	if !ok {
		return fmt.Errorf("%s: content must be an array", path)
	}
	if len(items) == 0 && (typ == "bulletList" || typ == "orderedList" || typ == "listItem" || typ == "table" || typ == "tableRow" || typ == "mediaSingle") {
		return fmt.Errorf("%s: content must not be empty", path)
	}
	for i, it := range items {
		child, ok := it.(map[string]any)
		if !ok {
			return fmt.Errorf("%s.content[%d]: not a node", path, i)
		}
		ct, _ := child["type"].(string)
		if _, known := adfNodes[ct]; !known || ct == "doc" {
			return fmt.Errorf("%s.content[%d]: unknown node type %q", path, i, ct)
		}
		allowed := false
		for _, a := range spec.children {
			allowed = allowed || a == ct
		}
		if !allowed {
			return fmt.Errorf("%s.content[%d]: a %s may not contain a %s", path, i, typ, ct)
		}
		if typ == "codeBlock" {
			if _, ok := child["marks"]; ok {
				return fmt.Errorf("%s.content[%d]: text in a codeBlock has no marks", path, i)
			}
		}
		if err := checkNode(child, ct, fmt.Sprintf("%s.content[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func checkMarks(v any, path string) error {
	if v == nil {
		return nil
	}
	marks, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%s: marks must be an array", path)
	}
	seen := map[string]bool{}
	for i, m := range marks {
		mk, ok := m.(map[string]any)
		t, _ := mk["type"].(string)
		if !ok || !adfMarks[t] {
			return fmt.Errorf("%s.marks[%d]: unknown mark %q", path, i, t)
		}
		if seen[t] {
			return fmt.Errorf("%s.marks[%d]: duplicate mark %q", path, i, t)
		}
		seen[t] = true
		attrs, _ := mk["attrs"].(map[string]any)
		switch t {
		case "link":
			if h, ok := attrs["href"].(string); !ok || h == "" {
				return fmt.Errorf("%s.marks[%d]: a link needs attrs.href", path, i)
			}
		case "textColor":
			if _, ok := attrs["color"].(string); !ok {
				return fmt.Errorf("%s.marks[%d]: textColor needs attrs.color", path, i)
			}
		case "subsup":
			if ty := attrs["type"]; ty != "sub" && ty != "sup" {
				return fmt.Errorf("%s.marks[%d]: subsup type must be sub or sup", path, i)
			}
		}
	}
	if seen["code"] {
		for t := range seen {
			if t != "code" && t != "link" {
				return fmt.Errorf("%s: the code mark combines only with link, not %s", path, t)
			}
		}
	}
	return nil
}

// adfBlank reports whether raw is a version-1 doc with nothing to show:
// no content, or only paragraphs holding nothing but hard breaks and
// whitespace. Jira refuses such a comment as empty; anything else (a rule,
// a mention, a media node) is content.
func adfBlank(raw json.RawMessage) bool {
	var root struct {
		Version json.Number       `json:"version"`
		Type    string            `json:"type"`
		Content []json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &root) != nil || root.Type != "doc" || root.Version.String() != "1" {
		return false
	}
	for _, c := range root.Content {
		if !blankNode(c) {
			return false
		}
	}
	return true
}

// blankNode: a paragraph of blank inlines, a hard break, or whitespace.
func blankNode(raw json.RawMessage) bool {
	var n struct {
		Type    string            `json:"type"`
		Text    *string           `json:"text"`
		Content []json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &n) != nil {
		return false
	}
	switch n.Type {
	case "text":
		return n.Text != nil && strings.TrimSpace(*n.Text) == ""
	case "hardBreak":
		return true
	case "paragraph":
		for _, c := range n.Content {
			if !blankNode(c) {
				return false
			}
		}
		return true
	}
	return false
}

// adfText is a document's plain text, for JQL text search and browse pages.
func adfText(raw json.RawMessage) string {
	var n struct {
		Text    string            `json:"text"`
		Content []json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &n) != nil {
		return ""
	}
	out := n.Text
	for _, c := range n.Content {
		if t := adfText(c); t != "" {
			if out != "" {
				out += " "
			}
			out += t
		}
	}
	return out
}

// adfLines is a document's text for a person to read (the browse page):
// blocks on lines of their own, list items bulleted, hard breaks kept,
// inline text joined as written.
func adfLines(raw json.RawMessage) string {
	var b strings.Builder
	writeADFLines(&b, raw)
	return strings.TrimSpace(b.String())
}

func writeADFLines(b *strings.Builder, raw json.RawMessage) {
	var n struct {
		Type    string            `json:"type"`
		Text    string            `json:"text"`
		Content []json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &n) != nil {
		return
	}
	switch n.Type {
	case "text":
		b.WriteString(n.Text)
		return
	case "hardBreak":
		b.WriteString("\n")
		return
	case "listItem":
		b.WriteString("• ")
	}
	for _, c := range n.Content {
		writeADFLines(b, c)
	}
	switch n.Type {
	case "paragraph", "heading", "codeBlock", "rule":
		if !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
	}
}
