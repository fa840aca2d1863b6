package jiratest

import (
	"bytes"
	"encoding/base64"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/internal/oapitest"
)

// call describes one request and the canned answer to it.
type call struct {
	method, path string
	contentType  string
	body         string
	header       map[string]string
	noCreds      bool
	status       int
	answer       string
	answerHeader map[string]string
}

// serve sends c, with Basic credentials unless noCreds, through a fresh
// Validator reporting to an oapitest.Catch.
func serve(t *testing.T, c call, opts ...Option) (*Validator, *oapitest.Catch) {
	t.Helper()
	tb := &oapitest.Catch{TB: t}
	v := NewValidator(tb, opts...)
	header := map[string]string{}
	if !c.noCreds {
		header["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte("a@b.c:t"))
	}
	for k, x := range c.header {
		header[k] = x
	}
	oapitest.Call{Method: c.method, Path: c.path, ContentType: c.contentType, Body: c.body, Header: header,
		Status: c.status, Answer: c.answer, AnswerHeader: c.answerHeader}.Send(t, ExpectHeader, v.Wrap)
	return v, tb
}

const (
	noErrors    = `{"errorMessages":[],"errors":{}}`
	serverInfo  = `{"serverTitle":"x","serverTime":"2026-01-01T00:00:00.000+0000"}`
	upload      = "/rest/api/3/issue/KAN-1/attachments"
	attachments = `[{"id":"10000","filename":"a.txt","size":1}]`
)

// multipartBody builds an upload whose one part is named field.
func multipartBody(t *testing.T, field string) (contentType, body string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte("x"))
	mw.Close()
	return mw.FormDataContentType(), buf.String()
}

