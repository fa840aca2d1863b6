package adf

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestToRichTextRealistic(t *testing.T) {
	for _, tc := range realisticADF {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ToRichText(json.RawMessage(tc.adf))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.rich {
				t.Fatalf("ToRichText:\n got %q\nwant %q", got, tc.rich)
			}
			// The input is arbitrary ADF: after one conversion it is stable.
			checkRich(t, got)
		})
	}
}

func TestFromRichTextRealistic(t *testing.T) {
	for _, tc := range realisticRich {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromRichText(tc.rich)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.adf {
				t.Fatalf("FromRichText:\n got %s\nwant %s", got, tc.adf)
			}
			checkRich(t, checkADF(t, got))
		})
	}
}

// TestMapping pins one construct at a time, in both directions where the
// mapping is exact and one way where it is lossy.
func TestMapping(t *testing.T) {
	p := func(inner string) string {
		return `{"version":1,"type":"doc","content":[` + inner + `]}`
	}
	txt := func(s string) string { return `{"type":"text","text":"` + s + `"}` }
	for _, tc := range []struct{ name, adf, rich string }{
		{"heading levels 3 to 6 become h2",
			p(`{"type":"heading","attrs":{"level":4},"content":[` + txt("a") + `]},{"type":"heading","attrs":{"level":6},"content":[` + txt("b") + `]}`),
			"<body><h2>a</h2><h2>b</h2></body>"},
		{"hardBreak in a heading becomes a space",
			p(`{"type":"heading","attrs":{"level":1},"content":[` + txt("a") + `,{"type":"hardBreak"},` + txt("b\\r\\nc") + `]}`),
			"<body><h1>a b  c</h1></body>"},
		{"code block in a list item becomes code lines",
			p(`{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"codeBlock","content":[` + txt("x\\ny") + `]}]}]}`),
			"<body><ul><li><code>x</code>\n<code>y</code></li></ul></body>"},
		{"list in a quote becomes marked lines",
			p(`{"type":"blockquote","content":[{"type":"orderedList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[` + txt("a") + `]},{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[` + txt("b") + `]}]}]}]},{"type":"listItem","content":[{"type":"paragraph","content":[` + txt("c") + `]}]}]}]}`),
			"<body><blockquote>1. a\n  - b\n2. c</blockquote></body>"},
		{"empty code block and quote",
			p(`{"type":"codeBlock"},{"type":"blockquote","content":[{"type":"paragraph"}]}`),
			"<body><pre></pre><blockquote></blockquote></body>"},
		{"tasks, decisions, expand, cards, external media",
			p(`{"type":"taskList","attrs":{"localId":"1"},"content":[{"type":"taskItem","attrs":{"localId":"2","state":"DONE"},"content":[` + txt("ship") + `]},{"type":"taskItem","attrs":{"localId":"3","state":"TODO"},"content":[` + txt("tell") + `]}]},` +
				`{"type":"decisionList","content":[{"type":"decisionItem","content":[` + txt("go") + `]}]},` +
				`{"type":"expand","attrs":{"title":"Details"},"content":[{"type":"paragraph","content":[` + txt("hidden") + `]}]},` +
				`{"type":"blockCard","attrs":{"url":"https://a.example/x"}},` +
				`{"type":"mediaSingle","content":[{"type":"media","attrs":{"type":"external","url":"https://a.example/p.png"}}]}`),
			"<body>[x] ship\n[ ] tell\ngo\nDetails\nhidden\n<a href=\"https://a.example/x\">https://a.example/x</a>\n<a href=\"https://a.example/p.png\">https://a.example/p.png</a></body>"},
		{"mention without @ and emoji without text",
			p(`{"type":"paragraph","content":[{"type":"mention","attrs":{"id":"1","text":"Grace"}},` + txt(" ") + `,{"type":"emoji","attrs":{"shortName":":tada:"}},{"type":"mention","attrs":{"id":"42"}}]}`),
			"<body>@Grace :tada:@42</body>"},
		{"colour and subsup marks dropped, text kept",
			p(`{"type":"paragraph","content":[{"type":"text","text":"red","marks":[{"type":"textColor","attrs":{"color":"#ff0000"}}]},{"type":"text","text":"2","marks":[{"type":"subsup","attrs":{"type":"sup"}}]}]}`),
			"<body>red2</body>"},
		{"code drops strong but keeps link",
			p(`{"type":"paragraph","content":[{"type":"text","text":"f()","marks":[{"type":"strong"},{"type":"code"},{"type":"link","attrs":{"href":"https://go.dev"}}]}]}`),
			"<body><a href=\"https://go.dev\"><code>f()</code></a></body>"},
		{"adjacent runs with equal marks merge",
			p(`{"type":"paragraph","content":[{"type":"text","text":"a","marks":[{"type":"strong"}]},{"type":"text","text":"b","marks":[{"type":"strong"}]},{"type":"text","text":""}]}`),
			"<body><strong>ab</strong></body>"},
		{"carriage return and control characters",
			p(`{"type":"paragraph","content":[` + txt("a\\r\\nb\\u0001") + `]}`),
			"<body>a&#13;\nb\uFFFD</body>"},
		{"link href with tab and newline",
			p(`{"type":"paragraph","content":[{"type":"text","text":"x","marks":[{"type":"link","attrs":{"href":"a\tb\nc"}}]}]}`),
			"<body><a href=\"a&#9;b&#10;c\">x</a></body>"},
		{"empty lines before a block and at the end",
			p(`{"type":"paragraph","content":[` + txt("a") + `]},{"type":"paragraph"},{"type":"rule"},{"type":"paragraph"}`),
			"<body>a\n\n<hr/></body>"},
		{"inline nodes directly in the doc",
			p(txt("loose") + `,{"type":"hardBreak"},` + txt("text")),
			"<body>loose\ntext</body>"},
		{"list item starting with a list",
			p(`{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[` + txt("x") + `]}]}]}]}]}`),
			"<body><ul><li>\n<ul><li>x</li></ul></li></ul></body>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ToRichText(json.RawMessage(tc.adf))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.rich {
				t.Fatalf("ToRichText:\n got %q\nwant %q", got, tc.rich)
			}
			checkRich(t, got)
		})
	}
}

