package richtext

import (
	"errors"
	"strings"
	"testing"
)

// asanaComment is the complete rich comment from Asana's documentation, as
// the API returns it.
const asanaComment = `<body>All these new tasks are <em>really</em> getting disorganized, so <a href="https://app.asana.com/0/4168466/list" data-asana-accessible="true" data-asana-dynamic="true" data-asana-type="user" data-asana-gid="4168112">@Tim Bizzaro</a> just made the new <a href="https://app.asana.com/0/5732985/list" data-asana-accessible="true" data-asana-dynamic="true" data-asana-type="project" data-asana-gid="5732985">Work Requests</a> project to help keep them organized. <strong>Everyone</strong> should start using the <a href="https://app.asana.com/0/5732985/6489418" data-asana-accessible="true" data-asana-dynamic="true" data-asana-type="task" data-asana-gid="6489418" data-asana-project="5732985">Request template</a> when adding new tasks there.</body>`

func TestValidateAccepts(t *testing.T) {
	for name, doc := range map[string]string{
		"empty body":         `<body></body>`,
		"self-closed body":   `<body/>`,
		"plain text":         `<body>Hello, world</body>`,
		"documented comment": asanaComment,
		"mention to expand":  `<body>cc <a data-asana-gid="4168112"/></body>`,
		"vanity link":        `<body><a data-asana-gid="123" data-asana-dynamic="false">custom text</a></body>`,
		"formatting":         `<body><strong>b</strong> <em>i</em> <u>u</u> <s>s</s> <code>c</code> <strong><em>both</em></strong></body>`,
		"lists nested":       `<body><ul><li>one</li><li>two<ol><li>a</li></ol></li></ul></body>`,
		"pretty list":        "<body><ul>\n  <li>one</li>\n  <li>two</li>\n</ul></body>",
		"headers and rule":   `<body><h1>Title <em>now</em></h1><h2>Sub</h2><hr/>text</body>`,
		"quote and code":     "<body><blockquote>said <strong>so</strong></blockquote><pre>x := 1\ny := 2</pre></body>",
		"inline image":       `<body><img data-asana-gid="1234" src="https://s3/x.png" alt="x" style="display:block" data-asana-type="attachment"/></body>`,
		"image open close":   `<body><img data-asana-gid="1234"></img></body>`,
		"embed":              `<body><object type="application/vnd.asana.external_media" data-asana-gid="1"><a href="https://loom.com/x">https://loom.com/x</a></object></body>`,
		"table":              `<body><table><tr><td>a</td><td><strong>b</strong></td></tr></table></body>`,
		"entities":           `<body>&amp; &lt; &gt; &quot; &apos; &#39; &#x1F600; &#160;</body>`,
		"cdata":              `<body><![CDATA[<not a tag> & co]]></body>`,
		"comment":            `<body>a<!-- note -->b</body>`,
		"xml declaration":    `<?xml version="1.0" encoding="UTF-8"?><body>x</body>`,
		"space around root":  "\n  <body>x</body>\n",
		"single quotes":      `<body><a href='https://x'>x</a></body>`,
		"unicode":            "<body>שלום עולם — 你好 🎉 \u200b</body>",
		"newlines kept":      "<body>line one\n\u200b\nline three\n\nblock</body>",
		"nesting at limit":   nested(MaxDepth),
	} {
		t.Run(name, func(t *testing.T) {
			if err := Validate(doc); err != nil {
				t.Fatalf("Validate(%q) = %v, want nil", doc, err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"empty":            {``, "root element must be <body>; the document has none"},
		"only whitespace":  {" \n", "root element must be <body>"},
		"not xml":          {`plain words`, "text outside <body> is not allowed (line 1)"},
		"root div":         {`<div>x</div>`, "tag <div> is not allowed (line 1)"},
		"root strong":      {`<strong>x</strong>`, "root element must be <body>, not <strong> (line 1)"},
		"div inside":       {"<body>\n<div>x</div></body>", "tag <div> is not allowed (line 2)"},
		"p inside":         {`<body><p>x</p></body>`, "tag <p> is not allowed"},
		"br":               {`<body>a<br/>b</body>`, "tag <br> is not allowed"},
		"h3":               {`<body><h3>x</h3></body>`, "tag <h3> is not allowed"},
		"upper case":       {`<BODY>x</BODY>`, "tag <BODY> is not allowed"},
		"unclosed":         {`<body><strong>x</body>`, "XML is invalid: element <strong> closed by </body> (line 1)"},
		"truncated":        {`<body>x`, "XML is invalid: unexpected EOF"},
		"html entity":      {`<body>a&nbsp;b</body>`, "XML is invalid: invalid character entity &nbsp;"},
		"bare ampersand":   {`<body>Q&A</body>`, "XML is invalid"},
		"bare less-than":   {`<body>1 < 2</body>`, "XML is invalid"},
		"unquoted attr":    {`<body><a href=x>x</a></body>`, "XML is invalid"},
		"nul reference":    {`<body>&#0;</body>`, "XML is invalid: illegal character code U+0000"},
		"control char":     {"<body>\x01</body>", "XML is invalid"},
		"bad utf8":         {"<body>\xff</body>", "XML is invalid: invalid UTF-8"},
		"two roots":        {`<body>a</body><body>b</body>`, "only one root element is allowed"},
		"text after":       {`<body>a</body>tail`, "text outside <body> is not allowed"},
		"attr on strong":   {`<body><strong class="x">x</strong></body>`, `attribute "class" is not allowed on <strong>`},
		"attr on body":     {`<body style="x">x</body>`, `attribute "style" is not allowed on <body>`},
		"onclick on a":     {`<body><a href="https://x" onclick="y">x</a></body>`, `attribute "onclick" is not allowed on <a>`},
		"duplicate attr":   {`<body><a href="https://x" href="https://y">x</a></body>`, `attribute "href" appears twice on <a>`},
		"link no target":   {`<body><a>x</a></body>`, "<a> needs a href or data-asana-gid attribute"},
		"image no gid":     {`<body><img src="https://x"/></body>`, "<img> needs a data-asana-gid attribute"},
		"object no type":   {`<body><object data-asana-gid="1"></object></body>`, "<object> needs a type attribute"},
		"li outside list":  {`<body><li>x</li></body>`, "<li> is not allowed inside <body>; list items go inside <ul> or <ol>"},
		"text in list":     {"<body><ul>\n  x<li>y</li></ul></body>", "text is not allowed directly inside <ul>; put it in <li> (line 2)"},
		"strong in list":   {`<body><ul><strong>x</strong></ul></body>`, "<strong> is not allowed inside <ul>"},
		"list in strong":   {`<body><strong><ul><li>x</li></ul></strong></body>`, "<ul> is not allowed inside <strong>; it is a block"},
		"list in header":   {`<body><h1><ul><li>x</li></ul></h1></body>`, "<ul> is not allowed inside <h1>"},
		"header in list":   {`<body><ul><li><h1>x</h1></li></ul></body>`, "<h1> is not allowed inside <li>"},
		"newline header":   {"<body><h1>a\nb</h1></body>", "<h1> must fit on one line"},
		"text in rule":     {`<body><hr>x</hr></body>`, "<hr> must be empty"},
		"child in image":   {`<body><img data-asana-gid="1"><em>x</em></img></body>`, "<img> must be empty"},
		"td outside row":   {`<body><table><td>x</td></table></body>`, "<td> is not allowed inside <table>; cells go inside <tr>"},
		"body in body":     {`<body><body>x</body></body>`, "<body> is not allowed inside <body>; <body> is only the root"},
		"namespace":        {`<x:body xmlns:x="urn:x">x</x:body>`, "rich text has no namespaces"},
		"default xmlns":    {`<body xmlns="http://www.w3.org/1999/xhtml">x</body>`, "rich text has no namespaces"},
		"doctype":          {`<!DOCTYPE body><body>x</body>`, "<!DOCTYPE> declarations are not allowed"},
		"processing instr": {`<body><?php echo 1 ?></body>`, "processing instruction <?php?> is not allowed"},
		"late declaration": {"\n<?xml version=\"1.0\"?><body/>", "processing instruction <?xml?> is not allowed (line 2)"},
		"latin-1":          {`<?xml version="1.0" encoding="ISO-8859-1"?><body/>`, "XML is invalid"},
		"too deep":         {nested(MaxDepth + 1), "elements are nested more than 100 deep"},
		"very deep":        {strings.Repeat("<strong>", 100000), "root element must be <body>"},
		"very deep inside": {"<body>" + strings.Repeat("<em>", 100000), "elements are nested more than 100 deep"},
	} {
		t.Run(name, func(t *testing.T) {
			err := Validate(tc.doc)
			if err == nil {
				t.Fatalf("Validate(%q) = nil, want error containing %q", tc.doc, tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			var rte *Error
			if !errors.As(err, &rte) {
				t.Errorf("error %v is not an *Error", err)
			}
			if !strings.HasPrefix(err.Error(), "rich text: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate(%q) = %q, want it to contain %q", tc.doc, err, tc.want)
			}
			// Every entry point agrees on validity.
			if _, err := Canonical(tc.doc); !errors.Is(err, ErrInvalid) {
				t.Errorf("Canonical accepted invalid input: %v", err)
			}
			if _, err := ToPlain(tc.doc); !errors.Is(err, ErrInvalid) {
				t.Errorf("ToPlain accepted invalid input: %v", err)
			}
		})
	}
}

// nested wraps text in depth elements counting <body>.
func nested(depth int) string {
	return "<body>" + strings.Repeat("<em>", depth-1) + "x" + strings.Repeat("</em>", depth-1) + "</body>"
}

var trickyPlain = []string{
	"",
	"plain",
	"Q&A <tags> & \"quotes\" 'single' &amp; &#39; ]]> <body></body>",
	"1 < 2 > 0",
	"line one\nline two\n\n\nafter blank lines\n",
	"  leading and trailing spaces  ",
	"\ttabs\tand\r\nCRLF\rlone CR",
	"עברית ומספרים 123 mixed with English \u200f\u202e RTL overrides",
	"emoji 🎉👩🏽‍💻🇳🇱 and ZWJ, zero width \u200b space",
	"日本語のテキスト and Ελληνικά",
	"\u00a0non-breaking\u00a0spaces",
	"<script>alert(1)</script>",
}

func TestPlainRoundTrip(t *testing.T) {
	for _, text := range trickyPlain {
		html := FromPlain(text)
		if err := Validate(html); err != nil {
			t.Errorf("FromPlain(%q) = %q is invalid: %v", text, html, err)
			continue
		}
		got, err := ToPlain(html)
		if err != nil || got != text {
			t.Errorf("ToPlain(FromPlain(%q)) = %q, %v; want the text back", text, got, err)
		}
		if c, _ := Canonical(html); c != html {
			t.Errorf("FromPlain(%q) = %q is not canonical; Canonical gives %q", text, html, c)
		}
	}
}

func TestFromPlainEscapes(t *testing.T) {
	got := FromPlain(`a & b < c > d "e" 'f'` + "\r\n")
	want := `<body>a &amp; b &lt; c &gt; d &quot;e&quot; &#39;f&#39;&#13;` + "\n</body>"
	if got != want {
		t.Errorf("FromPlain = %q, want %q", got, want)
	}
}

func TestFromPlainReplacesWhatXMLCannotCarry(t *testing.T) {
	got := FromPlain("a\x00b\x1bc\xffd\uffff")
	if want := "<body>a\ufffdb\ufffdc\ufffdd\ufffd</body>"; got != want {
		t.Errorf("FromPlain = %q, want %q", got, want)
	}
	if err := Validate(got); err != nil {
		t.Errorf("Validate(%q) = %v", got, err)
	}
}

func TestToPlain(t *testing.T) {
	for name, tc := range map[string]struct{ html, want string }{
		"entities":     {`<body>Tom &amp; Jerry &lt;3 &#39;quoted&#39; &#x1F600;</body>`, "Tom & Jerry <3 'quoted' 😀"},
		"formatting":   {`<body>a <strong>bold</strong> and <em>it</em>.</body>`, "a bold and it."},
		"link":         {asanaComment, "All these new tasks are really getting disorganized, so @Tim Bizzaro just made the new Work Requests project to help keep them organized. Everyone should start using the Request template when adding new tasks there."},
		"empty link":   {`<body>see <a href="https://x.test/a"/> now</body>`, "see https://x.test/a now"},
		"bullets":      {`<body>Steps:<ul><li>one</li><li>two</li></ul>done</body>`, "Steps:\n- one\n- two\ndone"},
		"numbers":      {"<body><ol>\n<li>one</li>\n<li>two</li>\n</ol></body>", "1. one\n2. two"},
		"nested lists": {`<body><ul><li>a<ul><li>b</li></ul></li><li>c</li></ul></body>`, "- a\n  - b\n- c"},
		"list newline": {"<body>x\n<ul><li>a</li></ul>\ny</body>", "x\n- a\ny"},
		"headers":      {`<body><h1>Title</h1>Body text<h2>Sub</h2>more</body>`, "Title\nBody text\nSub\nmore"},
		"rule":         {`<body>above<hr/>below</body>`, "above\nbelow"},
		"image alt":    {`<body>see<img data-asana-gid="1" alt="diagram.png"/>after</body>`, "see\ndiagram.png\nafter"},
		"quote code":   {`<body><blockquote>q</blockquote><pre>a\n  b</pre></body>`, "q\na\\n  b"},
		"table":        {`<body><table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table></body>`, "a\tb\nc\td"},
		"whitespace":   {"<body>  spaced\n\n  out  </body>", "  spaced\n\n  out  "},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ToPlain(tc.html)
			if err != nil || got != tc.want {
				t.Errorf("ToPlain(%q) = %q, %v; want %q", tc.html, got, err, tc.want)
			}
		})
	}
}

func TestCanonicalEquivalences(t *testing.T) {
	for name, forms := range map[string][]string{
		"self-closing": {`<body><a data-asana-gid="1"/></body>`, `<body><a data-asana-gid="1"></a></body>`},
		"void":         {`<body><hr/></body>`, `<body><hr></hr></body>`, `<body><hr /></body>`},
		"attr order": {
			`<body><a href="https://x" data-asana-gid="1">x</a></body>`,
			`<body><a data-asana-gid='1'   href='https://x'>x</a></body>`,
		},
		"entities": {
			`<body>it's "q" &amp; x &gt; y</body>`,
			`<body>it&#39;s &quot;q&quot; &amp; x > y</body>`,
			`<body>it&apos;s &#34;q&#34; &#38; x &#x3E; y</body>`,
			`<body><![CDATA[it's "q" & x > y]]></body>`,
		},
		"outside body": {"<body>x</body>", "<?xml version=\"1.0\"?>\n<body>x</body>\n", "<!-- c --><body>x<!-- d --></body>"},
		"list spacing": {"<body><ul><li>a</li><li>b</li></ul></body>", "<body><ul>\n  <li>a</li>\n  <li>b</li>\n</ul></body>"},
		"empty body":   {"<body/>", "<body></body>", "<body><!-- nothing --></body>"},
		"crlf":         {"<body>a\nb</body>", "<body>a\r\nb</body>"},
	} {
		t.Run(name, func(t *testing.T) {
			first, err := Canonical(forms[0])
			if err != nil {
				t.Fatalf("Canonical(%q): %v", forms[0], err)
			}
			for _, f := range forms[1:] {
				if got, err := Canonical(f); err != nil || got != first {
					t.Errorf("Canonical(%q) = %q, %v; want %q like Canonical(%q)", f, got, err, first, forms[0])
				}
			}
		})
	}
}

func TestCanonicalKeepsSignificantDifferences(t *testing.T) {
	for name, pair := range map[string][2]string{
		"inner whitespace": {"<body>a b</body>", "<body>a  b</body>"},
		"edge whitespace":  {"<body>x</body>", "<body> x\n</body>"},
		"newline vs space": {"<body>a\nb</body>", "<body>a b</body>"},
		"carriage return":  {"<body>a\nb</body>", "<body>a&#13;\nb</body>"},
		"formatting":       {"<body><strong>a</strong></body>", "<body><em>a</em></body>"},
		"attribute value":  {`<body><a data-asana-gid="1"/></body>`, `<body><a data-asana-gid="2"/></body>`},
		"text in item":     {"<body><ul><li>a</li></ul></body>", "<body><ul><li> a</li></ul></body>"},
	} {
		t.Run(name, func(t *testing.T) {
			a, errA := Canonical(pair[0])
			b, errB := Canonical(pair[1])
			if errA != nil || errB != nil || a == b {
				t.Errorf("Canonical(%q) = %q (%v) and Canonical(%q) = %q (%v); want both valid and different", pair[0], a, errA, pair[1], b, errB)
			}
		})
	}
}

func TestCanonicalIsAFixedPoint(t *testing.T) {
	docs := []string{
		asanaComment,
		"<?xml version=\"1.0\"?><body>\n<h1>T</h1><ul>\n<li>a &amp; b<ol><li>c</li></ol></li></ul>\r\n<hr></hr>" +
			`<img alt="a&#10;b&#9;c" data-asana-gid="9" src="https://x?a=1&amp;b=2"/><table><tr><td>1</td></tr></table>` +
			`<object type="t"><a href="h">h</a></object><pre>&lt;code&gt;</pre>&#13;</body>`,
	}
	for _, text := range trickyPlain {
		docs = append(docs, FromPlain(text))
	}
	for _, doc := range docs {
		once, err := Canonical(doc)
		if err != nil {
			t.Fatalf("Canonical(%q): %v", doc, err)
		}
		if err := Validate(once); err != nil {
			t.Errorf("Canonical(%q) = %q does not validate: %v", doc, once, err)
		}
		if twice, err := Canonical(once); err != nil || twice != once {
			t.Errorf("Canonical not idempotent on %q:\n once  %q\n twice %q (%v)", doc, once, twice, err)
		}
		plainBefore, _ := ToPlain(doc)
		if plainAfter, _ := ToPlain(once); plainAfter != plainBefore {
			t.Errorf("Canonical changed the plain text of %q: %q became %q", doc, plainBefore, plainAfter)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	err := Validate("<body>\n<div>x</div></body>")
	if got, want := err.Error(), "rich text: tag <div> is not allowed (line 2)"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	var rte *Error
	if !errors.As(err, &rte) || rte.Line != 2 {
		t.Errorf("errors.As gives %#v, want Line 2", rte)
	}
}
