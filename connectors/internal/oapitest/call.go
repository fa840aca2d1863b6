package oapitest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Call is one exchange a test sends through a validator: the request, and
// the answer the handler behind the validator gives it.
type Call struct {
	Method, Path string // Path from the server's root, query included
	ContentType  string
	Body         string
	Header       map[string]string // request headers, credentials included
	Status       int
	Answer       string
	// AnswerHeader is set on the answer after its Content-Type, which is
	// application/json.
	AnswerHeader map[string]string
}

// Send serves c over real HTTP, so headers are as a client sends them,
// through wrap around a handler that answers it. The handler fails t if it
// sees a header named hidden (the contract's ExpectHeader, which wrap must
// remove) or a body other than c.Body; t also fails unless the client gets
// the answer unchanged. The server is closed before Send returns, which
// waits for the handler and so for every check.
func (c Call) Send(t testing.TB, hidden string, wrap func(http.Handler) http.Handler) {
	t.Helper()
	srv := httptest.NewServer(wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Values(hidden); len(got) > 0 {
			t.Errorf("handler saw %s: %q", hidden, got)
		}
		if got, _ := io.ReadAll(r.Body); string(got) != c.Body {
			t.Errorf("handler read %q, want the body sent, %q", ShortText(string(got)), ShortText(c.Body))
		}
		w.Header().Set("Content-Type", "application/json")
		for k, x := range c.AnswerHeader {
			w.Header().Set(k, x)
		}
		w.WriteHeader(c.Status)
		io.WriteString(w, c.Answer)
	})))
	defer srv.Close()
	req, err := http.NewRequest(c.Method, srv.URL+c.Path, strings.NewReader(c.Body))
	if err != nil {
		t.Fatal(err)
	}
	if c.ContentType != "" {
		req.Header.Set("Content-Type", c.ContentType)
	}
	for k, x := range c.Header {
		req.Header.Set(k, x)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != c.Status || string(got) != c.Answer {
		t.Errorf("client got %d %q; the answer must pass through unchanged", resp.StatusCode, ShortText(string(got)))
	}
}
