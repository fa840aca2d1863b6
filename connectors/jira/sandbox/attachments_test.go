package sandbox

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/jira/jiratest"
)

type upFile struct{ name, contentType, body string }

// multipartBody builds an upload with one part per file, named partName.
func multipartBody(t *testing.T, partName string, files ...upFile) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+partName+`"; filename="`+f.name+`"`)
		if f.contentType != "" {
			h.Set("Content-Type", f.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(f.body))
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

func (e *env) upload(key string, xsrf bool, files ...upFile) reply {
	e.t.Helper()
	body, ct := multipartBody(e.t, "file", files...)
	h := map[string]string{}
	expect := jiratest.ExpectInvalidRequest // Jira's documented rule, checked beside the schema
	if xsrf {
		h["X-Atlassian-Token"] = "no-check"
		expect = ""
	}
	return e.do(req{method: "POST", path: "/issue/" + key + "/attachments", body: body, contentType: ct, header: h, expect: expect})
}

func TestAttachmentUploadAndDownload(t *testing.T) {
	e := newEnv(t, []Option{WithSeed("empty")})
	e.pin(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	id, key := e.create("KAN", "Task", "With files", nil)
	before := fieldsOfIssue(e.ok(200, "GET", "/issue/"+key, nil))["updated"]
	e.sb.clk.advance(time.Second)

	r := e.upload(key, true, upFile{"notes.txt", "", "hello, jira\n"}, upFile{"pixel.png", "image/png", "\x89PNG\r\n\x1a\nfake"})
	if r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.raw)
	}
	atts := r.list("")
	if len(atts) != 2 || atts[0]["filename"] != "notes.txt" || atts[0]["size"] != 12.0 || !strings.HasPrefix(atts[0]["mimeType"].(string), "text/plain") || atts[1]["mimeType"] != "image/png" {
		t.Fatalf("attachments %s", r.raw)
	}
	f := fieldsOfIssue(e.ok(200, "GET", "/issue/"+id, nil))
	if len(f["attachment"].([]any)) != 2 || !mustTime(t, f["updated"]).After(mustTime(t, before)) {
		t.Errorf("issue after upload: %v", f)
	}

	// 303 to a signed media URL that needs no credentials.
	content := atts[0]["content"].(string)
	if !strings.HasPrefix(content, e.srv.URL+"/rest/api/3/attachment/content/") {
		t.Fatalf("content %q", content)
	}
	redir := e.do(req{method: "GET", path: content, raw: true})
	loc := redir.header.Get("Location")
	if redir.status != 303 || !strings.HasPrefix(loc, e.srv.URL+"/media/file/") {
		t.Fatalf("content: %d Location %q", redir.status, loc)
	}
	media := e.do(req{method: "GET", path: loc, raw: true, noAuth: true})
	if media.status != 200 || string(media.raw) != "hello, jira\n" || media.header.Get("Content-Length") != "12" || !strings.HasPrefix(media.header.Get("Content-Type"), "text/plain") {
		t.Errorf("media: %d %q %v", media.status, media.raw, media.header)
	}
	// redirect=false answers the bytes directly; Range works.
	direct := e.do(req{method: "GET", path: content + "?redirect=false", raw: true})
	if direct.status != 200 || string(direct.raw) != "hello, jira\n" || direct.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("redirect=false: %d %q %v", direct.status, direct.raw, direct.header.Get("Content-Type"))
	}
	part := e.do(req{method: "GET", path: content + "?redirect=false", raw: true, header: map[string]string{"Range": "bytes=0-4"}})
	if part.status != 206 || string(part.raw) != "hello" {
		t.Errorf("range: %d %q", part.status, part.raw)
	}
	png := e.do(req{method: "GET", path: atts[1]["content"].(string) + "?redirect=false", raw: true})
	if png.header.Get("Content-Type") != "image/png" || png.header.Get("Content-Length") != strconv.Itoa(len("\x89PNG\r\n\x1a\nfake")) {
		t.Errorf("png headers %v", png.header)
	}
	// Tampered and expired media URLs are refused.
	if r := e.do(req{method: "GET", path: strings.Replace(loc, "sig=", "sig=00", 1), raw: true, noAuth: true}); r.status != 403 {
		t.Errorf("tampered URL: %d", r.status)
	}
	e.sb.clk.advance(2*time.Minute + time.Second)
	if r := e.do(req{method: "GET", path: loc, raw: true, noAuth: true}); r.status != 403 || !strings.Contains(r.errText(), "expired") {
		t.Errorf("expired URL: %d %s", r.status, r.raw)
	}
	e.fails(404, "does not exist", req{method: "GET", path: "/attachment/content/99999"})
	e.fails(401, "Client must be authenticated", req{method: "GET", path: "/attachment/content/" + atts[0]["id"].(string), user: "x@y.z", pass: "bad"})
}

func TestAttachmentErrors(t *testing.T) {
	e := newEnv(t, []Option{WithMaxAttachmentSize(10)}, http.StatusBadRequest)
	if r := e.upload("KAN-1", false, upFile{"a.txt", "", "x"}); r.status != 403 || !strings.Contains(r.errText(), "XSRF check failed") {
		t.Errorf("without X-Atlassian-Token: %d %s", r.status, r.raw)
	}
	if r := e.upload("KAN-1", true, upFile{"big.bin", "", "01234567890"}); r.status != 413 || !strings.Contains(r.errText(), "too large") {
		t.Errorf("over the limit: %d %s", r.status, r.raw)
	}
	if r := e.upload("KAN-1", true, upFile{"ok.bin", "", "0123456789"}); r.status != 200 {
		t.Errorf("at the limit: %d %s", r.status, r.raw)
	}
	if r := e.upload("KAN-404", true, upFile{"a.txt", "", "x"}); r.status != 404 {
		t.Errorf("unknown issue: %d", r.status)
	}
	body, ct := multipartBody(t, "upload", upFile{"a.txt", "", "x"})
	r := e.do(req{method: "POST", path: "/issue/KAN-1/attachments", body: body, contentType: ct, header: map[string]string{"X-Atlassian-Token": "no-check"}, expect: jiratest.ExpectInvalidRequest})
	if r.status != 400 || !strings.Contains(r.errText(), "'file'") {
		t.Errorf("no file part: %d %s", r.status, r.raw)
	}
}
