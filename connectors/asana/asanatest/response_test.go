package asanatest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

const notFound = `{"errors":[{"message":"Not found"}]}`

// TestResponseRules proves the checks fail tests: each answer outside
// Asana's contract must be reported, with what is wrong, and each answer
// inside it must not be.
func TestResponseRules(t *testing.T) {
	badGid := strings.Replace(userMe, `"gid":"12345"`, `"gid":12345`, 1)
	allow503 := []Option{AllowStatus(http.StatusServiceUnavailable)}
	for _, tc := range []struct {
		name   string
		path   string // GET, or POST when task is set
		task   string // a POST /tasks request body
		status int
		header http.Header // set on the answer after Content-Type
		body   string
		opts   []Option
		want   []string // parts of the one violation; none for a clean answer
	}{
		{name: "conforming user", path: "/users/me", status: 200,
			body: `{"data":{"gid":"1","resource_type":"user","name":"A","email":"a@b.example"}}`},
		{name: "gid as number", path: "/users/me", status: 200, body: badGid,
			want: []string{"GET /api/1.0/users/me", "→ 200", "response", "/data/gid", "must be a string"}},
		{name: "bad email", path: "/users/me", status: 200,
			body: `{"data":{"gid":"1","resource_type":"user","email":"not an address"}}`,
			want: []string{"/data/email", `format "email"`}},
		{name: "relative uri", path: "/attachments/5", status: 200,
			body: `{"data":{"gid":"5","resource_type":"attachment","download_url":"/files/5"}}`,
			want: []string{"/data/download_url", `format "uri"`}},
		{name: "bad timestamp", path: "/tasks/77", status: 200,
			body: `{"data":{"gid":"77","resource_type":"task","created_at":"yesterday"}}`,
			want: []string{"response", "/data/created_at"}},
		{name: "error without list", path: "/tasks/77", status: 404, body: `{"errors":{"message":"x"}}`,
			want: []string{"→ 404", "response", "/errors"}},

		{name: "undocumented status", path: "/users/me", status: 418, body: notFound,
			want: []string{"→ 418", "status 418 is not documented for this operation"}},
		{name: "undocumented 503", path: "/users/me", status: 503, body: `{"errors":[{"message":"unavailable"}]}`,
			want: []string{"→ 503", "status 503 is not documented for this operation"}},
		{name: "allowed 503", path: "/users/me", status: 503, body: `{"errors":[{"message":"unavailable"}]}`, opts: allow503},
		{name: "allowed 503 not an ErrorResponse", path: "/users/me", status: 503, body: `{"errors":"down"}`, opts: allow503,
			want: []string{"→ 503", "not an ErrorResponse", "/errors"}},
		{name: "allowed 503 not JSON", path: "/users/me", status: 503, body: "down",
			header: http.Header{"Content-Type": {"text/plain"}}, opts: allow503,
			want: []string{"→ 503", `Content-Type "text/plain"`}},
		{name: "allowed but documented status", path: "/tasks/77", status: 404, body: `{"errors":"x"}`,
			opts: []Option{AllowStatus(http.StatusNotFound)}, want: []string{"→ 404", "/errors"}},

		{name: "429 with Retry-After", path: "/users/me", status: 429, body: notFound,
			header: http.Header{"Retry-After": {"30"}}},
		{name: "429 without Retry-After", path: "/users/me", status: 429, body: notFound,
			want: []string{"→ 429", `Retry-After ""`}},
		{name: "429 with Retry-After 0", path: "/users/me", status: 429, body: notFound,
			header: http.Header{"Retry-After": {"0"}}, want: []string{`Retry-After "0"`, "at least 1"}},
		{name: "201 with Location", task: `{"data":{"name":"A","workspace":"1"}}`, status: 201,
			body:   `{"data":{"gid":"77","resource_type":"task"}}`,
			header: http.Header{"Location": {"https://app.asana.com/api/1.0/tasks/77"}}},
		{name: "201 without Location", task: `{"data":{"name":"A","workspace":"1"}}`, status: 201,
			body: `{"data":{"gid":"77","resource_type":"task"}}`, want: []string{"→ 201", `Location ""`}},
		{name: "401 as Asana sends it", path: "/users/me", status: 401, body: notAuthorized},
		{name: "401 with another body", path: "/users/me", status: 401,
			body: `{"errors":[{"message":"Not Authorized","help":"log in"}]}`, want: []string{"→ 401", "want exactly"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=UTF-8")
				for k, vs := range tc.header {
					w.Header()[k] = vs
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			var rt *recordingTB
			if tc.task != "" {
				_, rt, _, _ = serve(t, h, "POST", "/api/1.0/tasks", "application/json", strings.NewReader(tc.task), tc.opts...)
			} else {
				_, rt, _, _ = serve(t, h, "GET", "/api/1.0"+tc.path, "", nil, tc.opts...)
			}
			if len(tc.want) == 0 {
				wantClean(t, rt)
			} else {
				wantViolation(t, rt, tc.want...)
			}
		})
	}
}
