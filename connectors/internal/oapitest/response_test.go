package oapitest

import (
	"net/http"
	"testing"
)

// call is a Call to the test contract, with a token unless noToken, and
// what is to change in the contract or the Validator.
type call struct {
	method, path string
	contentType  string
	body         string
	header       map[string]string
	noToken      bool
	status       int
	answer       string
	answerHeader map[string]string
	cfg          func(*Config)
	setup        func(*Validator)
}

// run sends c through a fresh Validator for the test contract.
func (c call) run(t *testing.T) (*Validator, *Catch) {
	t.Helper()
	header := map[string]string{"Authorization": "Bearer test-token"}
	if c.noToken {
		header = map[string]string{}
	}
	for k, x := range c.header {
		header[k] = x
	}
	cfg := testConfig()
	if c.cfg != nil {
		c.cfg(&cfg)
	}
	catch := &Catch{TB: t}
	v := newValidator(t, cfg, c.setup)
	wrap := func(h http.Handler) http.Handler { return v.Wrap(catch, h) }
	Call{Method: c.method, Path: c.path, ContentType: c.contentType, Body: c.body, Header: header,
		Status: c.status, Answer: c.answer, AnswerHeader: c.answerHeader}.Send(t, expectHeader, wrap)
	return v, catch
}

// upload is a multipart body whose one part is named field.
func upload(field string) (contentType, body string) {
	return "multipart/form-data; boundary=b",
		"--b\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"a.txt\"\r\n\r\nx\r\n--b--\r\n"
}

func everyError(c *Config) { c.EveryError = true }

// TestCatchesViolations shows the contract check can fail, on either side
// of the exchange and through each of a tracker's hooks, and names the
// operation, status and violation.
func TestCatchesViolations(t *testing.T) {
	badCT, notFile := upload("upload")
	for _, tc := range []struct {
		name string
		call call
		want []string // parts of the one violation
	}{
		{"wrong type", call{method: "GET", path: "/api/things/1", status: 200, answer: `{"id":1}`},
			[]string{"oapitest: GET /api/things/1 (getThing) → 200", "response", "/id"}},
		{"unknown member", call{method: "GET", path: "/api/things/1", status: 200, answer: `{"id":"1","bogus":1}`},
			[]string{"→ 200", "bogus"}},
		{"bad error body", call{method: "GET", path: "/api/things/1", status: 404, answer: `{"message":"nope"}`},
			[]string{"→ 404", "response", "errors"}},
		{"undocumented status", call{method: "GET", path: "/api/things/1", status: 418, answer: notFound},
			[]string{"→ 418", "status 418 is not documented for this operation"}},
		{"allowed status with a bad body", call{method: "GET", path: "/api/things/1", status: 503, answer: `{"errors":"down"}`,
			setup: func(v *Validator) { v.AllowStatus(503) }},
			[]string{"→ 503", "error body is not an Error", "/errors"}},
		{"allowed status not JSON", call{method: "GET", path: "/api/things/1", status: 503, answer: "down",
			answerHeader: map[string]string{"Content-Type": "text/plain"}, cfg: func(c *Config) { c.Allowed = []int{503} }},
			[]string{"→ 503", `Content-Type "text/plain"`}},
		{"every error held to the error schema", call{method: "POST", path: "/api/things", contentType: "application/json", body: `{"name":"a"}`,
			status: 409, answer: `{"message":"nope"}`, cfg: everyError},
			[]string{"(createThing) → 409", "error body is not an Error", "errors"}},
		{"no token", call{method: "GET", path: "/api/things/1", noToken: true, status: 200, answer: thing},
			[]string{"→ 200", "request", "no Bearer token"}},
		{"bad request body", call{method: "POST", path: "/api/things", contentType: "application/json", body: `{"name":[]}`,
			status: 201, answer: thing},
			[]string{"POST /api/things (createThing) → 201", "request body", "/name"}},
		{"request hook", call{method: "GET", path: "/api/things/1", header: map[string]string{"X-Rule": "broken"}, status: 200, answer: thing},
			[]string{"(getThing) → 200", "request", "X-Rule is broken"}},
		{"multipart array left to the hook", call{method: "POST", path: "/api/things/1/files", contentType: badCT, body: notFile,
			status: 200, answer: thing},
			[]string{"(addFiles) → 200", "no part named file"}},
		{"response hook", call{method: "GET", path: "/api/things/1", status: 429, answer: notFound, cfg: func(c *Config) { c.Allowed = []int{429} }},
			[]string{"→ 429", `Retry-After ""`, "at least 1"}},
		{"extra request body", call{method: "PUT", path: "/api/things/1", contentType: "application/json", body: `{"name":1}`,
			status: 200, answer: thing},
			[]string{"PUT /api/things/1 (rename, not in the document) → 200", "request body (Thing)", "/name"}},
		{"extra without a token", call{method: "PUT", path: "/api/things/1", contentType: "application/json", body: `{"name":"a"}`,
			noToken: true, status: 200, answer: thing},
			[]string{"→ 200", "request", "no Bearer token"}},
		{"extra answer", call{method: "PUT", path: "/api/things/1", contentType: "application/json", body: `{"name":"a"}`,
			status: 200, answer: `{"id":1}`},
			[]string{"→ 200", "response", "body (Thing)", "/id"}},
		{"extra answer not an array", call{method: "GET", path: "/api/search", status: 200, answer: thing},
			[]string{"GET /api/search (search, not in the document) → 200", "body ([]Thing)"}},
		{"extra array item", call{method: "GET", path: "/api/search", status: 200, answer: `[` + thing + `,{"id":2}]`},
			[]string{"→ 200", "body ([]Thing)", "/1/id"}},
		{"extra wrapper without its member", call{method: "GET", path: "/api/shelves/1", status: 200, answer: `{"items":[]}`},
			[]string{"→ 200", "body (things: []Thing)", "things"}},
		{"extra wrapped item", call{method: "GET", path: "/api/shelves/1", status: 200, answer: `{"things":[{"id":"1","bogus":1}]}`},
			[]string{"→ 200", "/things/0", "bogus"}},
		{"extra marked unknown", call{method: "PUT", path: "/api/things/1", contentType: "application/json", body: `{"name":"a"}`,
			header: map[string]string{expectHeader: ExpectUnknownRoute}, status: 404, answer: notFound},
			[]string{"→ 404", "expected no operation", "rename, not in the document"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, catch := tc.call.run(t)
			catch.WantViolation(t, tc.want...)
		})
	}
}

