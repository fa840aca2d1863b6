package asana

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/tandem-sync/tandem/connectors/internal/apiclient"
)

// MaxAttachmentSize is Asana's upload limit.
const MaxAttachmentSize = 100 << 20

var attachmentFields = []string{
	"name", "resource_subtype", "size", "host", "created_at", "parent", "permanent_url",
}

// Attachments lists the attachments of a task, with name, size, host and
// a download URL (short-lived: DownloadListed uses it while fresh,
// Download fetches a fresh one).
func (c *Client) Attachments(ctx context.Context, taskGID string) ([]Attachment, error) {
	if err := checkGID("task", taskGID); err != nil {
		return nil, err
	}
	q := fields(append([]string{"download_url"}, attachmentFields...)...)
	q.Set("parent", taskGID)
	return list[Attachment](ctx, c, "/attachments", "/attachments", q)
}

// Download streams an attachment's bytes. It fetches the attachment for a
// fresh download URL (they live about two minutes), then reads from that
// URL without sending the Asana token, since the bytes live on another host.
// The caller must close the reader; a stream that ends before the size Asana
// reported returns io.ErrUnexpectedEOF.
func (c *Client) Download(ctx context.Context, attachmentGID string) (io.ReadCloser, Attachment, error) {
	if err := checkGID("attachment", attachmentGID); err != nil {
		return nil, Attachment{}, err
	}
	q := fields(append([]string{"download_url"}, attachmentFields...)...)
	var (
		a    Attachment
		resp *http.Response
	)
	for attempt := 0; ; attempt++ {
		var err error
		a, err = get[Attachment](ctx, c, "/attachments/"+attachmentGID, "/attachments/{gid}", q)
		if err != nil {
			return nil, a, err
		}
		if a.DownloadURL == "" {
			return nil, a, fmt.Errorf("asana: attachment %s (%s) is hosted on %q and has no download URL", attachmentGID, a.Name, a.Host)
		}
		resp, err = c.fetch(ctx, a.DownloadURL)
		if err == nil && resp.StatusCode == http.StatusOK {
			break
		}
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			err = decodeError(http.MethodGet, "download of attachment "+attachmentGID, resp.StatusCode, resp.Header, body)
		}
		if ctx.Err() != nil {
			return nil, a, fmt.Errorf("asana: downloading attachment %s: %w", attachmentGID, ctx.Err())
		}
		// An expired URL (403), a file-host hiccup or a cut connection: ask
		// Asana for a fresh URL and try again, a few times.
		if attempt >= min(c.api.MaxRetries(), 3) {
			return nil, a, fmt.Errorf("asana: downloading attachment %s: %w", attachmentGID, err)
		}
		c.api.CountRetry()
		if err := apiclient.Sleep(ctx, c.api.Backoff(attempt)); err != nil {
			return nil, a, err
		}
	}
	body := resp.Body
	if a.Size > 0 {
		body = &sizedReader{rc: body, left: a.Size}
	}
	return body, a, nil
}

// DownloadListed streams an attachment's bytes from the download URL a
// listing gave (Attachments), in one try and without an API call: an
// expired or failing URL is an error, and the caller falls back to
// Download. The caller must close the reader.
func (c *Client) DownloadListed(ctx context.Context, a Attachment) (io.ReadCloser, error) {
	if a.DownloadURL == "" {
		return nil, fmt.Errorf("asana: attachment %s has no listed download URL", a.GID)
	}
	resp, err := c.fetch(ctx, a.DownloadURL)
	if err != nil {
		return nil, fmt.Errorf("asana: downloading attachment %s: %w", a.GID, err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		return nil, decodeError(http.MethodGet, "download of attachment "+a.GID, resp.StatusCode, resp.Header, body)
	}
	body := resp.Body
	if a.Size > 0 {
		body = &sizedReader{rc: body, left: a.Size}
	}
	return body, nil
}

func (c *Client) fetch(ctx context.Context, target string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	c.api.CountDownload()
	return c.api.HTTP().Do(req)
}

// sizedReader turns a stream that stops short of the announced size into an
// error, so a cut download is never taken for a whole file.
type sizedReader struct {
	rc   io.ReadCloser
	left int64
}

func (s *sizedReader) Read(p []byte) (int, error) {
	n, err := s.rc.Read(p)
	s.left -= int64(n)
	if err == io.EOF && s.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (s *sizedReader) Close() error { return s.rc.Close() }

// Upload is a file to attach. Open is called once per attempt, so a retried
// upload streams the file again from the start instead of holding it in
// memory.
type Upload struct {
	// Parent is the task gid.
	Parent string
	// Name is the file name shown in Asana.
	Name string
	// Size is the exact number of bytes Open yields; it is checked against
	// Asana's 100 MB limit before anything is sent.
	Size int64
	// ContentType defaults to application/octet-stream.
	ContentType string
	Open        func() (io.ReadCloser, error)
}

// UploadAttachment attaches a file to a task, streaming it as multipart
// form data with an exact Content-Length.
func (c *Client) UploadAttachment(ctx context.Context, u Upload) (Attachment, error) {
	if err := checkGID("task", u.Parent); err != nil {
		return Attachment{}, err
	}
	if u.Size > MaxAttachmentSize {
		return Attachment{}, fmt.Errorf("asana: attaching %q (%d bytes) to task %s: %w", u.Name, u.Size, u.Parent, ErrTooLarge)
	}
	if u.Size < 0 || u.Open == nil {
		return Attachment{}, fmt.Errorf("asana: attaching %q to task %s: size and a way to open the file are required", u.Name, u.Parent)
	}
	head, tail, contentType, err := multipartFrame(u)
	if err != nil {
		return Attachment{}, fmt.Errorf("asana: attaching %q to task %s: %w", u.Name, u.Parent, err)
	}
	open := apiclient.FileBody(head, tail, contentType, u.Name, u.Size, u.Open)
	var out answer[Attachment]
	err = c.do(ctx, request{method: http.MethodPost, path: "/attachments", endpoint: "/attachments",
		query: fields(attachmentFields...), open: open}, &out)
	if err != nil {
		return Attachment{}, err
	}
	return out.object(http.MethodPost, "/attachments")
}

// multipartFrame frames an upload as Asana takes it: the parent task's gid,
// then the file.
func multipartFrame(u Upload) (head, tail []byte, contentType string, err error) {
	return apiclient.MultipartFrame(dispositionName(u.Name), u.ContentType, apiclient.Field{Name: "parent", Value: u.Parent})
}

// dispositionName makes a file name safe for a quoted Content-Disposition
// parameter. Asana wants non-ASCII names URL-encoded; quotes, backslashes
// and control characters are encoded too so the header can't be broken.
func dispositionName(name string) string {
	if name == "" {
		name = "attachment"
	}
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "_")
	}
	safe := true
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' || r == '/' {
			safe = false
			break
		}
	}
	if safe {
		return name
	}
	return url.PathEscape(name)
}

// DecodeDispositionName reverses dispositionName, for servers (the sandbox)
// that receive what the client sent.
func DecodeDispositionName(name string) string {
	if d, err := url.PathUnescape(name); err == nil {
		return d
	}
	return name
}
