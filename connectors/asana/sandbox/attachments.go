package sandbox

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// maxAttachmentSize is Asana's 100 MB upload limit.
	maxAttachmentSize = 100 << 20
	// downloadLifetime is how long a download_url works, like Asana's
	// pre-signed URLs ("may only be valid for two minutes").
	downloadLifetime = 2 * time.Minute
	// filesPrefix is where download URLs point, outside /api/1.0 like
	// Asana's storage host, so they need no Authorization header.
	filesPrefix = "/sandbox/files/"
	// chunkSize is the unit in which uploads are read and kept.
	chunkSize = 1 << 20
	// maxDrain bounds how much of a refused upload is read and discarded so
	// the client gets the 400 instead of a reset connection.
	maxDrain = 4 << 20
)

// downloadURL signs a short-lived URL serving the attachment's bytes.
func (rc *renderCtx) downloadURL(a *attachment) any {
	if a.external {
		return a.url
	}
	exp := strconv.FormatInt(rc.now.Add(downloadLifetime).Unix(), 10)
	return rc.base + filesPrefix + a.gid + "?expires=" + exp + "&sig=" + rc.s.fileSig(a.gid, exp)
}

func (s *Sandbox) fileSig(gid, expires string) string { return s.signer.SignHex("file", gid, expires) }

// download serves a download_url. Like a pre-signed storage URL it needs no
// token, only a valid, unexpired signature.
func (s *Sandbox) download(w http.ResponseWriter, r *http.Request) {
	gid := r.PathValue("attachment_gid")
	exp := r.URL.Query().Get("expires")
	expires, err := strconv.ParseInt(exp, 10, 64)
	switch {
	case err != nil || !s.signer.VerifyHex(r.URL.Query().Get("sig"), "file", gid, exp):
		http.Error(w, "AccessDenied: the signature of this download URL is invalid", http.StatusForbidden)
		return
	case time.Now().Unix() > expires:
		http.Error(w, "AccessDenied: this download URL has expired; fetch the attachment again for a fresh one", http.StatusForbidden)
		return
	}
	s.st.mu.RLock()
	a := s.st.attachment(gid)
	s.st.mu.RUnlock()
	if a == nil || a.external {
		http.Error(w, "NoSuchKey: the attachment no longer exists", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Length", strconv.FormatInt(a.size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.name}))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, a.reader()) // chunks are never modified after upload
	}
}

// getAttachments serves GET /attachments?parent=<task gid>.
func (s *Sandbox) getAttachments(c *call) error {
	parent := c.r.URL.Query().Get("parent")
	if parent == "" {
		return missingInput("parent")
	}
	if !isGID(parent) {
		return badRequest("parent: Not a Long: %s", parent)
	}
	return listPage(c, s.schema.attachment, func() ([]*attachment, error) {
		if t := s.st.task(parent); t != nil {
			return t.attachments, nil
		}
		if s.st.project(parent) == nil {
			return nil, unknownParam("parent", parent)
		}
		return nil, nil // a project's own attachments: the sandbox keeps none
	})
}

// getAttachment serves GET /attachments/{attachment_gid}.
func (s *Sandbox) getAttachment(c *call) error {
	return getOne(c, "attachment_gid", s.schema.attachment, s.st.attachment)
}

// deleteAttachment serves DELETE /attachments/{attachment_gid}.
func (s *Sandbox) deleteAttachment(c *call) error {
	return deleteOne(c, "attachment_gid", s.st.attachment, s.st.deleteAttachment)
}

// deleteAttachment removes a from its task. Callers hold the write lock.
func (st *store) deleteAttachment(a *attachment) error {
	at := st.tick()
	delete(st.objects, a.gid)
	a.task.attachments = removeItem(a.task.attachments, a)
	a.task.touch(at) // "attachment is trashed on a task" changes modified_at
	st.attachmentDeleted(a, st.me, at)
	return nil
}

// upload is a parsed multipart upload.
type upload struct {
	parent, subtype, url, name string
	file                       *attachment // nil when no file part came
}

// createAttachment serves POST /attachments (multipart/form-data): 200 with
// the compact attachment, as Asana answers (not 201).
func (s *Sandbox) createAttachment(c *call) error {
	sel, err := c.selection(s.schema.attachment, false)
	if err != nil {
		return err
	}
	up, err := readUpload(c.r)
	if err != nil {
		// Read (a bounded amount of) what is left, so the client can send
		// its whole body and read this answer instead of a reset.
		_, _ = io.CopyN(io.Discard, c.r.Body, maxDrain)
		return err
	}
	if up.parent == "" {
		return missingInput("parent")
	}
	if !isGID(up.parent) {
		return badRequest("parent: Not a Long: %s", up.parent)
	}
	a := up.file
	switch up.subtype {
	case "", "asana":
		if a == nil {
			return missingInput("file")
		}
	case "external":
		if up.url == "" || up.name == "" {
			return badRequest("url: External attachments need both url and name")
		}
		if u, err := url.Parse(up.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return badRequest("url: Not a valid URL: %q", up.url)
		}
		a = &attachment{external: true, url: up.url, name: up.name}
	default:
		return badRequest("resource_subtype: Invalid value %q (want asana or external)", up.subtype)
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.task(up.parent)
	if t == nil {
		if st.project(up.parent) != nil {
			return badRequest("parent: The sandbox only attaches files to tasks")
		}
		return unknownParam("parent", up.parent)
	}
	st.addAttachment(t, a, st.me, st.tick())
	return c.writeData(http.StatusOK, c.renderCtx().render(s.schema.attachment, a, sel, s.schema.attachment.compact))
}

// addAttachment attaches a to t with Asana's side effects: a system story,
// a new modified_at, and events. Callers hold the write lock.
func (st *store) addAttachment(t *task, a *attachment, by *user, at time.Time) {
	a.gid = st.runtimeGID()
	a.task, a.createdAt, a.createdBy = t, at, by
	st.objects[a.gid] = a
	t.attachments = append(t.attachments, a)
	t.touch(at)
	st.attachmentAdded(a, at)
	st.addSystemStory(t, &story{subtype: "attachment_added", text: "attached " + a.name}, by, at)
}

// readUpload streams the multipart body. The file part is read in chunks
// and kept as read, so an upload costs its size in memory once; past the
// 100 MB limit reading stops.
func readUpload(r *http.Request) (*upload, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("Content-Type: POST /attachments expects multipart/form-data with a file part")
	}
	up := &upload{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return up, nil
		}
		if err != nil {
			return nil, badRequest("Could not parse the multipart/form-data body: %v", err)
		}
		switch part.FormName() {
		case "file":
			if up.file, err = readFilePart(part); err != nil {
				return nil, err
			}
		case "parent", "resource_subtype", "url", "name", "connect_to_app":
			v, err := io.ReadAll(io.LimitReader(part, 64<<10))
			if err != nil {
				return nil, badRequest("Could not read the %s field: %v", part.FormName(), err)
			}
			val := strings.TrimSpace(string(v))
			switch part.FormName() {
			case "parent":
				up.parent = val
			case "resource_subtype":
				up.subtype = val
			case "url":
				up.url = val
			case "name":
				up.name = val
			}
		default:
			_, _ = io.Copy(io.Discard, io.LimitReader(part, maxDrain))
		}
		_ = part.Close()
	}
}

