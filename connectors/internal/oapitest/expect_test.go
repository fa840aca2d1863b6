package oapitest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestExpectations checks that what a test declares through the
// ExpectHeader is held against the request, and that the handler never
// sees the header.
func TestExpectations(t *testing.T) {
	const badFields = "/api/things/1?fields=name,colour"
	rejected := `{"errors":[{"message":"fields: unknown field"}]}`
	noStreams := testConfig()
	noStreams.StreamedBody = false
	for _, tc := range []struct {
		name    string
		cfg     *Config // testConfig() when nil
		path    string
		noToken bool
		expect  string
		status  int
		body    string
		want    []string // parts of the one violation; none when clean
		checked int      // Validator.Checked() when not 0
	}{
		{name: "invalid request rejected", path: badFields, expect: ExpectInvalidRequest, status: 400, body: rejected},
		{name: "invalid request accepted", path: badFields, expect: ExpectInvalidRequest, status: 200, body: thing},
		{name: "invalid request unmarked", path: badFields, status: 200, body: thing,
			want: []string{"→ 200", "request", `"fields"`}},
		{name: "conforming request marked invalid", path: "/api/things/1", expect: ExpectInvalidRequest, status: 400, body: rejected,
			want: []string{"→ 400", "conforms to the document, but was expected not to", ExpectInvalidRequest}},
		{name: "no token", path: "/api/things/1", noToken: true, expect: ExpectInvalidRequest, status: 401, body: notFound},
		{name: "no token accepted", path: "/api/things/1", noToken: true, status: 200, body: thing,
			want: []string{"→ 200", "no Bearer token"}},

		{name: "unknown route", path: "/api/nothing", expect: ExpectUnknownRoute, status: 404, body: notFound, checked: 2},
		{name: "unknown route with a bad body", path: "/api/nothing", expect: ExpectUnknownRoute, status: 404, body: `{"errors":"x"}`,
			want: []string{"→ 404", "not an Error", "/errors"}},
		{name: "unknown route answered as a success", path: "/api/nothing", expect: ExpectUnknownRoute, status: 200, body: thing,
			want: []string{"→ 200", "not an Error", "errors"}},
		{name: "known route marked unknown", path: "/api/things/1", expect: ExpectUnknownRoute, status: 200, body: thing,
			want: []string{"→ 200", "expected no operation", "GET /things/{id}"}},
		{name: "unknown route unmarked", path: "/api/nothing", status: 404, body: notFound,
			want: []string{"→ 404", "not in the Test OpenAPI document"}},

		{name: "unknown value", path: "/api/things/1", expect: "invalid", status: 200, body: thing,
			want: []string{expectHeader, `unknown value "invalid"`}},
		{name: "streamed body not offered", cfg: &noStreams, path: "/api/things/1", expect: ExpectStreamedBody, status: 200, body: thing,
			want: []string{expectHeader, `unknown value "streamed-body"`}},
		{name: "contradiction", path: "/api/nothing", expect: ExpectInvalidRequest + ", " + ExpectUnknownRoute, status: 404, body: notFound,
			want: []string{"exclude each other"}},
		{name: "outside the API", path: "/download/1/a.pdf", expect: ExpectInvalidRequest, status: 200, body: "file bytes",
			want: []string{"outside /api"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Values(expectHeader); len(got) > 0 {
					t.Errorf("handler saw %s: %q", expectHeader, got)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			req := newRequest(t, "GET", tc.path, "", nil)
			if tc.noToken {
				req.Header.Del("Authorization")
			}
			if tc.expect != "" {
				req.Header.Set(expectHeader, tc.expect)
			}
			cfg := testConfig()
			if tc.cfg != nil {
				cfg = *tc.cfg
			}
			v, c, _, _ := serveRequest(t, cfg, nil, h, req)
			if len(tc.want) == 0 {
				c.WantClean(t)
			} else {
				c.WantViolation(t, tc.want...)
			}
			if tc.checked != 0 && v.Checked() != tc.checked {
				t.Errorf("Checked() = %d, want %d", v.Checked(), tc.checked)
			}
		})
	}
}

// TestStreamedBody holds a request body until the handler has started: a
// validator waiting for the body first would never let it start.
func TestStreamedBody(t *testing.T) {
	const body = `{"name":"Held"}`
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		if got, err := io.ReadAll(r.Body); err != nil || string(got) != body {
			t.Errorf("handler read %q (err %v), want %q", got, err, body)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, thing)
	})
	pr, pw := io.Pipe()
	go func() {
		<-started
		io.Copy(pw, strings.NewReader(body))
		pw.Close()
	}()
	// A validator that waited would hold the request until this deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := newRequest(t, "POST", "/api/things", "application/json", pr).WithContext(ctx)
	req.Header.Set(expectHeader, ExpectStreamedBody)
	v, c, resp, _ := serveRequest(t, testConfig(), nil, h, req)
	if resp == nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("streamed request got %v, want 201", resp)
	}
	c.WantClean(t)
	if v.Checked() != 2 {
		t.Errorf("Checked() = %d, want 2: parameters and response are still checked", v.Checked())
	}
}
