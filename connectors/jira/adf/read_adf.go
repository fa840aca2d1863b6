package adf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ErrNotADF is wrapped by the errors ToRichText returns for input that is
// not an ADF document at all.
var ErrNotADF = errors.New("not an ADF document")

// decode reads doc as generic JSON. It returns nil, nil for no document.
// Reading into maps rather than structs keeps odd but legal JSON (a string
// where an object was expected, say) from failing the whole document; the
// maps are only looked up by key, never iterated.
func decode(doc json.RawMessage) (map[string]any, error) {
	trimmed := bytes.TrimSpace(doc)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotADF, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrNotADF)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: top-level JSON is not an object", ErrNotADF)
	}
	if t := str(m["type"]); t != "doc" {
		return nil, fmt.Errorf("%w: type is %q, want \"doc\"", ErrNotADF, t)
	}
	return m, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func attr(n map[string]any, name string) string {
	switch v := obj(n["attrs"])[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// inlineTypes are the ADF nodes that live inside paragraphs.
var inlineTypes = map[string]bool{
	"text": true, "hardBreak": true, "mention": true, "emoji": true,
	"inlineCard": true, "status": true, "date": true, "placeholder": true,
	"mediaInline": true, "inlineExtension": true,
}

// readBlocks turns ADF block content into raw blocks. Nodes with no Asana
// counterpart are unwrapped (panels, tables, expands, layouts) or kept as
// their text; inline nodes found among blocks become a paragraph.
func readBlocks(nodes []any) []block {
	var out []block
	loose := -1 // index in out of the paragraph collecting loose inline nodes
	for _, v := range nodes {
		n := obj(v)
		if n == nil {
			continue
		}
		t := str(n["type"])
		if inlineTypes[t] {
			if loose < 0 {
				out = append(out, para())
				loose = len(out) - 1
			}
			out[loose].spans = readInline(n, 0, "", out[loose].spans)
			continue
		}
		loose = -1
		content := list(n["content"])
		switch t {
		case "paragraph", "decisionItem":
			out = append(out, para(readInlines(content)...))
		case "heading":
			level, _ := strconv.Atoi(attr(n, "level"))
			out = append(out, block{kind: kHeading, level: level, spans: readInlines(content)})
		case "bulletList", "orderedList":
			l := block{kind: kList, ordered: t == "orderedList"}
			for _, c := range content {
				item := []any{c}
				if str(obj(c)["type"]) == "listItem" {
					item = list(obj(c)["content"])
				}
				l.items = append(l.items, readBlocks(item))
			}
			out = append(out, l)
		case "codeBlock":
			var b strings.Builder
			for _, s := range readInlines(content) {
				b.WriteString(s.text)
			}
			out = append(out, block{kind: kCode, text: b.String()})
		case "blockquote":
			out = append(out, block{kind: kQuote, kids: readBlocks(content)})
		case "rule":
			out = append(out, block{kind: kRule})
		case "taskItem":
			box := "[ ] "
			if attr(n, "state") == "DONE" {
				box = "[x] "
			}
			out = append(out, para(append([]span{{text: box}}, readInlines(content)...)...))
		case "blockCard", "embedCard":
			if u := cardURL(n); u != "" {
				out = append(out, para(span{text: u, href: u}))
			}
		case "media":
			out = append(out, para(mediaSpan(n)))
		default:
			// Containers (panel, table, tableRow, tableCell, expand, layout…)
			// are unwrapped so their text survives; an expand keeps its title.
			if title := attr(n, "title"); title != "" {
				out = append(out, para(span{text: title}))
			}
			if text := str(n["text"]); text != "" {
				out = append(out, para(span{text: text}))
			}
			out = append(out, readBlocks(content)...)
		}
	}
	return out
}

func readInlines(nodes []any) []span {
	var out []span
	for _, v := range nodes {
		if n := obj(v); n != nil {
			out = readInline(n, 0, "", out)
		}
	}
	return out
}

// readInline appends the spans of one inline node, inheriting formatting.
func readInline(n map[string]any, marks mark, href string, out []span) []span {
	marks, href = readMarks(n, marks, href)
	add := func(text string) []span { return append(out, span{text: text, marks: marks, href: href}) }
	switch str(n["type"]) {
	case "text":
		return add(str(n["text"]))
	case "hardBreak":
		return add("\n")
	case "mention":
		name := attr(n, "text")
		if name == "" {
			name = attr(n, "id")
		}
		if !strings.HasPrefix(name, "@") {
			name = "@" + name
		}
		return add(name)
	case "emoji":
		if t := attr(n, "text"); t != "" {
			return add(t)
		}
		return add(attr(n, "shortName"))
	case "inlineCard":
		if u := cardURL(n); u != "" {
			return append(out, span{text: u, marks: marks, href: u})
		}
		return out
	case "status", "placeholder":
		return add(attr(n, "text"))
	case "date":
		ms, err := strconv.ParseInt(attr(n, "timestamp"), 10, 64)
		if err != nil {
			return add(attr(n, "timestamp"))
		}
		return add(time.UnixMilli(ms).UTC().Format("2006-01-02"))
	case "mediaInline", "media":
		s := mediaSpan(n)
		s.marks, s.href = marks, href
		return append(out, s)
	}
	if text := str(n["text"]); text != "" {
		out = add(text)
	}
	for _, c := range list(n["content"]) {
		if k := obj(c); k != nil {
			out = readInline(k, marks, href, out)
		}
	}
	return out
}

// readMarks adds a node's marks to the inherited ones. Marks Asana cannot
// show (textColor, subsup, …) are dropped; the text stays.
func readMarks(n map[string]any, marks mark, href string) (mark, string) {
	for _, v := range list(n["marks"]) {
		m := obj(v)
		switch str(m["type"]) {
		case "strong":
			marks |= mStrong
		case "em":
			marks |= mEm
		case "underline":
			marks |= mUnderline
		case "strike":
			marks |= mStrike
		case "code":
			marks |= mCode
		case "link":
			href = attr(m, "href")
		}
	}
	return marks, href
}

func cardURL(n map[string]any) string {
	if u := attr(n, "url"); u != "" {
		return u
	}
	return str(obj(obj(n["attrs"])["data"])["url"])
}

// mediaSpan keeps an attachment as its alt text, an external image as a
// link, and anything else as a marker so the reader sees something was there.
func mediaSpan(n map[string]any) span {
	if u := attr(n, "url"); u != "" && attr(n, "type") == "external" {
		return span{text: u, href: u}
	}
	if alt := attr(n, "alt"); alt != "" {
		return span{text: alt}
	}
	return span{text: "[attachment]"}
}