// TestPassesConformingTraffic is the other side: none of these may be
// reported, and each is checked both ways.
func TestPassesConformingTraffic(t *testing.T) {
	ct, file := upload("file")
	for name, c := range map[string]call{
		"documented error":    {method: "GET", path: "/api/things/1", status: 404, answer: notFound},
		"allowed status":      {method: "GET", path: "/api/things/1", status: 503, answer: notFound, setup: func(v *Validator) { v.AllowStatus(503) }},
		"allowed success":     {method: "GET", path: "/api/things/1", status: 202, answer: "queued", setup: func(v *Validator) { v.AllowStatus(202) }},
		"allowed by config":   {method: "GET", path: "/api/things/1", status: 503, answer: notFound, cfg: func(c *Config) { c.Allowed = []int{503} }},
		"every error":         {method: "GET", path: "/api/things/1", status: 404, answer: notFound, cfg: everyError},
		"multipart array":     {method: "POST", path: "/api/things/1/files", contentType: ct, body: file, status: 200, answer: thing},
		"extra":               {method: "PUT", path: "/api/things/1", contentType: "application/json", body: `{"name":"a"}`, status: 200, answer: thing},
		"extra array":         {method: "GET", path: "/api/search", status: 200, answer: `[` + thing + `]`},
		"extra wrapper":       {method: "GET", path: "/api/shelves/1", status: 200, answer: `{"things":[` + thing + `],"more":true}`},
		"extra, other answer": {method: "PUT", path: "/api/things/1", contentType: "application/json", body: `{"name":"a"}`, status: 409, answer: "x"},
		"429 as the hook wants": {method: "GET", path: "/api/things/1", status: 429, answer: notFound,
			answerHeader: map[string]string{"Retry-After": "3"}, cfg: func(c *Config) { c.Allowed = []int{429} }},
	} {
		t.Run(name, func(t *testing.T) {
			v, catch := c.run(t)
			catch.WantClean(t)
			if v.Checked() != 2 {
				t.Errorf("Checked() = %d, want 2", v.Checked())
			}
		})
	}
}
