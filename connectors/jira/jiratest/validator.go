// Package jiratest checks HTTP traffic against Jira Cloud's REST API v3
// contract: the official OpenAPI document (the subset in
// testdata/jira/openapi-subset.json) and the rules Jira documents beside
// it. Tests wrap a handler, usually the sandbox, with Validator.Wrap; every
// request under /rest/api/3 and every answer to it is checked, and each
// violation fails the test through t.Errorf with the method, path, status
// and what is wrong. Client tests and sandbox tests share it, so the
// client's requests and the sandbox's answers are held to the same
// document.
//
// Requests and responses are validated with kin-openapi. A request must
// carry Basic credentials (whether they are right is the handler's
// business). Beyond the schemas:
//   - an attachment upload carries X-Atlassian-Token: no-check, as the
//     operation's description requires, and at least one part named file;
//   - every error status (400 and up) answers a JSON ErrorCollection;
//   - 429 carries Retry-After in whole seconds (at least 1),
//     X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset and
//     RateLimit-Reason;
//   - a status its operation does not document is a violation, unless it
//     is 429, 500 or 503 (Jira's gateway answers those to any operation)
//     or the Validator was made with AllowStatus for it.
//
// # Known exceptions
//
// Where the document and the real API disagree, the real API wins, in
// these places only:
//   - Editing a comment (PUT /rest/api/3/issue/{k}/comment/{id}) is an
//     operation of the real API the subset lacks: its request body and its
//     200 answer are checked against the subset's Comment schema only.
//   - date-time: Jira's timestamps ("2006-01-02T15:04:05.000+0000", no
//     colon in the offset) are accepted beside RFC 3339.
//   - Untyped nullable: a schema with no type (IssueBean.fields' values)
//     accepts null, as OpenAPI 3.0.3 reads it and real Jira sends it
//     ("description": null); kin-openapi alone would reject it.
//   - Multipart array bodies: kin-openapi can't decode a multipart body
//     whose schema is an array (the attachment upload), so that body is
//     checked for parts named file instead of against the schema.
//
// # Breaking the contract on purpose
//
// A request that breaks the document is not reported when the handler
// answers it with a 4xx status: rejecting bad input is the handler's job.
// A test that sends such a request should say so with the ExpectHeader
// request header, which Wrap reads and removes before the handler sees
// the request, and which makes the breach part of what is checked (see
// ExpectInvalidRequest and ExpectUnknownRoute). Without
// ExpectUnknownRoute, a path under /rest/api/3 that is not an operation of
// the document is a violation.
//
// It is a test-support package: only tests should import it.
package jiratest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// DefaultMaxBody is the largest request or response body that is buffered
// and validated. Larger bodies (big attachments) are passed through, and
// only their method, path, query, headers and status are checked.
const DefaultMaxBody = 8 << 20

// commentEdit is the operation the real API has and the subset lacks.
var commentEdit = regexp.MustCompile(`^/rest/api/3/issue/[^/]+/comment/[^/]+$`)

// Validator checks requests and responses against the Jira OpenAPI subset.
// It is safe for concurrent use by many handlers.
type Validator struct {
	t       testing.TB
	spec    *spec
	maxBody int64
	allowed map[int]bool

	mu      sync.Mutex // serialises counting with reporting
	checked int
}

// Option adjusts a Validator.
type Option func(*Validator)

// AllowStatus lets any operation answer with these status codes though the
// document does not list them for it (429, 500 and 503 always are). An
// allowed error status must still carry a JSON ErrorCollection. A status
// the operation documents is validated against the document, allowed or
// not.
func AllowStatus(codes ...int) Option {
	return func(v *Validator) {
		for _, c := range codes {
			v.allowed[c] = true
		}
	}
}

// NewValidator loads the document; it fails t (t.Fatal) if it can't.
// Violations are reported to t. The parsed document is shared by every
// Validator in the process.
func NewValidator(t testing.TB, opts ...Option) *Validator {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
		return nil
	}
	v := &Validator{t: t, spec: s, maxBody: DefaultMaxBody, allowed: map[int]bool{
		http.StatusTooManyRequests: true, http.StatusInternalServerError: true, http.StatusServiceUnavailable: true,
	}}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Checked returns how many requests and responses were validated, so a test
// can assert validation really ran. A response counts once the handler has
// returned; close the server (httptest.Server.Close waits for handlers)
// before asserting on the count.
func (v *Validator) Checked() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.checked
}

// Wrap returns an http.Handler that validates every request under
// /rest/api/3 before passing it to next, and every response after. Each
// violation is reported with t.Errorf, which is safe from handler
// goroutines; t.Fatal would not be and is never called here. Requests
// outside /rest/api/3 (the sandbox's web pages and media URLs) pass
// through unchecked. A response cut off by hijacking the connection, or
// by panicking with http.ErrAbortHandler, has nothing to validate.
//
// Wrap must be used only while t is running: close the server before the
// test ends so no handler reports on a finished test.
func (v *Validator) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expect := takeExpectations(r)
		if r.URL.Path != apiPrefix && !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
			if expect.set() {
				v.report(r, "", "unchecked", ExpectHeader+" on a path outside "+apiPrefix+", where nothing is checked")
			}
			next.ServeHTTP(w, r)
			return
		}
		ex := v.checkRequest(r, expect)
		body := &bodyWatch{ReadCloser: r.Body}
		if r.Body != nil {
			r.Body = body
		}
		rec := &recorder{w: w, limit: v.maxBody}
		returned := false
		defer func() {
			if !returned {
				// next panicked (http.ErrAbortHandler cuts a connection on
				// purpose); report what is known and let the panic go on.
				v.report(r, ex.op, "aborted", ex.requestViolation(0))
			}
		}()
		next.ServeHTTP(rec, r)
		returned = true
		if rec.status == 0 && rec.body.Len() == 0 && (r.Context().Err() != nil || body.failed) {
			// The client went away (cancelled, or cut its upload short)
			// and the handler rightly answered nobody: nothing to check.
			return
		}
		v.finish(r, ex, rec)
	})
}

