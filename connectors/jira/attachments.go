package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tandem-sync/tandem/connectors/internal/apiclient"
)

// DefaultMaxAttachmentSize is Jira Cloud's default upload limit (1 GB); a
// site admin may set it lower.
const DefaultMaxAttachmentSize int64 = 1 << 30

// Upload is a file to attach. Open is called once per attempt, so a retried
// upload streams the file again from the start instead of holding it in
// memory.
type Upload struct {
	// Issue is the issue's id or key.
	Issue string
	// Name is the file name shown in Jira.
	Name string
	// Size is the exact number of bytes Open yields.
	Size int64
	// ContentType defaults to application/octet-stream.
	ContentType string
	Open        func() (io.ReadCloser, error)
}

// UploadAttachment attaches a file to an issue (POST
// /issue/{k}/attachments, multipart part "file", with X-Atlassian-Token:
// no-check), streaming it with an exact Content-Length. Jira answers with
// the list of attachments it made: one here.
func (c *Client) UploadAttachment(ctx context.Context, u Upload) (Attachment, error) {
	if err := checkIssue(u.Issue); err != nil {
		return Attachment{}, err
	}
	if u.Size < 0 || u.Open == nil {
		return Attachment{}, fmt.Errorf("jira: attaching %q to %s: size and a way to open the file are required", u.Name, u.Issue)
	}
	head, tail, contentType, err := multipartFrame(u)
	if err != nil {
		return Attachment{}, fmt.Errorf("jira: attaching %q to %s: %w", u.Name, u.Issue, err)
	}
	open := apiclient.FileBody(head, tail, contentType, u.Name, u.Size, u.Open)
	a, err := c.send(ctx, request{method: http.MethodPost, path: "/issue/" + u.Issue + "/attachments", endpoint: "/issue/{id}/attachments",
		open: open, issue: u.Issue, header: http.Header{"X-Atlassian-Token": {"no-check"}}})
	if err != nil {
		return Attachment{}, err
	}
	out, err := decodeAttachments(a.Data)
	if err != nil {
		return Attachment{}, fmt.Errorf("jira: POST /issue/%s/attachments: decoding the answer: %w", u.Issue, err)
	}
	if len(out) == 0 || out[0].ID == "" {
		return Attachment{}, fmt.Errorf("jira: POST /issue/%s/attachments: the answer names no attachment", u.Issue)
	}
	c.wrote(u.Issue)
	return out[0], nil
}

// multipartFrame frames an upload as Jira takes it: the file alone.
func multipartFrame(u Upload) (head, tail []byte, contentType string, err error) {
	return apiclient.MultipartFrame(dispositionName(u.Name), u.ContentType)
}

// dispositionName makes a file name safe for a quoted Content-Disposition
// parameter: UTF-8 is sent as is (Jira keeps it), quotes and backslashes
// are escaped as Go's multipart reader unescapes them, and control
// characters, which would break the header, become "_".
func dispositionName(name string) string {
	if name == "" {
		name = "attachment"
	}
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "_")
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f:
			b.WriteByte('_')
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Download streams an attachment's bytes (GET /attachment/content/{id}),
// following Jira's redirect to where the bytes live; the Authorization
// header is never sent to another host. Name and size come from the
// answer's Content-Disposition and Content-Length (Size is -1 when the
// answer has none). The caller closes the reader; a stream cut short of
// its Content-Length returns io.ErrUnexpectedEOF.
func (c *Client) Download(ctx context.Context, attachmentID string) (io.ReadCloser, Attachment, error) {
	if !isIssueID(attachmentID) {
		return nil, Attachment{}, fmt.Errorf("jira: %q is not an attachment id (such as 10001): %w", attachmentID, ErrInvalidRequest)
	}
	c.api.CountDownload()
	a, err := c.send(ctx, request{method: http.MethodGet, path: "/attachment/content/" + attachmentID,
		endpoint: "/attachment/content/{id}", stream: true, header: http.Header{"Accept": {"*/*"}}})
	if err != nil {
		return nil, Attachment{}, err
	}
	att := Attachment{ID: ID(attachmentID), Size: -1, MimeType: a.Header.Get("Content-Type")}
	if cl := a.Header.Get("Content-Length"); cl != "" {
		fmt.Sscan(cl, &att.Size)
	}
	if _, params, err := mime.ParseMediaType(a.Header.Get("Content-Disposition")); err == nil {
		att.Filename = params["filename"]
	}
	return a.Body, att, nil
}

// decodeAttachments reads an upload's answer: an array, or (leniently) a
// single object.
func decodeAttachments(data []byte) ([]Attachment, error) {
	var out []Attachment
	if err := json.Unmarshal(data, &out); err == nil {
		return out, nil
	}
	var one Attachment
	if err := json.Unmarshal(data, &one); err != nil {
		return nil, err
	}
	return []Attachment{one}, nil
}
