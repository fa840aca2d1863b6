package sandbox

import (
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestTaskPage opens a task's permalink_url as a person would: the page
// answers 200 with the summary, the description, the comments with their
// authors (hostile text shown as text, never as markup) and download links
// that give the attachment's bytes.
func TestTaskPage(t *testing.T) {
	e := newEnv(t)
	proj := e.project("Test")
	tk := e.ok(201, "POST", "/tasks?opt_fields=permalink_url", map[string]any{"name": "Page <b>check</b>",
		"notes": "First line\nsecond line", "projects": []string{proj}}).data()
	gid, link := tk["gid"].(string), tk["permalink_url"].(string)
	e.ok(201, "POST", "/tasks/"+gid+"/stories", map[string]any{"text": `<script>alert("x")</script> looks fine`})
	body, ct := multipartBody(t, map[string]string{"parent": gid}, fileDisposition("notes.txt"), strings.NewReader("the bytes"))
	if up := e.send("POST", "/attachments", body, ct, e.sb.Token()); up.status != 200 {
		t.Fatalf("upload: %d %s", up.status, up.raw)
	}

	page, status, header := fetchPage(t, e.hc, link)
	if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s\n%s", link, status, header.Get("Content-Type"), page)
	}
	for _, want := range []string{"Page &lt;b&gt;check&lt;/b&gt;", "First line\nsecond line", "Test",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; looks fine", "<b>Alex Rivera</b>", "notes.txt"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b>check") {
		t.Errorf("outside text reached the page as markup:\n%s", page)
	}
	m := regexp.MustCompile(`<a href="([^"]+)" download>notes.txt</a>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no download link for notes.txt:\n%s", page)
	}
	file, status, _ := fetchPage(t, e.hc, e.srv.URL+html.UnescapeString(m[1]))
	if status != 200 || file != "the bytes" {
		t.Errorf("download link: %d %q", status, file)
	}

	if _, status, _ := fetchPage(t, e.hc, e.srv.URL+"/0/"+proj+"/1299999999999999"); status != 404 {
		t.Errorf("unknown task page: %d, want 404", status)
	}
}

// fetchPage fetches url without credentials, as a browser would.
func fetchPage(t *testing.T, hc *http.Client, url string) (string, int, http.Header) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading: %v", url, err)
	}
	return string(b), resp.StatusCode, resp.Header
}