// bodyWatch notes whether reading the request body failed, which is how a
// handler learns that the client cut its request short.
type bodyWatch struct {
	io.ReadCloser
	failed bool
}

func (b *bodyWatch) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.failed = true
	}
	return n, err
}

// exchange carries what request validation learnt to response validation.
type exchange struct {
	expect  expectations
	op      string   // the document's operationId, if the request has one
	edit    bool     // a comment edit, checked against the Comment schema
	unknown error    // the operation is not in the document
	invalid []string // how the request breaks the contract
	input   *openapi3filter.RequestValidationInput
}

// checkRequest validates r against the document. It reads at most maxBody
// bytes of the body and puts them back, so next sees the body unchanged.
func (v *Validator) checkRequest(r *http.Request, expect expectations) *exchange {
	ex := &exchange{expect: expect}
	defer v.count()

	body, complete := v.bufferBody(r)
	probe := r.Clone(context.WithoutCancel(r.Context()))
	probe.Body = http.NoBody
	if complete {
		probe.Body = io.NopCloser(bytes.NewReader(body))
		probe.ContentLength = int64(len(body))
		probe.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	} else {
		v.t.Logf("jiratest: %s %s: request body over %d bytes passed through; only method, path, query and headers checked",
			r.Method, r.URL.RequestURI(), v.maxBody)
	}

	if r.Method == http.MethodPut && commentEdit.MatchString(r.URL.Path) {
		ex.edit = true
		ex.op = "comment edit, not in the subset"
		if _, _, ok := r.BasicAuth(); !ok {
			ex.invalid = append(ex.invalid, "no Basic credentials")
		}
		if complete {
			if err := v.checkSchema("Comment", body); err != nil {
				ex.invalid = append(ex.invalid, "request body (Comment) "+describe(err))
			}
		}
		return ex
	}
	route, params, err := v.spec.router.FindRoute(probe)
	if err != nil {
		ex.unknown = unknownOperation(r, err)
		return ex
	}
	ex.op = route.Operation.OperationID
	opts := v.options()
	if !complete {
		opts.ExcludeRequestBody = true
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		// kin-openapi can't decode a multipart body whose schema is an
		// array (the attachment upload); the document's point, parts
		// named file, is checked here instead.
		opts.ExcludeRequestBody = true
		if complete {
			if err := fileParts(r.Header.Get("Content-Type"), body); err != nil {
				ex.invalid = append(ex.invalid, "request body "+err.Error())
			}
		}
	}
	if strings.HasSuffix(route.Path, "/attachments") && r.Method == http.MethodPost &&
		!strings.EqualFold(r.Header.Get("X-Atlassian-Token"), "no-check") {
		ex.invalid = append(ex.invalid, fmt.Sprintf("X-Atlassian-Token is %q, want no-check (the upload is blocked without it)",
			r.Header.Get("X-Atlassian-Token")))
	}
	ex.input = &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(probe.Context(), ex.input); err != nil {
		ex.invalid = append(ex.invalid, describe(err))
	}
	return ex
}

// bufferBody reads up to maxBody bytes of r.Body and replaces r.Body with a
// reader that yields the same bytes. complete is false when the body was
// larger (or failed to read) and so was not captured whole.
func (v *Validator) bufferBody(r *http.Request) (body []byte, complete bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	if r.ContentLength > v.maxBody {
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, v.maxBody+1))
	if err == nil && int64(len(body)) <= v.maxBody {
		r.Body = io.NopCloser(bytes.NewReader(body))
		return body, true
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	return nil, false
}

func (v *Validator) options() *openapi3filter.Options {
	opts := &openapi3filter.Options{
		AuthenticationFunc:      basicPresent,
		IncludeResponseStatus:   true,
		MultiError:              true,
		SkipSettingDefaults:     true,
		SchemaValidationOptions: schemaOptions(),
	}
	opts.WithCustomSchemaErrorFunc(schemaMessage)
	return opts
}

func (v *Validator) count() {
	v.mu.Lock()
	v.checked++
	v.mu.Unlock()
}

// report fails the test with one line naming the request, the document's
// operation (when it has one), the status and the violation.
func (v *Validator) report(r *http.Request, op, status, violation string) {
	if violation == "" {
		return
	}
	if op != "" {
		op = " (" + op + ")"
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.t.Errorf("jiratest: %s %s%s → %s: %s", r.Method, r.URL.RequestURI(), op, status, violation)
}

func unknownOperation(r *http.Request, err error) error {
	switch err {
	case routers.ErrMethodNotAllowed:
		return fmt.Errorf("operation not in the Jira OpenAPI document: %s is not defined for %s", r.Method, r.URL.Path)
	case routers.ErrPathNotFound:
		return fmt.Errorf("operation not in the Jira OpenAPI document: no path matches %s", r.URL.Path)
	}
	return fmt.Errorf("operation not in the Jira OpenAPI document: %w", err)
}
