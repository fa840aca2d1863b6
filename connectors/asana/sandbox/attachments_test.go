package sandbox

import (
	"bytes"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana/asanatest"
)

// multipartBody builds an upload; file may be nil (no file part).
func multipartBody(t *testing.T, fields map[string]string, disposition string, file io.Reader) (io.Reader, string) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for k, v := range fields {
			if err := mw.WriteField(k, v); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		if file != nil {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", disposition)
			h.Set("Content-Type", "application/octet-stream")
			part, err := mw.CreatePart(h)
			if err == nil {
				_, err = io.Copy(part, file)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	return pr, mw.FormDataContentType()
}

func fileDisposition(name string) string {
	return `form-data; name="file"; filename="` + name + `"`
}

func TestUploadAndDownload(t *testing.T) {
	e := newEnv(t)
	gid := e.taskNamed(e.project("Test"), "Test task 1")
	content := make([]byte, 5000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range content {
		content[i] = byte(rng.Uint32())
	}

	body, ct := multipartBody(t, map[string]string{"parent": gid}, fileDisposition("report.bin"), bytes.NewReader(content))
	up := e.send("POST", "/attachments", body, ct, e.sb.Token())
	if up.status != 200 {
		t.Fatalf("upload: %d %s", up.status, up.raw)
	}
	a := up.data()
	if a["name"] != "report.bin" || a["resource_subtype"] != "asana" || a["resource_type"] != "attachment" || len(a) != 4 {
		t.Fatalf("upload answered %v (want the compact attachment)", a)
	}
	aid := a["gid"].(string)

	full := e.ok(200, "GET", "/attachments/"+aid, nil).data()
	if full["size"] != float64(len(content)) || full["host"] != "asana" || full["parent"].(map[string]any)["gid"] != gid {
		t.Fatalf("attachment = %v", full)
	}
	for _, k := range []string{"download_url", "permanent_url", "view_url", "created_at"} {
		if s, _ := full[k].(string); s == "" {
			t.Errorf("attachment lacks %s", k)
		}
	}
	dl := full["download_url"].(string)
	if !strings.HasPrefix(dl, e.srv.URL+"/sandbox/files/"+aid+"?") {
		t.Fatalf("download_url = %s", dl)
	}
	resp, err := e.hc.Get(dl) // no token: the URL is signed
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, content) {
		t.Fatalf("download: %d, %d bytes, identical=%v", resp.StatusCode, len(got), bytes.Equal(got, content))
	}
	if resp.Header.Get("Content-Length") != strconv.Itoa(len(content)) || resp.Header.Get("Content-Type") == "" {
		t.Errorf("download headers %v", resp.Header)
	}

	// Tampered and expired URLs are refused like a storage host does.
	u, _ := url.Parse(dl)
	q := u.Query()
	q.Set("sig", strings.Repeat("0", len(q.Get("sig"))))
	u.RawQuery = q.Encode()
	expectStatus(t, e.hc, u.String(), 403)
	past := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)
	expired := e.srv.URL + filesPrefix + aid + "?expires=" + past + "&sig=" + e.sb.fileSig(aid, past)
	expectStatus(t, e.hc, expired, 403)
	if exp, _ := strconv.ParseInt(q.Get("expires"), 10, 64); time.Until(time.Unix(exp, 0)) > 2*time.Minute+time.Second {
		t.Errorf("download_url lives longer than two minutes")
	}

	list := e.ok(200, "GET", "/attachments?parent="+gid+"&opt_fields=name,size,download_url", nil).list()
	if len(list) != 1 || list[0]["gid"] != aid || list[0]["size"] != float64(len(content)) {
		t.Fatalf("attachments of the task = %v", list)
	}
	stories := e.ok(200, "GET", "/tasks/"+gid+"/stories", nil).list()
	if last := stories[len(stories)-1]; last["resource_subtype"] != "attachment_added" || last["text"] != "attached report.bin" {
		t.Errorf("last story = %v", last)
	}

	e.ok(200, "DELETE", "/attachments/"+aid, nil)
	e.fails(404, "Unknown object", "GET", "/attachments/"+aid, nil)
	expectStatus(t, e.hc, dl, 404)
	if got := e.ok(200, "GET", "/attachments?parent="+gid, nil).list(); len(got) != 0 {
		t.Errorf("attachments after delete = %v", got)
	}
}

func expectStatus(t *testing.T, c *http.Client, u string, want int) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Errorf("GET %s: %d, want %d", u, resp.StatusCode, want)
	}
}

