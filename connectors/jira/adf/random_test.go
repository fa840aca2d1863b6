package adf

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

// Random documents reach shapes byte-level fuzzing of JSON and XML rarely
// builds; a fixed seed keeps the test reproducible.

var pieces = []string{"", " ", "a", "\n", "\r\n", "x y", "&<>\"'", "שלום", "🎉", "\t", "]]>", "\u0001"}

func randADF(r *rand.Rand, depth int) map[string]any {
	types := []string{"paragraph", "heading", "bulletList", "orderedList", "listItem", "codeBlock", "blockquote", "rule",
		"text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date", "panel", "table", "tableRow", "tableCell",
		"mediaSingle", "media", "taskList", "taskItem", "expand", "unknownThing"}
	n := map[string]any{"type": types[r.IntN(len(types))]}
	switch n["type"] {
	case "text":
		n["text"] = pieces[r.IntN(len(pieces))] + pieces[r.IntN(len(pieces))]
		var marks []any
		for _, m := range []string{"strong", "em", "underline", "strike", "code", "link", "textColor"} {
			if r.IntN(4) == 0 {
				mk := map[string]any{"type": m}
				if m == "link" {
					mk["attrs"] = map[string]any{"href": "https://x.example/" + pieces[r.IntN(len(pieces))]}
				}
				marks = append(marks, mk)
			}
		}
		n["marks"] = marks
		return n
	case "heading":
		n["attrs"] = map[string]any{"level": r.IntN(8)}
	case "mention", "emoji", "status", "inlineCard":
		n["attrs"] = map[string]any{"text": pieces[r.IntN(len(pieces))], "shortName": ":s:", "id": "1", "url": "https://c.example"}
	case "date":
		n["attrs"] = map[string]any{"timestamp": "1700000000000"}
	}
	if depth > 0 {
		var kids []any
		for range r.IntN(4) {
			kids = append(kids, randADF(r, depth-1))
		}
		n["content"] = kids
	}
	return n
}

func TestRandomADF(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]int{}
	for range 5000 {
		var content []any
		for range r.IntN(4) {
			content = append(content, randADF(r, 5))
		}
		raw, _ := json.Marshal(map[string]any{"version": 1, "type": "doc", "content": content})
		rich, err := ToRichText(raw)
		if err != nil {
			t.Fatalf("ToRichText(%s): %v", raw, err)
		}
		checkRich(t, rich)
		for _, tag := range []string{"<ul>", "<ol>", "<h1>", "<h2>", "<pre>", "<blockquote>", "<hr/>", "<a ", "<code>", "\n"} {
			if strings.Contains(rich, tag) {
				seen[tag]++
			}
		}
	}
	for _, tag := range []string{"<ul>", "<ol>", "<h1>", "<h2>", "<pre>", "<blockquote>", "<hr/>", "<a ", "<code>", "\n"} {
		if seen[tag] < 50 {
			t.Errorf("only %d random documents produced %q; the generator is too weak", seen[tag], tag)
		}
	}
}

func randRich(r *rand.Rand, depth int, b *strings.Builder) {
	tags := []string{"strong", "em", "u", "s", "code", "a", "ul", "ol", "li", "h1", "h2", "h3", "blockquote", "pre", "hr", "table", "tr", "td", "img", "p", "br", "object"}
	for range r.IntN(4) {
		if depth == 0 || r.IntN(3) == 0 {
			for _, c := range pieces[r.IntN(len(pieces)-1)] { // no control characters: XML refuses them
				richtext.WriteText(b, string(c))
			}
			continue
		}
		tag := tags[r.IntN(len(tags))]
		b.WriteString("<" + tag)
		switch tag {
		case "a":
			if r.IntN(4) > 0 {
				b.WriteString(` href="https://a.example/?q=1&amp;r=2"`)
			}
		case "img":
			b.WriteString(` alt="pic"`)
		}
		b.WriteString(">")
		randRich(r, depth-1, b)
		b.WriteString("</" + tag + ">")
	}
}

func TestRandomRich(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[string]int{}
	for range 5000 {
		var b strings.Builder
		b.WriteString("<body>")
		randRich(r, 5, &b)
		b.WriteString("</body>")
		d, err := FromRichText(b.String())
		if err != nil {
			t.Fatalf("FromRichText(%q): %v", b.String(), err)
		}
		checkADF(t, d)
		for _, typ := range []string{"bulletList", "orderedList", "heading", "codeBlock", "blockquote", "rule", "link", "code"} {
			if strings.Contains(string(d), `"type":"`+typ+`"`) {
				seen[typ]++
			}
		}
	}
	for _, typ := range []string{"bulletList", "orderedList", "heading", "codeBlock", "blockquote", "rule", "link", "code"} {
		if seen[typ] < 50 {
			t.Errorf("only %d random documents produced %s; the generator is too weak", seen[typ], typ)
		}
	}
}
