package sandbox

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

// TestBrowsePage opens an issue's /browse/KEY link as a person would: the
// page answers 200 with the summary, the description, the comments with
// their author (hostile text shown as text, never as markup) and download
// links that give the attachment's bytes.
func TestBrowsePage(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	desc := doc("The description")
	desc["content"] = append(desc["content"].([]any), map[string]any{"type": "bulletList", "content": []any{
		map[string]any{"type": "listItem", "content": []any{doc("in blocks")["content"].([]any)[0]}}}})
	_, key := e.create("KAN", "Bug", "Browse <i>me</i>", desc)
	e.ok(201, "POST", "/issue/"+key+"/comment", map[string]any{"body": doc(`<script>alert("x")</script> hello`)})
	if r := e.upload(key, true, upFile{"log.txt", "text/plain", "log bytes"}); r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.raw)
	}

	r := e.do(req{method: "GET", path: "/browse/" + key, raw: true, noAuth: true})
	page := string(r.raw)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("browse: %d %s\n%s", r.status, r.header.Get("Content-Type"), page)
	}
	for _, want := range []string{"Browse &lt;i&gt;me&lt;/i&gt;", "Bug " + key, "The description\n• in blocks",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; hello", "<b>Sandbox Admin</b>", "Comments (1)", "log.txt"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<i>me") {
		t.Errorf("outside text reached the page as markup:\n%s", page)
	}
	m := regexp.MustCompile(`<a href="([^"]+)" download>log.txt</a>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no download link for log.txt:\n%s", page)
	}
	f := e.do(req{method: "GET", path: html.UnescapeString(m[1]), raw: true, noAuth: true})
	if f.status != 200 || string(f.raw) != "log bytes" {
		t.Errorf("download link: %d %q", f.status, f.raw)
	}
}
