package sandboxkit

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"time"
)

// PageLinkLifetime is how long the download links on an item page work.
// Longer than an API download URL's two minutes: a person reads the page
// before clicking, and reloading it gives fresh links.
const PageLinkLifetime = time.Hour

// PageTime is how item pages show a comment's time.
const PageTime = "2006-01-02 15:04 MST"

// Page is an item's read-only web page: what the link a sandbox's API hands
// out (Asana's permalink_url, Jira's /browse/KEY) shows in a browser, so a
// demo user can open both sides of a sync. Every field is text from
// outside; WritePage escapes all of it.
type Page struct {
	// Site names the sandbox ("Acme · Asana sandbox").
	Site string
	// Ref is the item's reference (a gid, an issue key) and Kind its type.
	Ref, Kind string
	// Project is where the item lives.
	Project     string
	Summary     string
	Description string // plain text; line breaks are kept
	Comments    []PageComment
	Attachments []PageAttachment
}

// PageComment is one comment on an item page.
type PageComment struct {
	Author, When, Text string
}

// PageAttachment is one attachment on an item page; URL downloads it
// without credentials (a signed link).
type PageAttachment struct {
	Name, URL string
	Size      int64
}

// pageHTML is the one template both sandboxes render item pages with.
// html/template escapes every value for its context, so a comment holding
// <script> shows as text, and a URL that is not http(s) becomes #ZgotmplZ.
const pageHTML = `<!doctype html>
<html><head><meta charset="utf-8">
<title>{{if .Ref}}[{{.Ref}}] {{end}}{{.Summary}} - {{.Site}}</title>
<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em}
.meta{color:#666}.text{white-space:pre-wrap}li{margin:.5em 0}</style>
</head><body>
<p class="meta">{{.Site}}{{if .Project}} · {{.Project}}{{end}} · {{.Kind}} {{.Ref}} · read-only</p>
<h1>{{.Summary}}</h1>
<h2>Description</h2>
{{if .Description}}<div class="text">{{.Description}}</div>{{else}}<p class="meta">No description.</p>{{end}}
<h2>Comments ({{len .Comments}})</h2>
{{if .Comments}}<ul>{{range .Comments}}
<li><b>{{.Author}}</b> <span class="meta">{{.When}}</span><div class="text">{{.Text}}</div></li>{{end}}
</ul>{{else}}<p class="meta">No comments.</p>{{end}}
<h2>Attachments ({{len .Attachments}})</h2>
{{if .Attachments}}<ul>{{range .Attachments}}
<li><a href="{{.URL}}" download>{{.Name}}</a> <span class="meta">{{size .Size}}</span></li>{{end}}
</ul>{{else}}<p class="meta">No attachments.</p>{{end}}
</body></html>
`

// WritePage answers 200 with p as HTML.
func WritePage(w http.ResponseWriter, p Page) {
	// Parsed per page rather than once per process: no package state, and
	// a sandbox's pages are a convenience, not a hot path.
	t, err := template.New("page").Funcs(template.FuncMap{"size": byteSize}).Parse(pageHTML)
	if err != nil {
		http.Error(w, "the item page template is broken: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		http.Error(w, "rendering the item page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// WritePageNotFound answers 404 with a short page saying what was missing.
func WritePageNotFound(w http.ResponseWriter, what string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("<!doctype html><title>Not found</title><p>" + template.HTMLEscapeString(what) + "</p>\n"))
}

// byteSize words a size for a person: 512 B, 12.3 KB, 4.0 MB.
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1000*1000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + " KB"
	default:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	}
}