// TestCatchesViolations shows the contract check can fail, on either side
// of the exchange, and names the operation, status and violation.
func TestCatchesViolations(t *testing.T) {
	ct, file := multipartBody(t, "file")
	badCT, notFile := multipartBody(t, "upload")
	token := map[string]string{"X-Atlassian-Token": "no-check"}
	for name, c := range map[string]struct {
		call
		want []string
	}{
		"wrong type": {call{method: "GET", path: "/rest/api/3/myself", status: 200, answer: `{"accountId":5}`},
			[]string{"GET /rest/api/3/myself (getCurrentUser) → 200", "response", "/accountId"}},
		"unknown member": {call{method: "GET", path: "/rest/api/3/serverInfo", status: 200, answer: `{"serverTitle":"x","bogus":1}`},
			[]string{"→ 200", "bogus"}},
		"RFC 1123 timestamp": {call{method: "GET", path: "/rest/api/3/serverInfo", status: 200, answer: `{"serverTime":"Mon, 02 Jan 2006 15:04:05 MST"}`},
			[]string{"/serverTime", "regular expression"}},
		"bad error body": {call{method: "GET", path: "/rest/api/3/myself", status: 401, answer: `{"message":"nope"}`},
			[]string{"→ 401", "ErrorCollection"}},
		"undocumented status": {call{method: "GET", path: "/rest/api/3/myself", status: 418, answer: noErrors},
			[]string{"→ 418", "status 418 is not documented"}},
		"bare 429": {call{method: "GET", path: "/rest/api/3/myself", status: 429, answer: noErrors},
			[]string{"→ 429", "Retry-After", "RateLimit-Reason"}},
		"no credentials": {call{method: "GET", path: "/rest/api/3/myself", noCreds: true, status: 200, answer: `{"accountId":"a"}`},
			[]string{"→ 200", "request", "no Basic credentials"}},
		"bad query parameter": {call{method: "GET", path: "/rest/api/3/search/jql?jql=project%3DKAN&maxResults=many", status: 200, answer: `{"issues":[],"isLast":true}`},
			[]string{"→ 200", `parameter "maxResults" in query`}},
		"bad request body": {call{method: "POST", path: "/rest/api/3/issue", contentType: "application/json", body: `{"fields":[]}`,
			status: 201, answer: `{"id":"10000","key":"KAN-1","self":"http://h/rest/api/3/issue/10000"}`},
			[]string{"POST /rest/api/3/issue (createIssue) → 201", "request body", "/fields"}},
		"upload without XSRF token": {call{method: "POST", path: upload, contentType: ct, body: file, status: 200, answer: attachments},
			[]string{"POST " + upload + " (addAttachment) → 200", "X-Atlassian-Token"}},
		"upload without a file part": {call{method: "POST", path: upload, contentType: badCT, body: notFile, header: token, status: 200, answer: attachments},
			[]string{"→ 200", "no multipart part named file"}},
		"comment edit body": {call{method: "PUT", path: "/rest/api/3/issue/KAN-1/comment/10000", contentType: "application/json", body: `{"body":{"type":"doc","version":1,"content":[]},"properties":"x"}`,
			status: 200, answer: `{"id":"10000"}`},
			[]string{"PUT", "→ 200", "Comment", "/properties"}},
		"comment edit answer": {call{method: "PUT", path: "/rest/api/3/issue/KAN-1/comment/10000", contentType: "application/json", body: `{"body":{"type":"doc","version":1,"content":[]}}`,
			status: 200, answer: `{"id":10000}`},
			[]string{"→ 200", "response", "Comment", "/id"}},
		"transitions answer": {call{method: "GET", path: "/rest/api/3/issue/KAN-1/transitions", status: 200, answer: `{"transitions":[{"id":11,"to":{"name":"Done"}}]}`},
			[]string{"GET /rest/api/3/issue/KAN-1/transitions (getTransitions, not in the subset) → 200", "transitions: []IssueTransition", "/transitions/0/id"}},
		"transitions without the list": {call{method: "GET", path: "/rest/api/3/issue/KAN-1/transitions", status: 200, answer: `[{"id":"11"}]`},
			[]string{"→ 200", "transitions: []IssueTransition"}},
		"transition body": {call{method: "POST", path: "/rest/api/3/issue/KAN-1/transitions", contentType: "application/json", body: `{"transition":"21"}`, status: 204},
			[]string{"(doTransition, not in the subset) → 204", "IssueUpdateDetails", "/transition"}},
		"user search answer": {call{method: "GET", path: "/rest/api/3/user/search?query=a%40b.c", status: 200, answer: `[{"accountId":"a","emailAddress":"a@b.c","nickname":"x"}]`},
			[]string{"(findUsers, not in the subset) → 200", "[]User", "nickname"}},
		"user search not a list": {call{method: "GET", path: "/rest/api/3/user/search?query=a", status: 200, answer: `{"accountId":"a"}`},
			[]string{"→ 200", "[]User"}},
		"user search error": {call{method: "GET", path: "/rest/api/3/user/search", status: 400, answer: `{"message":"no query"}`},
			[]string{"→ 400", "ErrorCollection"}},
		"unknown operation": {call{method: "DELETE", path: "/rest/api/3/myself", status: 404, answer: noErrors},
			[]string{"DELETE /rest/api/3/myself → 404", "not in the Jira OpenAPI document"}},
		"conforming request marked invalid": {call{method: "GET", path: "/rest/api/3/project/search", header: map[string]string{ExpectHeader: ExpectInvalidRequest}, status: 400, answer: noErrors},
			[]string{"→ 400", "expected not to"}},
		"known route marked unknown": {call{method: "GET", path: "/rest/api/3/project/search", header: map[string]string{ExpectHeader: ExpectUnknownRoute}, status: 404, answer: noErrors},
			[]string{"→ 404", "expected no operation"}},
		"unknown route with a bad body": {call{method: "GET", path: "/rest/api/3/nothing", header: map[string]string{ExpectHeader: ExpectUnknownRoute}, status: 404, answer: `{"errors":"x"}`},
			[]string{"→ 404", "ErrorCollection", "/errors"}},
		"unknown expectation": {call{method: "GET", path: "/rest/api/3/myself", header: map[string]string{ExpectHeader: "maybe"}, status: 200, answer: `{"accountId":"a"}`},
			[]string{ExpectHeader, `unknown value "maybe"`}},
		"expectation outside the API": {call{method: "GET", path: "/browse/KAN-1", header: map[string]string{ExpectHeader: ExpectInvalidRequest}, status: 200, answer: "page"},
			[]string{"outside /rest/api/3"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, tb := serve(t, c.call)
			tb.WantViolation(t, c.want...)
		})
	}
}