func TestSeedAttachments(t *testing.T) {
	e := newEnv(t)
	gid := e.taskNamed(e.project("Company"), "Update brand guidelines (logo usage)")
	list := e.ok(200, "GET", "/attachments?parent="+gid+"&opt_fields=name,download_url", nil).list()
	if len(list) != 1 || list[0]["name"] != "logo.png" {
		t.Fatalf("seed attachments = %v", list)
	}
	resp, err := e.hc.Get(list[0]["download_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	png, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("logo.png: %s, % x", resp.Header.Get("Content-Type"), png[:8])
	}
}

func TestUploadErrors(t *testing.T) {
	e := newEnv(t)
	gid := e.taskNamed(e.project("Test"), "Test task 2")

	body, ct := multipartBody(t, nil, fileDisposition("a.txt"), strings.NewReader("x"))
	if r := e.send("POST", "/attachments", body, ct, e.sb.Token(), asanatest.ExpectInvalidRequest); r.status != 400 || r.errMessage() != "parent: Missing input" {
		t.Errorf("no parent: %d %s", r.status, r.raw)
	}
	body, ct = multipartBody(t, map[string]string{"parent": gid}, "", nil)
	if r := e.send("POST", "/attachments", body, ct, e.sb.Token()); r.status != 400 || r.errMessage() != "file: Missing input" {
		t.Errorf("no file: %d %s", r.status, r.raw)
	}
	body, ct = multipartBody(t, map[string]string{"parent": "1299999999999999"}, fileDisposition("a.txt"), strings.NewReader("x"))
	if r := e.send("POST", "/attachments", body, ct, e.sb.Token()); r.status != 404 {
		t.Errorf("unknown parent: %d %s", r.status, r.raw)
	}
	e.fails(400, "parent: Missing input", "GET", "/attachments", nil, asanatest.ExpectInvalidRequest)
	e.fails(404, "parent: Unknown object", "GET", "/attachments?parent=1299999999999999", nil)

	// Non-ASCII names arrive URL-encoded, as Asana asks.
	body, ct = multipartBody(t, map[string]string{"parent": gid},
		`form-data; name="file"; filename="r%C3%A9sum%C3%A9.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`, strings.NewReader("%PDF-1.4"))
	if r := e.send("POST", "/attachments", body, ct, e.sb.Token()); r.status != 200 || r.data()["name"] != "résumé.pdf" {
		t.Errorf("non-ASCII name: %d %s", r.status, r.raw)
	}

	// External attachments carry a URL instead of bytes.
	body, ct = multipartBody(t, map[string]string{"parent": gid, "resource_subtype": "external", "url": "https://example.com/doc", "name": "Spec"}, "", nil)
	r := e.send("POST", "/attachments?opt_fields=name,host,download_url,size", body, ct, e.sb.Token())
	if r.status != 200 || r.data()["host"] != "external" || r.data()["download_url"] != "https://example.com/doc" {
		t.Errorf("external: %d %s", r.status, r.raw)
	}
}

// zeros is an endless reader of zero bytes: the 100 MB test streams without
// allocating its body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestUploadSizeLimit(t *testing.T) {
	e := newEnv(t, WithSeed("empty"))
	gid := e.ok(201, "POST", "/tasks", map[string]any{"name": "Big", "workspace": e.workspace()}).data()["gid"].(string)
	body, ct := multipartBody(t, map[string]string{"parent": gid}, fileDisposition("big.bin"), io.LimitReader(zeros{}, maxAttachmentSize+1))
	// Over asanatest.DefaultMaxBody: the contract check passes the body
	// through and validates the rest.
	r := e.send("POST", "/attachments", body, ct, e.sb.Token())
	if r.status != 400 || !strings.Contains(r.errMessage(), "File is too large") || !strings.Contains(r.errMessage(), "100MB") {
		t.Fatalf("101 MB upload: %d %s", r.status, r.raw)
	}
	if got := e.ok(200, "GET", "/attachments?parent="+gid, nil).list(); len(got) != 0 {
		t.Errorf("refused upload was stored: %v", got)
	}
}