func readFilePart(part *multipart.Part) (*attachment, error) {
	a := &attachment{name: partFileName(part)}
	lr := io.LimitReader(part, maxAttachmentSize+1)
	for {
		buf := make([]byte, chunkSize)
		n, err := io.ReadFull(lr, buf)
		if n > 0 {
			chunk := buf[:n:n]
			if n < len(buf) {
				chunk = slices.Clone(chunk) // don't pin a whole chunk for a small tail
			}
			a.chunks = append(a.chunks, chunk)
			a.size += int64(n)
		}
		if a.size > maxAttachmentSize {
			return nil, badRequest("file: File is too large (more than %d bytes); the maximum size of an attachment is 100MB", maxAttachmentSize)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, badRequest("file: Could not read the upload: %v", err)
		}
	}
	a.contentType = part.Header.Get("Content-Type")
	if a.contentType == "" || a.contentType == "application/octet-stream" {
		if ct := mime.TypeByExtension(path.Ext(a.name)); ct != "" {
			a.contentType = ct
		} else if len(a.chunks) > 0 {
			a.contentType = http.DetectContentType(a.chunks[0])
		} else {
			a.contentType = "application/octet-stream"
		}
	}
	return a, nil
}

// partFileName decodes the file name as Asana documents it: filename* (RFC
// 2231, decoded by mime) or a URL-encoded filename for non-ASCII names.
func partFileName(part *multipart.Part) string {
	name := part.FileName()
	if dec, err := url.PathUnescape(name); err == nil {
		name = dec
	}
	if name == "" {
		name = "upload"
	}
	return name
}
