// Package asanatest checks HTTP traffic against Asana's official OpenAPI
// document (the subset in testdata/asana/openapi-subset.yaml). Tests wrap a
// handler, usually the sandbox, with Validator.Wrap; every request under
// /api/1.0 and every response to it is validated with kin-openapi, and each
// violation fails the test through t.Errorf.
//
// It is a test-support package: only tests should import it.
package asanatest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// DefaultMaxBody is the largest request or response body that is buffered
// and validated. Attachment uploads reach 100 MB; buffering those in every
// test would cost more than it finds, so larger bodies are passed through
// and only their method, path, query, headers and status are checked.
const DefaultMaxBody = 8 << 20

// Validator checks requests and responses against the Asana OpenAPI subset.
// It is safe for concurrent use by many handlers.
type Validator struct {
	spec    *spec
	maxBody int64
	allowed map[int]bool

	mu      sync.Mutex // serialises counting with reporting
	checked int
}

// Option adjusts a Validator.
type Option func(*Validator)

// AllowStatus lets responses with these status codes through unvalidated.
// Every status the handler sends must otherwise be documented for its
// operation; the document lists 200/201, 400, 401, 403, 404, 429 and 500
// (412 on events), while Asana also sends 402, 451 and 503, and a sandbox
// injecting faults may too.
func AllowStatus(codes ...int) Option {
	return func(v *Validator) {
		for _, c := range codes {
			v.allowed[c] = true
		}
	}
}

// NewValidator loads the document; it fails t (t.Fatal) if it can't. The
// parsed document is shared by every Validator in the process.
func NewValidator(t testing.TB, opts ...Option) *Validator {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
		return nil
	}
	v := &Validator{spec: s, maxBody: DefaultMaxBody, allowed: map[int]bool{}}
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

// Wrap returns an http.Handler that validates every request under /api/1.0
// before passing it to next, and every response after. Each violation is
// reported with t.Errorf naming method, path, status and the violation;
// t.Errorf is safe from handler goroutines, t.Fatal would not be and is never
// called here. Requests outside /api/1.0 (a sandbox's download URLs) pass
// through unchecked. An operation the document lacks is itself a violation.
//
// A request that breaks the document is not reported when the handler
// answers it with a 4xx status: rejecting bad input is the handler's job,
// and tests of that rejection must be able to send it. The 4xx response is
// still validated. A response cut off by hijacking the connection, or by
// panicking with http.ErrAbortHandler, has nothing to validate.
//
// Wrap must be used only while t is running: close the server before the
// test ends so no handler reports on a finished test.
func (v *Validator) Wrap(t testing.TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != apiPrefix && !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
			next.ServeHTTP(w, r)
			return
		}
		ex := v.checkRequest(t, r)
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
				v.report(t, r, "aborted", ex.requestViolation())
			}
		}()
		next.ServeHTTP(rec, r)
		returned = true
		if rec.status == 0 && rec.body.Len() == 0 && (r.Context().Err() != nil || body.failed) {
			// The client went away (cancelled, or cut its upload short)
			// and the handler rightly answered nobody: nothing to check.
			return
		}
		v.finish(t, r, ex, rec)
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
	unknown error // the operation is not in the document
	invalid error // the request does not conform
	input   *openapi3filter.RequestValidationInput
}

func (ex *exchange) requestViolation() string {
	switch {
	case ex.unknown != nil:
		return ex.unknown.Error()
	case ex.invalid != nil:
		return "request: " + describe(ex.invalid)
	}
	return ""
}

// checkRequest validates r against the document. It reads at most maxBody
// bytes of the body and puts them back, so next sees the body unchanged.
func (v *Validator) checkRequest(t testing.TB, r *http.Request) *exchange {
	ex := &exchange{}
	defer v.count()

	probe := r.Clone(context.WithoutCancel(r.Context()))
	probe.Body = http.NoBody
	route, params, err := v.spec.router.FindRoute(probe)
	if err != nil {
		ex.unknown = unknownOperation(r, err)
		return ex
	}

	opts := v.options()
	body, complete := v.bufferBody(r)
	if complete {
		probe.Body = io.NopCloser(bytes.NewReader(body))
		probe.ContentLength = int64(len(body))
		probe.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	} else {
		// kin-openapi reads the whole body even for security checks, so the
		// probe gets none and the body is left out of validation.
		opts.ExcludeRequestBody = true
		t.Logf("asanatest: %s %s: request body over %d bytes passed through; only method, path, query and headers checked",
			r.Method, r.URL.RequestURI(), v.maxBody)
	}
	ex.input = &openapi3filter.RequestValidationInput{
		Request:    probe,
		PathParams: params,
		Route:      route,
		Options:    opts,
	}
	ex.invalid = openapi3filter.ValidateRequest(probe.Context(), ex.input)
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
		// The sandbox checks tokens itself; the document only says which
		// schemes exist.
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
		SkipSettingDefaults:   true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			// date and date-time are checked by default; email is defined
			// by kin-openapi but only checked when asked.
			openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
		},
	}
	opts.WithCustomSchemaErrorFunc(schemaMessage)
	return opts
}

// finish validates the recorded response and reports what was found.
func (v *Validator) finish(t testing.TB, r *http.Request, ex *exchange, rec *recorder) {
	if rec.hijacked {
		v.report(t, r, "hijacked", ex.requestViolation())
		return
	}
	status := rec.statusCode()
	label := fmt.Sprint(status)
	if ex.unknown != nil {
		v.report(t, r, label, ex.unknown.Error())
		return
	}
	if ex.invalid != nil && (status < 400 || status > 499) {
		v.report(t, r, label, "request: "+describe(ex.invalid))
	}
	if v.allowed[status] {
		return
	}
	opts := *ex.input.Options
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: ex.input,
		Status:                 status,
		Header:                 rec.sentHeader(),
		Options:                &opts,
	}
	if rec.overflow {
		opts.ExcludeResponseBody = true
		t.Logf("asanatest: %s %s: response body over %d bytes not validated", r.Method, r.URL.RequestURI(), v.maxBody)
	} else {
		in.SetBodyBytes(rec.body.Bytes())
	}
	err := openapi3filter.ValidateResponse(context.Background(), in)
	v.count()
	if err != nil {
		v.report(t, r, label, "response: "+describe(err))
	}
}

func (v *Validator) count() {
	v.mu.Lock()
	v.checked++
	v.mu.Unlock()
}

func (v *Validator) report(t testing.TB, r *http.Request, status, violation string) {
	if violation == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	t.Errorf("asanatest: %s %s → %s: %s", r.Method, r.URL.RequestURI(), status, violation)
}

func unknownOperation(r *http.Request, err error) error {
	switch err {
	case routers.ErrMethodNotAllowed:
		return fmt.Errorf("operation not in the Asana OpenAPI document: %s is not defined for %s", r.Method, r.URL.Path)
	case routers.ErrPathNotFound:
		return fmt.Errorf("operation not in the Asana OpenAPI document: no path matches %s", r.URL.Path)
	}
	return fmt.Errorf("operation not in the Asana OpenAPI document: %w", err)
}
