package adf

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// ErrInvalidADF is wrapped by every error Valid returns.
var ErrInvalidADF = errors.New("invalid ADF document")

// The node groups of the ADF schema Jira Cloud validates against, cut to
// what Jira issue descriptions and comments use.
var (
	inlineNodes = []string{"text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date", "placeholder", "mediaInline", "inlineExtension"}
	topBlocks   = []string{"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "blockquote", "rule", "panel", "table", "mediaSingle", "mediaGroup", "expand", "blockCard", "embedCard", "decisionList", "taskList", "extension", "bodiedExtension", "layoutSection"}
	cellBlocks  = []string{"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "blockquote", "rule", "panel", "mediaGroup", "mediaSingle", "nestedExpand", "decisionList", "taskList", "blockCard", "embedCard", "extension"}
	panelBlocks = []string{"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "rule", "mediaGroup", "mediaSingle", "decisionList", "taskList", "blockCard", "extension"}
)

// nodeSpec says what one node type may contain.
type nodeSpec struct {
	kids  []string // allowed child types; nil means no content
	min   int      // fewest children
	first []string // if set, allowed types of the first child
}

// specs is read-only after initialisation: a table, not state.
var specs = map[string]nodeSpec{
	"paragraph":       {kids: inlineNodes},
	"heading":         {kids: inlineNodes},
	"bulletList":      {kids: []string{"listItem"}, min: 1},
	"orderedList":     {kids: []string{"listItem"}, min: 1},
	"listItem":        {kids: []string{"paragraph", "bulletList", "orderedList", "codeBlock", "mediaSingle"}, min: 1, first: []string{"paragraph", "codeBlock", "mediaSingle"}},
	"codeBlock":       {kids: []string{"text"}},
	"blockquote":      {kids: []string{"paragraph", "bulletList", "orderedList", "codeBlock", "mediaGroup", "mediaSingle"}, min: 1},
	"rule":            {},
	"panel":           {kids: panelBlocks, min: 1},
	"table":           {kids: []string{"tableRow"}, min: 1},
	"tableRow":        {kids: []string{"tableCell", "tableHeader"}, min: 1},
	"tableCell":       {kids: cellBlocks, min: 1},
	"tableHeader":     {kids: cellBlocks, min: 1},
	"mediaSingle":     {kids: []string{"media"}, min: 1},
	"mediaGroup":      {kids: []string{"media"}, min: 1},
	"media":           {},
	"expand":          {kids: cellBlocks, min: 1},
	"nestedExpand":    {kids: panelBlocks, min: 1},
	"blockCard":       {},
	"embedCard":       {},
	"decisionList":    {kids: []string{"decisionItem"}, min: 1},
	"decisionItem":    {kids: inlineNodes},
	"taskList":        {kids: []string{"taskItem", "taskList"}, min: 1},
	"taskItem":        {kids: inlineNodes},
	"extension":       {},
	"bodiedExtension": {kids: topBlocks, min: 1},
	"layoutSection":   {kids: []string{"layoutColumn"}, min: 1},
	"layoutColumn":    {kids: topBlocks, min: 1},
	"text":            {},
	"hardBreak":       {},
	"mention":         {},
	"emoji":           {},
	"inlineCard":      {},
	"status":          {},
	"date":            {},
	"placeholder":     {},
	"mediaInline":     {},
	"inlineExtension": {},
}

// textMarks are the marks a text node may carry: NOTES' list plus the
// colour and script marks Jira's editor writes. Only link may join code.
var textMarks = []string{"strong", "em", "underline", "strike", "code", "link", "textColor", "backgroundColor", "subsup"}

// blockMarks are the layout marks Jira's editor puts on blocks.
var blockMarks = map[string][]string{
	"paragraph": {"alignment", "indentation"},
	"heading":   {"alignment", "indentation"},
	"codeBlock": {"breakout"},
	"expand":    {"breakout"},
}

// Valid reports whether doc is a well-formed ADF document a Jira server
// would accept (version 1, type doc, known node types in allowed places, no
// empty text nodes, marks allowed per NOTES: code combines only with link,
// heading level 1-6), with a reason when not. The error wraps ErrInvalidADF
// and names the offending node by its JSON path.
func Valid(doc json.RawMessage) error {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return invalidf("", "not JSON: %v", err)
	}
	root := obj(v)
	if root == nil {
		return invalidf("", "not a JSON object")
	}
	if t := str(root["type"]); t != "doc" {
		return invalidf("", "type is %q, want \"doc\"", t)
	}
	if n, ok := root["version"].(float64); !ok || n != 1 {
		return invalidf("", "version must be 1")
	}
	content, ok := root["content"].([]any)
	if !ok {
		return invalidf("", "content must be an array")
	}
	return validKids(content, topBlocks, nil, 0, "content")
}

func invalidf(path, format string, args ...any) error {
	if path == "" {
		return fmt.Errorf("%w: %s", ErrInvalidADF, fmt.Sprintf(format, args...))
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalidADF, path, fmt.Sprintf(format, args...))
}

func validKids(kids []any, allowed, first []string, min int, path string) error {
	if len(kids) < min {
		return invalidf(path, "needs at least %d node(s)", min)
	}
	for i, k := range kids {
		p := path + "[" + strconv.Itoa(i) + "]"
		n := obj(k)
		if n == nil {
			return invalidf(p, "not a JSON object")
		}
		t, _ := n["type"].(string)
		if _, known := specs[t]; !known {
			return invalidf(p, "unknown node type %q", t)
		}
		if !slices.Contains(allowed, t) {
			return invalidf(p, "%s is not allowed here", t)
		}
		if i == 0 && first != nil && !slices.Contains(first, t) {
			return invalidf(p, "%s cannot come first", t)
		}
		if err := validNode(n, t, p); err != nil {
			return err
		}
	}
	return nil
}

func validNode(n map[string]any, t, path string) error {
	spec := specs[t]
	c, has := n["content"]
	content, isList := c.([]any)
	switch {
	case has && !isList:
		return invalidf(path, "content must be an array")
	case spec.kids == nil && len(content) > 0:
		return invalidf(path, "%s cannot have content", t)
	}
	if err := validAttrs(n, t, path); err != nil {
		return err
	}
	if err := validMarks(n, t, path); err != nil {
		return err
	}
	if t == "codeBlock" {
		for i, k := range content {
			if len(list(obj(k)["marks"])) > 0 {
				return invalidf(path+".content["+strconv.Itoa(i)+"]", "text in a codeBlock cannot have marks")
			}
		}
	}
	if spec.kids == nil {
		return nil
	}
	return validKids(content, spec.kids, spec.first, spec.min, path+".content")
}

func validAttrs(n map[string]any, t, path string) error {
	attrs := obj(n["attrs"])
	need := func(name string) error {
		if s, _ := attrs[name].(string); s == "" {
			return invalidf(path, "%s needs attrs.%s", t, name)
		}
		return nil
	}
	switch t {
	case "text":
		if s, ok := n["text"].(string); !ok || s == "" {
			return invalidf(path, "text nodes must have non-empty text")
		}
	case "heading":
		l, ok := attrs["level"].(float64)
		if !ok || l != float64(int(l)) || l < 1 || l > 6 {
			return invalidf(path, "heading level must be an integer from 1 to 6")
		}
	case "mention":
		return need("id")
	case "emoji":
		return need("shortName")
	case "status":
		return need("text")
	case "date":
		return need("timestamp")
	case "inlineCard", "blockCard", "embedCard":
		if _, ok := attrs["data"]; !ok {
			return need("url")
		}
	case "media":
		return need("id")
	}
	return nil
}

func validMarks(n map[string]any, t, path string) error {
	m, has := n["marks"]
	marks, ok := m.([]any)
	if !has {
		return nil
	}
	if !ok {
		return invalidf(path, "marks must be an array")
	}
	if t != "text" {
		for _, v := range marks {
			if mt := str(obj(v)["type"]); !slices.Contains(blockMarks[t], mt) {
				return invalidf(path, "%s cannot have mark %q", t, mt)
			}
		}
		return nil
	}
	var seen []string
	for _, v := range marks {
		mt := str(obj(v)["type"])
		if !slices.Contains(textMarks, mt) {
			return invalidf(path, "unknown mark %q", mt)
		}
		if slices.Contains(seen, mt) {
			return invalidf(path, "mark %s appears twice", mt)
		}
		if mt == "link" && attr(obj(v), "href") == "" {
			return invalidf(path, "link mark needs attrs.href")
		}
		seen = append(seen, mt)
	}
	if slices.Contains(seen, "code") {
		for _, mt := range seen {
			if mt != "code" && mt != "link" {
				return invalidf(path, "code mark cannot combine with %s", mt)
			}
		}
	}
	return nil
}
