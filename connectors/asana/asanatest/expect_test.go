package asanatest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestExpectations checks that what a test declares through ExpectHeader
// is held against the request, and that the handler never sees the header.
func TestExpectations(t *testing.T) {
	const badFields = "/api/1.0/users/me?opt_fields=name,no_such_field"
	rejected := `{"errors":[{"message":"opt_fields: unknown field"}]}`
	for _, tc := range []struct {
		name    string
		path    string
		noToken bool
		expect  string
		status  int
		body    string
		want    []string // parts of the one violation; none when clean
		checked int      // Validator.Checked() when not 0
	}{
		{name: "invalid request rejected", path: badFields, expect: ExpectInvalidRequest, status: 400, body: rejected},
		{name: "invalid request accepted", path: badFields, expect: ExpectInvalidRequest, status: 200, body: userMe},
		{name: "invalid request unmarked", path: badFields, status: 200, body: userMe,
			want: []string{"→ 200", "request", `"opt_fields"`}},
		{name: "conforming request marked invalid", path: "/api/1.0/users/me", expect: ExpectInvalidRequest, status: 400, body: rejected,
			want: []string{"→ 400", "conforms to the document, but was expected not to", ExpectInvalidRequest}},
		{name: "no token", path: "/api/1.0/users/me", noToken: true, expect: ExpectInvalidRequest, status: 401, body: notAuthorized},
		{name: "no token accepted", path: "/api/1.0/users/me", noToken: true, status: 200, body: userMe,
			want: []string{"→ 200", "no Bearer token"}},

		{name: "unknown route", path: "/api/1.0/portfolios", expect: ExpectUnknownRoute, status: 404, body: notFound, checked: 2},
		{name: "unknown route with a bad body", path: "/api/1.0/portfolios", expect: ExpectUnknownRoute, status: 404, body: `{"errors":"x"}`,
			want: []string{"→ 404", "not an ErrorResponse", "/errors"}},
		{name: "known route marked unknown", path: "/api/1.0/users/me", expect: ExpectUnknownRoute, status: 200, body: userMe,
			want: []string{"→ 200", "expected no operation", "GET /users/{user_gid}"}},
		{name: "unknown route unmarked", path: "/api/1.0/portfolios", status: 404, body: notFound,
			want: []string{"→ 404", "not in the Asana OpenAPI document"}},

		{name: "unknown value", path: "/api/1.0/users/me", expect: "invalid", status: 200, body: userMe,
			want: []string{ExpectHeader, `unknown value "invalid"`}},
		{name: "contradiction", path: "/api/1.0/portfolios", expect: ExpectInvalidRequest + ", " + ExpectUnknownRoute, status: 404, body: notFound,
			want: []string{"exclude each other"}},
		{name: "outside the API", path: "/download/1/a.pdf", expect: ExpectInvalidRequest, status: 200, body: "file bytes",
			want: []string{"outside /api/1.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Values(ExpectHeader); len(got) > 0 {
					t.Errorf("handler saw %s: %q", ExpectHeader, got)
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
				req.Header.Set(ExpectHeader, tc.expect)
			}
			v, rt, _, _ := serveRequest(t, h, req)
			if len(tc.want) == 0 {
				wantClean(t, rt)
			} else {
				wantViolation(t, rt, tc.want...)
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
	const task = `{"data":{"name":"Held","workspace":"1"}}`
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		if got, err := io.ReadAll(r.Body); err != nil || string(got) != task {
			t.Errorf("handler read %q (err %v), want %q", got, err, task)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/api/1.0/tasks/77")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"data":{"gid":"77","resource_type":"task","name":"Held"}}`)
	})
	pr, pw := io.Pipe()
	go func() {
		<-started
		io.Copy(pw, strings.NewReader(task))
		pw.Close()
	}()
	// A validator that waited would hold the request until this deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := newRequest(t, "POST", "/api/1.0/tasks?opt_fields=name", "application/json", pr).WithContext(ctx)
	req.Header.Set(ExpectHeader, ExpectStreamedBody)
	v, rt, resp, _ := serveRequest(t, h, req)
	if resp == nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("streamed request got %v, want 201", resp)
	}
	wantClean(t, rt)
	if v.Checked() != 2 {
		t.Errorf("Checked() = %d, want 2: parameters and response are still checked", v.Checked())
	}
}
