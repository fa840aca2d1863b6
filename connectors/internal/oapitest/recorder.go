package oapitest

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
)

// recorder passes a response through to the real writer as it is written
// (so streaming, flushing and timing are unchanged) while keeping a copy of
// the status, the headers as sent and up to limit bytes of the body.
type recorder struct {
	w        http.ResponseWriter
	limit    int64
	status   int         // 0 until the final status is written
	header   http.Header // the headers when the status was written
	body     bytes.Buffer
	overflow bool // the body outgrew limit; the copy is incomplete
	hijacked bool
}

var (
	_ http.Flusher  = (*recorder)(nil)
	_ http.Hijacker = (*recorder)(nil)
)

func (r *recorder) Header() http.Header { return r.w.Header() }

func (r *recorder) WriteHeader(code int) {
	// 1xx (other than 101) are interim responses; the final status follows.
	if r.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		r.status = code
		// net/http ignores header changes after this point, so this copy is
		// what the client sees (bar the Content-Type it may sniff, below).
		r.header = r.w.Header().Clone()
	}
	r.w.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.w.Write(p)
	if !r.overflow {
		if int64(r.body.Len()+n) > r.limit {
			r.overflow = true
			r.body.Reset()
		} else {
			r.body.Write(p[:n])
		}
	}
	return n, err
}

// Flush sends what has been written so far, as the real writer would.
func (r *recorder) Flush() {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(r.w).Flush()
}

// Hijack hands the connection to the handler; the sandbox does this to cut
// connections on purpose. A hijacked exchange has no response to validate.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(r.w).Hijack()
	if err == nil {
		r.hijacked = true
	}
	return conn, rw, err
}

// Unwrap lets http.ResponseController reach the real writer for deadlines
// and full duplex.
func (r *recorder) Unwrap() http.ResponseWriter { return r.w }

// statusCode is the status the client got: 200 when the handler wrote
// nothing, as net/http does.
func (r *recorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// sentHeader is the response header as sent, including the Content-Type
// net/http sniffs when the handler set none.
func (r *recorder) sentHeader() http.Header {
	h := r.header
	if h == nil {
		h = r.w.Header().Clone()
	}
	if _, set := h["Content-Type"]; !set && r.body.Len() > 0 {
		h.Set("Content-Type", http.DetectContentType(r.body.Bytes()))
	}
	return h
}
