package sandbox

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

const (
	// mediaLifetime is how long a download URL works, like the signed
	// Atlassian media URLs /attachment/content redirects to.
	mediaLifetime = 2 * time.Minute
	// mediaPrefix is where download URLs point, outside /rest/api/3 like
	// Atlassian's media host, so they need no Authorization header.
	mediaPrefix = "/media/file/"
	// maxDrain bounds how much of a refused upload is read and discarded so
	// the client gets the answer instead of a reset connection.
	maxDrain = 4 << 20
)

// renderAttachment writes an attachment as Jira's Attachment.
func (c *call) renderAttachment(a *attachment) *object {
	o := &object{}
	o.Set("self", c.link("/attachment/"+a.id))
	o.Set("id", a.id)
	o.Set("filename", a.filename)
	o.Set("author", c.userDetails())
	o.Set("created", c.stamp(a.created))
	o.Set("size", len(a.data))
	o.Set("mimeType", a.mimeType)
	o.Set("content", c.link("/attachment/content/"+a.id))
	return o
}

// addAttachments serves POST /issue/{issueIdOrKey}/attachments: every
// multipart part named file becomes an attachment; 200 with the array.
func (s *Sandbox) addAttachments(c *call) error {
	if !strings.EqualFold(strings.TrimSpace(c.r.Header.Get("X-Atlassian-Token")), "no-check") {
		return newError(http.StatusForbidden, "XSRF check failed")
	}
	s.st.mu.RLock()
	exists := s.st.issue(c.r.PathValue("issueIdOrKey")) != nil
	s.st.mu.RUnlock()
	if !exists {
		return issueNotFound()
	}
	files, err := s.readFiles(c.r)
	if err != nil {
		_, _ = io.CopyN(io.Discard, c.r.Body, maxDrain)
		return err
	}
	if len(files) == 0 {
		return badRequest("No attachments were found in the request: send each file in a multipart part named 'file'.")
	}
	// The issue is looked up again: the sandbox never deletes one, but the
	// lock was let go while the upload was read.
	return s.withIssue(c, func(st *store, is *issue) error {
		at := st.tick()
		out := make([]any, len(files))
		for i, a := range files {
			a.id, a.created, a.issue = st.newFileID(), at, is
			st.files[a.id] = a
			is.cur.attachments = append(is.cur.attachments, a)
			out[i] = c.renderAttachment(a)
		}
		st.indexed(is, at)
		writeJSON(c.w, http.StatusOK, out)
		return nil
	})
}

// readFiles reads the file parts of a multipart upload, refusing any file
// over the size limit with Jira's 413.
func (s *Sandbox) readFiles(r *http.Request) ([]*attachment, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("The request is not multipart/form-data: attachments are uploaded as multipart parts named 'file'.")
	}
	var files []*attachment
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, badRequest("Could not parse the multipart/form-data body: %v", err)
		}
		if part.FormName() != "file" {
			_, _ = io.Copy(io.Discard, io.LimitReader(part, maxDrain))
			continue
		}
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(part, s.maxAttachment+1))
		if err != nil {
			return nil, badRequest("Could not read the upload: %v", err)
		}
		if n > s.maxAttachment {
			return nil, newError(http.StatusRequestEntityTooLarge,
				"The file '%s' is too large: the maximum attachment size is %d bytes.", partName(part.FileName()), s.maxAttachment)
		}
		name := partName(part.FileName())
		files = append(files, &attachment{filename: name, mimeType: mimeOf(name, part.Header.Get("Content-Type"), buf.Bytes()), data: buf.Bytes()})
	}
}

func partName(name string) string {
	if dec, err := url.PathUnescape(name); err == nil {
		name = dec
	}
	if name == "" {
		name = "upload"
	}
	return name
}

// mimeOf is the type Jira stores: the part's own unless it is generic, else
// guessed from the name, else sniffed.
func mimeOf(name, declared string, data []byte) string {
	if mt, _, err := mime.ParseMediaType(declared); err == nil && mt != "application/octet-stream" {
		return declared
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		return ct
	}
	if len(data) > 0 {
		return http.DetectContentType(data)
	}
	return "application/octet-stream"
}

// getAttachmentContent serves GET /attachment/content/{id}: 303 to a
// signed, short-lived media URL, or the bytes themselves with
// redirect=false (Range requests included).
func (s *Sandbox) getAttachmentContent(c *call) error {
	id := c.r.PathValue("id")
	redirect := true
	switch v := c.r.URL.Query().Get("redirect"); v {
	case "", "true":
	case "false":
		redirect = false
	default:
		return badRequest("The value '%s' is not valid for the parameter 'redirect'.", v)
	}
	s.st.mu.RLock()
	a := s.st.files[id]
	s.st.mu.RUnlock()
	if a == nil {
		return newError(http.StatusNotFound, "The attachment with id '%s' does not exist.", id)
	}
	if !redirect {
		serveFile(c.w, c.r, a)
		return nil
	}
	exp := strconv.FormatInt(c.now.Add(mediaLifetime).Unix(), 10)
	q := url.Values{"name": {a.filename}, "expires": {exp}, "sig": {s.mediaSig(a.id, exp)}}
	c.w.Header().Set("Location", c.base+mediaPrefix+a.id+"/binary?"+q.Encode())
	c.w.WriteHeader(http.StatusSeeOther)
	return nil
}

func (s *Sandbox) mediaSig(id, expires string) string { return s.signer.SignHex("media", id, expires) }

// media serves a download URL. Like a pre-signed media URL it needs no
// credentials, only a valid, unexpired signature.
func (s *Sandbox) media(w http.ResponseWriter, r *http.Request) {
	id, rest, _ := strings.Cut(r.PathValue("rest"), "/")
	exp := r.URL.Query().Get("expires")
	expires, err := strconv.ParseInt(exp, 10, 64)
	switch {
	case rest != "binary":
		writeError(w, newError(http.StatusNotFound, "Not found"))
		return
	case err != nil || !s.signer.VerifyHex(r.URL.Query().Get("sig"), "media", id, exp):
		writeError(w, newError(http.StatusForbidden, "The signature of this media URL is invalid."))
		return
	case s.clk.now().Unix() > expires:
		writeError(w, newError(http.StatusForbidden, "This media URL has expired; request /attachment/content/%s again for a fresh one.", id))
		return
	}
	s.st.mu.RLock()
	a := s.st.files[id]
	s.st.mu.RUnlock()
	if a == nil {
		writeError(w, newError(http.StatusNotFound, "The attachment no longer exists."))
		return
	}
	serveFile(w, r, a)
}

// serveFile writes the bytes with their type, length and name; Range
// requests get 206 as from Jira.
func serveFile(w http.ResponseWriter, r *http.Request, a *attachment) {
	h := w.Header()
	h.Set("Content-Type", a.mimeType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.filename}))
	http.ServeContent(w, r, "", a.created, bytes.NewReader(a.data))
}
