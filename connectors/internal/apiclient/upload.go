package apiclient

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
)

// Field is a form field sent before the file part of a multipart upload.
type Field struct{ Name, Value string }

// MultipartFrame renders everything of a multipart form but the file's
// bytes: the fields and the "file" part's header (head), and the closing
// boundary (tail). Knowing both lets the body stream with an exact
// Content-Length. filename goes into Content-Disposition as given: each
// tracker makes names safe its own way. contentType defaults to
// application/octet-stream.
func MultipartFrame(filename, contentType string, fields ...Field) (head, tail []byte, formType string, err error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := w.WriteField(f.Name, f.Value); err != nil {
			return nil, nil, "", err
		}
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, filename))
	h.Set("Content-Type", contentType)
	if _, err := w.CreatePart(h); err != nil {
		return nil, nil, "", err
	}
	head = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := w.Close(); err != nil {
		return nil, nil, "", err
	}
	return head, bytes.Clone(buf.Bytes()), w.FormDataContentType(), nil
}

// FileBody streams head, exactly size bytes of the file open yields, and
// tail, opening the file afresh for every attempt so a retried upload
// never holds it in memory. A file that can't be opened, or that is not
// size bytes long, is final: sending it again would fail the same way.
// name names the file in those errors.
func FileBody(head, tail []byte, formType, name string, size int64, open func() (io.ReadCloser, error)) OpenFunc {
	return func() (io.ReadCloser, int64, string, error) {
		f, err := open()
		if err != nil {
			return nil, 0, "", Final(fmt.Errorf("opening %q: %w", name, err))
		}
		body := io.MultiReader(bytes.NewReader(head), &exactReader{r: f, left: size, name: name}, bytes.NewReader(tail))
		return readCloser{Reader: body, Closer: f}, int64(len(head)) + size + int64(len(tail)), formType, nil
	}
}

// exactReader makes sure a file yields exactly the size announced in
// Content-Length: a file that grew or shrank since its size was taken would
// otherwise corrupt the upload.
type exactReader struct {
	r    io.Reader
	left int64
	name string
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		// Anything beyond the announced size is an error, not silently cut.
		var one [1]byte
		if n, _ := e.r.Read(one[:]); n > 0 {
			return 0, Final(fmt.Errorf("%q is larger than its announced size", e.name))
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		return n, Final(fmt.Errorf("%q is %d bytes shorter than its announced size: %w", e.name, e.left, io.ErrUnexpectedEOF))
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

type readCloser struct {
	io.Reader
	io.Closer
}
