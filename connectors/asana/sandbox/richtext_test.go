package sandbox

import (
	"strings"
	"testing"
)

// The rules themselves are tested in package richtext; these tests check
// how the sandbox words a refusal and derives plain fields.
func TestRichTextRefusalIsWordedLikeAsana(t *testing.T) {
	for _, tc := range []struct{ html, reason string }{
		{"plain", ""},
		{"<body><b>x</b></body>", "<b>"},
		{"<body><em>x</body>", ""},
		{`<body><a onclick="x">y</a></body>`, "onclick"},
	} {
		err := validateRichText("html_notes", tc.html)
		if err == nil || !strings.HasPrefix(err.message, "html_notes: XML is invalid: ") || !strings.Contains(err.message, tc.reason) {
			t.Errorf("%q: got %v, want an Asana-style refusal mentioning %q", tc.html, err, tc.reason)
		}
	}
	if err := validateRichText("html_text", `<body>ok <strong>fine</strong></body>`); err != nil {
		t.Errorf("valid rich text refused: %v", err)
	}
}

func TestRichTextConversions(t *testing.T) {
	for _, tc := range []struct{ html, text string }{
		{"<body>a &lt;b&gt; &amp; c</body>", "a <b> & c"},
		{"<body></body>", ""},
		{"", ""},
	} {
		if got := htmlToText(tc.html); got != tc.text {
			t.Errorf("htmlToText(%q) = %q, want %q", tc.html, got, tc.text)
		}
	}
	for _, s := range []string{"", "a < b & c > d", "line 1\nline 2", `quotes " and '`} {
		h := textToHTML(s)
		if err := validateRichText("notes", h); err != nil {
			t.Errorf("textToHTML(%q) = %q is not valid rich text: %v", s, h, err)
		}
		if got := htmlToText(h); got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	}
}
