// Package adf converts between Jira's Atlassian Document Format (ADF, the
// JSON of issue descriptions and comment bodies) and the tracker contract's
// neutral rich text (engine/tracker/richtext: "<body>…</body>" XML, the
// same form as Asana's html_notes and html_text), which tandem uses between
// nodes. The neutral form is called "Asana rich text" below, after the
// tracker whose form it is.
//
// Both directions go through one intermediate form and normalise it (see
// ir.go), so a document converted there and back is stable after one pass.
//
//	ADF                                  Asana rich text
//	paragraph                            one line of text; paragraphs are joined by "\n"
//	hardBreak                            "\n" (read back as a paragraph break)
//	text marks strong, em, underline,    <strong>, <em>, <u>, <s>, <code>
//	  strike, code
//	link mark {href}                     <a href="…">
//	heading level 1                      <h1>
//	heading level 2–6                    <h2> (read back as level 2)
//	bulletList / orderedList / listItem  <ul> / <ol> / <li>, nested too
//	codeBlock                            <pre> (language dropped)
//	blockquote                           <blockquote>, its paragraphs as lines
//	rule                                 <hr/>
//
// Paragraphs are lines, so a hardBreak and a paragraph break both become
// "\n" and "\n" always reads back as a paragraph break; an empty paragraph
// is an empty line. The last line before a block ends in "\n" as well, and
// on reading one "\n" right before a block is taken as that line end, not
// as an empty paragraph (Asana shows "a\n<ul>" and "a<ul>" alike).
//
// What has no counterpart is kept as text, never dropped: a mention as
// "@Name", an emoji as its character or shortName, a status or placeholder
// as its text, a date as YYYY-MM-DD, inline, block and embed cards as a link
// to their URL, media as its alt text or "[attachment]", task items with a
// "[ ] " or "[x] " box. Containers (panel, table, expand, layout, task and
// decision lists) are unwrapped, so table cells become lines of text.
// Colours, sub/superscript, list start numbers and code languages are
// dropped. Where Asana allows only inline content (list items, quotes),
// nested blocks become lines: headings as plain lines, code as lines marked
// code, lists as "- " or "1. " lines. Code combines only with a link, as
// ADF requires, so other marks on code are dropped.
//
// From Asana, unknown tags are read as their content, <img> as its alt text
// and <table> as one line per row with cells separated by " | ".
package adf

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ToRichText converts an ADF document to Asana rich text ("<body>…</body>").
// A nil/empty/"null" doc gives "" (no description). Unknown or unmappable
// nodes (mentions, emoji, media, tables, panels, status, dates, inlineCard…)
// are kept as their text (mention "@Name", emoji shortName or text, a card's
// URL as a link, table cells as text lines), never dropped.
// It returns an error only for input that is not an ADF document at all (not
// JSON, not type "doc"); such errors wrap ErrNotADF.
func ToRichText(doc json.RawMessage) (string, error) {
	root, err := decode(doc)
	if err != nil || root == nil {
		return "", err
	}
	blocks := normalise(readBlocks(list(root["content"])), inBody, 0)
	if len(blocks) == 0 {
		return "", nil
	}
	return writeRich(blocks), nil
}

// FromRichText converts Asana rich text to an ADF document (version 1, type
// doc). "" gives nil (no description). Plain text without <body> is accepted
// and treated as text. Invalid XML is an error wrapping ErrInvalidXML.
//
// Input is read as XML when, after leading whitespace, it starts with
// "<body" or "<?xml"; anything else is plain text.
func FromRichText(rich string) (json.RawMessage, error) {
	if rich == "" {
		return nil, nil
	}
	var raw []block
	if t := strings.TrimLeft(rich, " \t\r\n"); strings.HasPrefix(t, "<body") || strings.HasPrefix(t, "<?xml") {
		root, err := parseXML(rich)
		if err != nil {
			return nil, err
		}
		raw = readFlow(root.kids)
	} else {
		raw = []block{para(span{text: rich})}
	}
	blocks := normalise(raw, inBody, 0)
	if len(blocks) == 0 {
		return nil, nil
	}
	out, err := writeADF(blocks)
	if err != nil {
		return nil, fmt.Errorf("adf: encoding document: %w", err)
	}
	return out, nil
}

// Text returns the plain text of an ADF document (for logs/search), "" for
// nil. Blocks are separated by line breaks and list items carry "- " or
// "1. " markers; a document that cannot be read gives "".
func Text(doc json.RawMessage) string {
	root, err := decode(doc)
	if err != nil || root == nil {
		return ""
	}
	return plain(normalise(readBlocks(list(root["content"])), inBody, 0))
}
