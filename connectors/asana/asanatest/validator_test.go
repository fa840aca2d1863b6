package asanatest

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/internal/oapitest"
)

// The checks themselves are tested in oapitest; the tests here hold what
// this package adds: Asana's document, token, rules and error body.

const (
	userMe   = `{"data":{"gid":"12345","resource_type":"user","name":"Greg Sanchez","email":"gsanchez@example.com","photo":null,"workspaces":[{"gid":"1","resource_type":"workspace","name":"My Company"}]}}`
	notFound = `{"errors":[{"message":"Not found"}]}`
	newTask  = `{"data":{"name":"A","workspace":"1"}}`
	task     = `{"data":{"gid":"77","resource_type":"task"}}`
)

// upload is an attachment upload with a file of n bytes.
func upload(t *testing.T, n int) (contentType, body string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("parent", "77")
	fw, err := mw.CreateFormFile("file", "r%C3%A9sum%C3%A9.pdf")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(bytes.Repeat([]byte{0xA5}, n))
	mw.Close()
	return mw.FormDataContentType(), buf.String()
}

// TestContract proves Asana's contract fails tests: each exchange outside
// it must be reported, with what is wrong, and each inside it must not be,
// and must have been checked both ways.
func TestContract(t *testing.T) {
	badGid := strings.Replace(userMe, `"gid":"12345"`, `"gid":12345`, 1)
	badFields := "/api/1.0/users/me?opt_fields=name,no_such_field"
	allow503 := []Option{AllowStatus(http.StatusServiceUnavailable)}
	attachment, file := upload(t, 4096)
	for _, tc := range []struct {
		name        string
		method      string // GET when empty
		path        string
		contentType string
		body        string
		noToken     bool
		expect      string // the ExpectHeader
		status      int
		header      map[string]string // set on the answer
		answer      string
		opts        []Option
		want        []string // parts of the one violation; none for a clean exchange
	}{
		{name: "conforming user", path: "/api/1.0/users/me?opt_fields=email,name,photo", status: 200, answer: userMe},
		{name: "gid as number", path: "/api/1.0/users/me", status: 200, answer: badGid,
			want: []string{"asanatest: GET /api/1.0/users/me", "→ 200", "response", "/data/gid", "must be a string"}},
		{name: "bad email", path: "/api/1.0/users/me", status: 200,
			answer: `{"data":{"gid":"1","resource_type":"user","email":"not an address"}}`,
			want:   []string{"/data/email", `format "email"`}},
		{name: "relative uri", path: "/api/1.0/attachments/5", status: 200,
			answer: `{"data":{"gid":"5","resource_type":"attachment","download_url":"/files/5"}}`,
			want:   []string{"/data/download_url", `format "uri"`}},
		{name: "bad timestamp", path: "/api/1.0/tasks/77", status: 200,
			answer: `{"data":{"gid":"77","resource_type":"task","created_at":"yesterday"}}`,
			want:   []string{"response", "/data/created_at"}},
		{name: "error without list", path: "/api/1.0/tasks/77", status: 404, answer: `{"errors":{"message":"x"}}`,
			want: []string{"→ 404", "response", "/errors"}},
		{name: "multipart upload", method: "POST", path: "/api/1.0/attachments", contentType: attachment, body: file, status: 200,
			answer: `{"data":{"gid":"5","resource_type":"attachment","name":"résumé.pdf","resource_subtype":"asana"}}`},
		{name: "bad opt_fields", path: badFields, status: 200, answer: userMe,
			want: []string{"→ 200", "request", `"opt_fields"`, "not one of the allowed values"}},
		// The connector reads an assignee's e-mail with GET /users/{gid}
		// because the document lists no assignee.email for tasks, and it
		// can't change tags or sections because the document has no
		// addTag, removeTag or addTask: if these stop failing, the
		// document grew and the connector can use them.
		{name: "no assignee.email on tasks", path: "/api/1.0/tasks/77?opt_fields=assignee.name,assignee.email", status: 200, answer: task,
			want: []string{"request", `"opt_fields"`, "not one of the allowed values", "assignee.email"}},
		{name: "no addTag", method: "POST", path: "/api/1.0/tasks/77/addTag", contentType: "application/json",
			body: `{"data":{"tag":"5"}}`, status: 200, answer: `{"data":{}}`, want: []string{"not in the Asana OpenAPI document"}},
		{name: "no addTask", method: "POST", path: "/api/1.0/sections/5/addTask", contentType: "application/json",
			body: `{"data":{"task":"77"}}`, status: 200, answer: `{"data":{}}`, want: []string{"not in the Asana OpenAPI document"}},
		{name: "bad opt_fields rejected", path: badFields, expect: ExpectInvalidRequest, status: 400, answer: `{"errors":[{"message":"opt_fields: unknown field"}]}`},

		{name: "undocumented status", path: "/api/1.0/users/me", status: 418, answer: notFound,
			want: []string{"→ 418", "status 418 is not documented for this operation"}},
		{name: "undocumented 503", path: "/api/1.0/users/me", status: 503, answer: `{"errors":[{"message":"unavailable"}]}`,
			want: []string{"→ 503", "status 503 is not documented for this operation"}},
		{name: "allowed 503", path: "/api/1.0/users/me", status: 503, answer: `{"errors":[{"message":"unavailable"}]}`, opts: allow503},
		{name: "allowed 503 not an ErrorResponse", path: "/api/1.0/users/me", status: 503, answer: `{"errors":"down"}`, opts: allow503,
			want: []string{"→ 503", "not an ErrorResponse", "/errors"}},
		{name: "allowed 503 not JSON", path: "/api/1.0/users/me", status: 503, answer: "down",
			header: map[string]string{"Content-Type": "text/plain"}, opts: allow503,
			want: []string{"→ 503", `Content-Type "text/plain"`}},
		{name: "allowed but documented status", path: "/api/1.0/tasks/77", status: 404, answer: `{"errors":"x"}`,
			opts: []Option{AllowStatus(http.StatusNotFound)}, want: []string{"→ 404", "/errors"}},

		{name: "429 with Retry-After", path: "/api/1.0/users/me", status: 429, answer: notFound,
			header: map[string]string{"Retry-After": "30"}},
		{name: "429 without Retry-After", path: "/api/1.0/users/me", status: 429, answer: notFound,
			want: []string{"→ 429", `Retry-After ""`}},
		{name: "429 with Retry-After 0", path: "/api/1.0/users/me", status: 429, answer: notFound,
			header: map[string]string{"Retry-After": "0"}, want: []string{`Retry-After "0"`, "at least 1"}},
		{name: "201 with Location", method: "POST", path: "/api/1.0/tasks", contentType: "application/json", body: newTask,
			status: 201, answer: task, header: map[string]string{"Location": "https://app.asana.com/api/1.0/tasks/77"}},
		{name: "201 without Location", method: "POST", path: "/api/1.0/tasks", contentType: "application/json", body: newTask,
			status: 201, answer: task, want: []string{"→ 201", `Location ""`}},
		{name: "401 as Asana sends it", path: "/api/1.0/users/me", status: 401, answer: notAuthorized},
		{name: "401 with another body", path: "/api/1.0/users/me", status: 401,
			answer: `{"errors":[{"message":"Not Authorized","help":"log in"}]}`, want: []string{"→ 401", "want exactly"}},

		{name: "no token", path: "/api/1.0/users/me", noToken: true, expect: ExpectInvalidRequest, status: 401, answer: notAuthorized},
		{name: "no token accepted", path: "/api/1.0/users/me", noToken: true, status: 200, answer: userMe,
			want: []string{"→ 200", "no Bearer token"}},
		{name: "unknown route", path: "/api/1.0/portfolios", expect: ExpectUnknownRoute, status: 404, answer: notFound},
		{name: "unknown route with a bad body", path: "/api/1.0/portfolios", expect: ExpectUnknownRoute, status: 404, answer: `{"errors":"x"}`,
			want: []string{"→ 404", "not an ErrorResponse", "/errors"}},
		{name: "unknown route unmarked", path: "/api/1.0/portfolios", status: 404, answer: notFound,
			want: []string{"→ 404", "not in the Asana OpenAPI document"}},
		{name: "streamed body", method: "POST", path: "/api/1.0/tasks", contentType: "application/json", body: newTask,
			expect: ExpectStreamedBody, status: 201, answer: task, header: map[string]string{"Location": "/api/1.0/tasks/77"}},
		{name: "outside the API", path: "/download/1/a.pdf", expect: ExpectInvalidRequest, status: 200, answer: "file bytes",
			want: []string{"outside /api/1.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header := map[string]string{"Authorization": "Bearer test-token"}
			if tc.noToken {
				delete(header, "Authorization")
			}
			if tc.expect != "" {
				header[ExpectHeader] = tc.expect
			}
			if tc.method == "" {
				tc.method = http.MethodGet
			}
			c := &oapitest.Catch{TB: t}
			v := NewValidator(t, tc.opts...)
			wrap := func(h http.Handler) http.Handler { return v.Wrap(c, h) }
			oapitest.Call{Method: tc.method, Path: tc.path, ContentType: tc.contentType, Body: tc.body, Header: header,
				Status: tc.status, Answer: tc.answer, AnswerHeader: tc.header}.Send(t, ExpectHeader, wrap)
			if len(tc.want) > 0 {
				c.WantViolation(t, tc.want...)
				return
			}
			c.WantClean(t)
			if logs := c.Logs(); len(logs) > 0 {
				t.Errorf("want every body validated in full, got notes %q", logs)
			}
			if v.Checked() != 2 && strings.HasPrefix(tc.path, apiPrefix) {
				t.Errorf("Checked() = %d, want 2 (one request, one response)", v.Checked())
			}
		})
	}
}