func TestNoDocument(t *testing.T) {
	for _, doc := range []string{"", "null", "  null\n", `{"version":1,"type":"doc","content":[]}`, `{"type":"doc"}`, `{"version":1,"type":"doc","content":[{"type":"paragraph"}]}`} {
		if got, err := ToRichText(json.RawMessage(doc)); got != "" || err != nil {
			t.Errorf("ToRichText(%q) = %q, %v; want \"\", nil", doc, got, err)
		}
		if got := Text(json.RawMessage(doc)); got != "" {
			t.Errorf("Text(%q) = %q", doc, got)
		}
	}
	if got, err := ToRichText(nil); got != "" || err != nil {
		t.Errorf("ToRichText(nil) = %q, %v", got, err)
	}
	for _, rich := range []string{"", "<body></body>", "<body/>", "<body><strong></strong></body>"} {
		if got, err := FromRichText(rich); got != nil || err != nil {
			t.Errorf("FromRichText(%q) = %s, %v; want nil, nil", rich, got, err)
		}
	}
}

func TestToRichTextRejectsNonDocuments(t *testing.T) {
	for _, doc := range []string{"not json", "[]", `"doc"`, "1", `{"type":"paragraph"}`, `{"content":[]}`, `{"type":"doc"} {}`, `{"type":"doc"`} {
		got, err := ToRichText(json.RawMessage(doc))
		if !errors.Is(err, ErrNotADF) || got != "" {
			t.Errorf("ToRichText(%q) = %q, %v; want an ErrNotADF error", doc, got, err)
		}
	}
}

func TestFromRichTextPlainAndInvalid(t *testing.T) {
	got, err := FromRichText("a < b\nc & d")
	want := `{"version":1,"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"a < b"}]},{"type":"paragraph","content":[{"type":"text","text":"c & d"}]}]}`
	if err != nil || string(got) != want {
		t.Fatalf("plain text: got %s, %v\nwant %s", got, err, want)
	}
	for _, rich := range []string{
		"<body>", "<body><strong>x</body>", "<body>a &nbsp; b</body>", "<body>Q&A</body>",
		"<body>a</body><body>b</body>", "<body>a</body>tail", "<?xml version=\"1.0\"?><p>x</p>",
		"<body>\x01</body>", "<body>" + strings.Repeat("<em>", maxXMLDepth) + "x",
	} {
		if got, err := FromRichText(rich); !errors.Is(err, ErrInvalidXML) || got != nil {
			t.Errorf("FromRichText(%q) = %s, %v; want an ErrInvalidXML error", rich, got, err)
		}
	}
}

func TestFromRichTextLenient(t *testing.T) {
	// Tags Asana does not write are read as their content, never lost.
	got, err := FromRichText(`<?xml version="1.0"?>
<body><p>para <b>bold</b> <i>it</i><br/>next</p><h3>three</h3><table><tbody><tr><td>a</td><td>b</td></tr></tbody></table><blockquote><ul><li>q</li></ul></blockquote></body>`)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ToRichText(got)
	if err != nil {
		t.Fatal(err)
	}
	want := "<body>para <strong>bold</strong> <em>it</em>\nnext\n<h2>three</h2>a | b\n<blockquote>- q</blockquote></body>"
	if r != want {
		t.Fatalf("got  %q\nwant %q", r, want)
	}
	checkRich(t, r)
}

func TestDeepNesting(t *testing.T) {
	// Lists deeper than Asana can hold are kept as indented text lines.
	doc := `{"type":"paragraph","content":[{"type":"text","text":"leaf"}]}`
	for range 80 {
		doc = `{"type":"bulletList","content":[{"type":"listItem","content":[` + doc + `]}]}`
	}
	doc = `{"version":1,"type":"doc","content":[` + doc + `]}`
	r, err := ToRichText(json.RawMessage(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(r, "<ul>"); got != maxListDepth {
		t.Errorf("%d nested lists, want %d", got, maxListDepth)
	}
	if !strings.Contains(r, strings.Repeat("  ", 49)+"- leaf") {
		t.Errorf("deep leaf not kept as an indented line: %q", r)
	}
	checkRich(t, r)
}

func TestText(t *testing.T) {
	got := Text(json.RawMessage(realisticADF[1].adf))
	want := "- one\n  1. one.a\n  2. one.b\n- two"
	if got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if got := Text(json.RawMessage("garbage")); got != "" {
		t.Errorf("Text(garbage) = %q", got)
	}
	got = Text(json.RawMessage(realisticADF[3].adf))
	want = "if a < b && c > d {\n\treturn \"x\"\n}\nquoted text\nsecond\n---\nline one\nline two"
	if got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

func TestDeterministic(t *testing.T) {
	rich := realisticRich[2].rich
	first, err := FromRichText(rich)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(first), `{"version":1,"type":"doc","content":[{"type":"heading","attrs":{"level":1},"content":[`) {
		t.Fatalf("key order not fixed: %s", first)
	}
	for range 20 {
		if again, _ := FromRichText(rich); string(again) != string(first) {
			t.Fatalf("output changed between runs:\n%s\n%s", first, again)
		}
	}
}
