package sandboxkit

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWritePageEscapes: every field is outside text; none reaches the page
// as markup, and a link that is not http(s) or relative is disarmed.
func TestWritePageEscapes(t *testing.T) {
	w := httptest.NewRecorder()
	WritePage(w, Page{Site: "S<1>", Ref: "K-1", Kind: "Bug", Summary: `"><img src=x onerror=alert(1)>`,
		Description: "line one\n<script>x</script>",
		Comments:    []PageComment{{Author: "<b>Eve</b>", When: "now", Text: "</div><iframe>"}},
		Attachments: []PageAttachment{{Name: "a.txt", URL: "/files/1?sig=a&b=c", Size: 1500}, {Name: "x", URL: "javascript:alert(1)"}}})
	page := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || w.Header().Get("Content-Security-Policy") == "" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	for _, bad := range []string{"<img", "<script>", "<b>Eve", "<iframe>", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q as markup:\n%s", bad, page)
		}
	}
	for _, want := range []string{"&lt;b&gt;Eve&lt;/b&gt;", `href="/files/1?sig=a&amp;b=c"`, "1.5 KB", "line one\n&lt;script&gt;", "Comments (1)", "Attachments (2)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
}
