package oapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
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

// Validator checks requests and responses against a Contract. It is safe
// for concurrent use by many handlers.
type Validator struct {
	c       *Contract
	maxBody int64
	allowed map[int]bool

	mu      sync.Mutex // serialises counting with reporting
	checked int
}

// NewValidator returns a Validator for the Contract load returns (a
// tracker package's once-per-process loader); it fails t (t.Fatal) if
// there is none. The Validator allows the statuses of the contract's
// Config.Allowed and buffers bodies up to DefaultMaxBody.
func NewValidator(t testing.TB, load func() (*Contract, error)) *Validator {
	t.Helper()
	c, err := load()
	if err != nil {
		t.Fatal(err)
		return nil
	}
	v := &Validator{c: c, maxBody: DefaultMaxBody, allowed: map[int]bool{}}
	v.AllowStatus(c.cfg.Allowed...)
	return v
}

// Apply runs each of a tracker's options on v, in order, and returns v:
// the tail of every tracker's NewValidator.
func Apply[V any, O ~func(V)](v V, opts []O) V {
	for _, o := range opts {
		o(v)
	}
	return v
}

// AllowStatus lets any operation answer with these status codes though the
// document does not list them for it. An allowed error status (400 and up)
// must still carry the contract's error body; other allowed statuses pass
// unchecked. A status the operation documents is validated against the
// document, allowed or not. Call it before Wrap serves.
func (v *Validator) AllowStatus(codes ...int) {
	for _, code := range codes {
		v.allowed[code] = true
	}
}

// SetMaxBody changes how large a body is buffered and validated (see
// DefaultMaxBody). Call it before Wrap serves.
func (v *Validator) SetMaxBody(n int64) { v.maxBody = n }

// Checked returns how many requests and responses were validated, so a test
// can assert validation really ran. A response counts once the handler has
// returned; close the server (httptest.Server.Close waits for handlers)
// before asserting on the count.
func (v *Validator) Checked() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.checked
}

