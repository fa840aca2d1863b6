// Package asanatest checks HTTP traffic against Asana's API contract: the
// official OpenAPI document (the subset in testdata/asana/openapi-subset.yaml)
// and the rules Asana documents beside it. Tests wrap a handler, usually the
// sandbox, with Validator.Wrap; every request under /api/1.0 and every
// response to it is checked, and each violation fails the test through
// t.Errorf. Client tests and sandbox tests share it, so both hold the
// sandbox to the same contract.
//
// Requests and responses are validated with kin-openapi, string formats
// date, date-time, email and uri included. A request must carry a Bearer
// token (whether it is the right one is the handler's business). Beyond the
// schemas, every response must follow these rules:
//   - 429 carries Retry-After in whole seconds, at least 1;
//   - 201 carries a Location under /api/1.0/;
//   - 401 has exactly the body {"errors":[{"message":"Not Authorized"}]};
//   - a status its operation does not document is a violation, unless the
//     Validator was made with AllowStatus for it; an allowed error status
//     must still answer a JSON ErrorResponse, as Asana's 503s do.
//
// # Breaking the contract on purpose
//
// A request that breaks the document is not reported when the handler
// answers it with a 4xx status: rejecting bad input is the handler's job.
// A test that sends such a request should say so with the ExpectHeader
// request header, which Wrap reads and removes before the handler sees the
// request, and which makes the breach part of what is checked:
//   - ExpectInvalidRequest: the request must break the document; if it
//     conforms, that is the violation reported. Whatever the status, the
//     request itself is not reported.
//   - ExpectUnknownRoute: the method and path must not be an operation of
//     the document (tests of the 404 answer); the answer must be a JSON
//     ErrorResponse.
//   - ExpectStreamedBody: the body may stall until the handler answers (a
//     test holding requests in flight), so Wrap does not wait for it and
//     leaves it out of validation.
//
// Without ExpectUnknownRoute, a path under /api/1.0 that is not an
// operation of the document is a violation.
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

// AllowStatus lets an operation answer with these status codes though the
// document does not list them for it. Every status the handler sends must
// otherwise be documented for its operation; the document lists 200/201,
// 400, 401, 403, 404, 429 and 500 (412 on events), while Asana also sends
// 402, 451 and 503, and a sandbox injecting faults may too. An allowed
// error status (400 and up) must still carry a JSON ErrorResponse; other
// allowed statuses pass unchecked. A status the operation documents is
// validated against the document, allowed or not.
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
// and tests of that rejection must be able to send it (ExpectHeader lets
// them assert the breach). The 4xx response is still validated. A response
// cut off by hijacking the connection, or by panicking with
// http.ErrAbortHandler, has nothing to validate.
//
// Wrap must be used only while t is running: close the server before the
// test ends so no handler reports on a finished test.
func (v *Validator) Wrap(t testing.TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expect := takeExpectations(r)
		if r.URL.Path != apiPrefix && !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
			if expect.set() {
				v.report(t, r, "unchecked", ExpectHeader+" on a path outside "+apiPrefix+", where nothing is checked")
			}
			next.ServeHTTP(w, r)
			return
		}
		ex := v.checkRequest(t, r, expect)
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
				v.report(t, r, "aborted", ex.requestViolation(0))
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
	expect  expectations
	unknown error // the operation is not in the document
	invalid error // the request does not conform
	input   *openapi3filter.RequestValidationInput
}

// checkRequest validates r against the document. It reads at most maxBody
// bytes of the body (none for a streamed body) and puts them back, so next
// sees the body unchanged.
func (v *Validator) checkRequest(t testing.TB, r *http.Request, expect expectations) *exchange {
	ex := &exchange{expect: expect}
	defer v.count()

	probe := r.Clone(context.WithoutCancel(r.Context()))
	probe.Body = http.NoBody
	route, params, err := v.spec.router.FindRoute(probe)
	if err != nil {
		ex.unknown = unknownOperation(r, err)
		return ex
	}

	opts := v.options()
	var body []byte
	complete := false
	if !expect.streamedBody {
		body, complete = v.bufferBody(r)
	}
	if complete {
		probe.Body = io.NopCloser(bytes.NewReader(body))
		probe.ContentLength = int64(len(body))
		probe.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	} else {
		// kin-openapi reads the whole body even for security checks, so the
		// probe gets none and the body is left out of validation.
		opts.ExcludeRequestBody = true
		if !expect.streamedBody {
			t.Logf("asanatest: %s %s: request body over %d bytes passed through; only method, path, query and headers checked",
				r.Method, r.URL.RequestURI(), v.maxBody)
		}
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
		AuthenticationFunc:      bearerPresent,
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