// TestPassesConformingTraffic covers the known exceptions: each exchange
// here is what real Jira does, and none may be reported.
func TestPassesConformingTraffic(t *testing.T) {
	ct, file := multipartBody(t, "file")
	rate := map[string]string{"Retry-After": "3", "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset": "2026-01-01T00:00Z", "RateLimit-Reason": "jira-quota-tenant-based"}
	for name, c := range map[string]call{
		"Jira timestamp":    {method: "GET", path: "/rest/api/3/serverInfo", status: 200, answer: serverInfo},
		"null description":  {method: "GET", path: "/rest/api/3/issue/KAN-1?fields=description", status: 200, answer: `{"id":"10000","key":"KAN-1","fields":{"description":null}}`},
		"multipart upload":  {method: "POST", path: upload, contentType: ct, body: file, header: map[string]string{"X-Atlassian-Token": "no-check"}, status: 200, answer: attachments},
		"comment edit":      {method: "PUT", path: "/rest/api/3/issue/KAN-1/comment/10000", contentType: "application/json", body: `{"body":{"type":"doc","version":1,"content":[]}}`, status: 200, answer: `{"id":"10000","created":"2026-01-01T00:00:00.000+0100"}`},
		"transitions":       {method: "GET", path: "/rest/api/3/issue/KAN-1/transitions", status: 200, answer: `{"expand":"transitions","transitions":[{"id":"21","name":"In Progress","to":{"id":"3","name":"In Progress","statusCategory":{"id":4,"key":"indeterminate"}},"isGlobal":true,"isLooped":false}]}`},
		"transition":        {method: "POST", path: "/rest/api/3/issue/KAN-1/transitions", contentType: "application/json", body: `{"transition":{"id":"21"}}`, status: 204},
		"user search":       {method: "GET", path: "/rest/api/3/user/search?query=a%40b.c", status: 200, answer: `[{"accountId":"a","accountType":"atlassian","emailAddress":"a@b.c","displayName":"A","active":true}]`},
		"gateway 429":       {method: "GET", path: "/rest/api/3/myself", status: 429, answer: noErrors, answerHeader: rate},
		"rejected request":  {method: "GET", path: "/rest/api/3/myself", noCreds: true, status: 401, answer: noErrors},
		"marked invalid":    {method: "GET", path: "/rest/api/3/myself", noCreds: true, header: map[string]string{ExpectHeader: ExpectInvalidRequest}, status: 200, answer: `{"accountId":"a"}`},
		"marked unknown":    {method: "GET", path: "/rest/api/3/nothing", header: map[string]string{ExpectHeader: ExpectUnknownRoute}, status: 404, answer: noErrors},
		"outside the API":   {method: "GET", path: "/media/file/1", status: 200, answer: "bytes"},
		"undocumented 503":  {method: "GET", path: "/rest/api/3/myself", status: 503, answer: noErrors},
		"no content answer": {method: "PUT", path: "/rest/api/3/issue/KAN-1", contentType: "application/json", body: `{"fields":{"summary":"s"}}`, status: 204},
	} {
		t.Run(name, func(t *testing.T) {
			v, tb := serve(t, c)
			tb.WantClean(t)
			want := 2
			if strings.HasPrefix(c.path, "/media/") {
				want = 0
			}
			if v.Checked() != want {
				t.Errorf("Checked() = %d, want %d", v.Checked(), want)
			}
		})
	}
}

// TestAllowStatus lets a test's own undocumented status through, still
// holding its body to the ErrorCollection rule.
func TestAllowStatus(t *testing.T) {
	_, tb := serve(t, call{method: "GET", path: "/rest/api/3/myself", status: 418, answer: noErrors}, AllowStatus(418))
	tb.WantClean(t)
	_, tb = serve(t, call{method: "GET", path: "/rest/api/3/myself", status: 418, answer: `{"errors":["x"]}`}, AllowStatus(418))
	tb.WantViolation(t, "→ 418", "ErrorCollection")
}