// Wrap returns an http.Handler that validates every request under the
// contract's prefix before passing it to next, and every response after.
// Each violation is reported with t.Errorf naming method, path, the
// document's operation, status and the violation; t.Errorf is safe from
// handler goroutines, t.Fatal would not be and is never called here.
// Requests outside the prefix (a sandbox's web pages and downloads) pass
// through unchecked. An operation the document lacks, and the contract
// does not list as an Extra, is itself a violation.
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
	cfg := &v.c.cfg
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expect := v.c.takeExpectations(r)
		if r.URL.Path != cfg.Prefix && !strings.HasPrefix(r.URL.Path, cfg.Prefix+"/") {
			if expect.set() {
				v.report(t, r, "", "unchecked", cfg.ExpectHeader+" on a path outside "+cfg.Prefix+", where nothing is checked")
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
				v.report(t, r, ex.op, "aborted", ex.requestViolation(cfg.ExpectHeader, 0))
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
	op      string   // the document's operationId, or the Extra's name
	extra   *Extra   // the request is to an Extra operation
	unknown error    // the operation is not in the document
	invalid []string // how the request breaks the contract
	input   *openapi3filter.RequestValidationInput
}

// checkRequest validates r against the document. It reads at most maxBody
// bytes of the body (none for a streamed body) and puts them back, so next
// sees the body unchanged.
func (v *Validator) checkRequest(t testing.TB, r *http.Request, expect expectations) *exchange {
	ex := &exchange{expect: expect}
	defer v.count()

	var body []byte
	complete := false
	if !expect.streamedBody {
		if body, complete = v.bufferBody(r); !complete {
			t.Logf("%s: %s %s: request body over %d bytes passed through; only method, path, query and headers checked",
				v.c.cfg.Name, r.Method, r.URL.RequestURI(), v.maxBody)
		}
	}
	probe := r.Clone(context.WithoutCancel(r.Context()))
	probe.Body = http.NoBody
	if complete {
		probe.Body = io.NopCloser(bytes.NewReader(body))
		probe.ContentLength = int64(len(body))
		probe.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}

	if ex.extra = v.c.extra(r); ex.extra != nil {
		ex.op = ex.extra.Name
		ex.invalid = v.checkExtra(ex.extra, probe, body, complete)
		return ex
	}
	route, params, err := v.c.router.FindRoute(probe)
	if err != nil {
		ex.unknown = v.c.unknownOperation(r, err)
		return ex
	}
	ex.op = route.Operation.OperationID
	opts := v.options()
	// kin-openapi reads the whole body even for security checks, so an
	// incomplete body is left out of validation.
	opts.ExcludeRequestBody = !complete || multipartArray(route, r.Header.Get("Content-Type"))
	if hook := v.c.cfg.Request; hook != nil {
		ex.invalid = append(ex.invalid, hook(r, route, body, complete)...)
	}
	ex.input = &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(probe.Context(), ex.input); err != nil {
		ex.invalid = append(ex.invalid, describe(err))
	}
	return ex
}

// multipartArray says whether the request has a multipart body whose
// schema is an array, which kin-openapi can't decode: such a body is left
// to the contract's Request hook.
func multipartArray(route *routers.Route, contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	rb := route.Operation.RequestBody
	if mt != "multipart/form-data" || rb == nil || rb.Value == nil {
		return false
	}
	media := rb.Value.Content.Get(mt)
	return media != nil && media.Schema != nil && media.Schema.Value != nil && media.Schema.Value.Type.Is("array")
}

// extra returns the Extra operation r is to, if any.
func (c *Contract) extra(r *http.Request) *Extra {
	for i := range c.cfg.Extras {
		if e := &c.cfg.Extras[i]; r.Method == e.Method && e.Path.MatchString(r.URL.Path) {
			return e
		}
	}
	return nil
}

// checkExtra holds a request to an Extra to what the contract knows of it.
func (v *Validator) checkExtra(e *Extra, probe *http.Request, body []byte, complete bool) []string {
	var out []string
	if e.Security != "" && v.c.cfg.Authenticate != nil {
		in := &openapi3filter.AuthenticationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe},
			SecuritySchemeName:     e.Security,
		}
		if ref := v.c.doc.Components.SecuritySchemes[e.Security]; ref != nil {
			in.SecurityScheme = ref.Value
		}
		if err := v.c.cfg.Authenticate(probe.Context(), in); err != nil {
			out = append(out, err.Error())
		}
	}
	if e.Body != "" && complete {
		if err := v.c.checkSchema(e.Body, body); err != nil {
			out = append(out, fmt.Sprintf("request body (%s) %s", e.Body, describe(err)))
		}
	}
	return out
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
		AuthenticationFunc:      v.c.cfg.Authenticate,
		IncludeResponseStatus:   true,
		MultiError:              true,
		SkipSettingDefaults:     true,
		SchemaValidationOptions: v.c.cfg.Formats,
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
func (v *Validator) report(t testing.TB, r *http.Request, op, status, violation string) {
	if violation == "" {
		return
	}
	if op != "" {
		op = " (" + op + ")"
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	t.Errorf("%s: %s %s%s → %s: %s", v.c.cfg.Name, r.Method, r.URL.RequestURI(), op, status, violation)
}

func (c *Contract) unknownOperation(r *http.Request, err error) error {
	switch err {
	case routers.ErrMethodNotAllowed:
		return fmt.Errorf("operation not in the %s OpenAPI document: %s is not defined for %s", c.cfg.Tracker, r.Method, r.URL.Path)
	case routers.ErrPathNotFound:
		return fmt.Errorf("operation not in the %s OpenAPI document: no path matches %s", c.cfg.Tracker, r.URL.Path)
	}
	return fmt.Errorf("operation not in the %s OpenAPI document: %w", c.cfg.Tracker, err)
}
