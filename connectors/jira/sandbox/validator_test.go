package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specFile is the official document, relative to this package.
var specFile = filepath.Join("..", "..", "..", "testdata", "jira", "openapi-subset.json")

// expectHeader tells the validator that a request steps outside the
// document on purpose; it is removed before the sandbox sees the request.
const expectHeader = "X-Jiratest-Expect"

const (
	expectInvalid = "invalid-request" // the request must break the document
	expectUnknown = "unknown-route"   // the operation is not in the document
)

// commentEdit is the operation the real API has and the subset lacks; its
// answers are checked against the subset's Comment schema.
var commentEdit = regexp.MustCompile(`^/rest/api/3/issue/[^/]+/comment/[^/]+$`)

// The parsed document is shared by every test: parsing it costs tens of
// milliseconds, more under -race, and it never changes after loading.
var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

func loadSpec() (*openapi3.T, routers.Router, error) {
	specOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromFile(specFile)
		if err != nil {
			specErr = fmt.Errorf("load %s: %w", specFile, err)
			return
		}
		// Atlassian's examples are JSON text in strings, not values; the
		// schemas themselves must be valid.
		if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
			specErr = fmt.Errorf("%s is not a valid OpenAPI document: %w", specFile, err)
			return
		}
		visited := map[*openapi3.Schema]bool{}
		for _, ref := range doc.Components.Schemas {
			untypedNullable(ref, visited)
		}
		// Match any host: the sandbox runs on loopback.
		doc.Servers = openapi3.Servers{{URL: "/"}}
		specDoc = doc
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	return specDoc, specRouter, specErr
}

// untypedNullable lets schemas without a type accept null. OpenAPI 3.0.3
// says nullable only matters beside an explicit type, so an untyped schema
// such as IssueBean.fields' values ({}) puts no constraint on null, while
// kin-openapi rejects it; real Jira sends "description": null.
func untypedNullable(ref *openapi3.SchemaRef, visited map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || visited[ref.Value] {
		return
	}
	s := ref.Value
	visited[s] = true
	if s.Type == nil || len(*s.Type) == 0 {
		s.Nullable = true
	}
	for _, p := range s.Properties {
		untypedNullable(p, visited)
	}
	untypedNullable(s.Items, visited)
	untypedNullable(s.AdditionalProperties.Schema, visited)
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, r := range group {
			untypedNullable(r, visited)
		}
	}
}

// validator checks every request under /rest/api/3 and its answer against
// the document, plus the rules Jira follows beside it: every error status is
// a JSON ErrorCollection, and 429 carries Retry-After and the rate headers.
type validator struct {
	doc     *openapi3.T
	router  routers.Router
	allowed map[int]bool // statuses operations may send though undocumented

	mu      sync.Mutex
	checked int
}

func newValidator(t testing.TB, allow ...int) *validator {
	t.Helper()
	doc, router, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	v := &validator{doc: doc, router: router, allowed: map[int]bool{
		// Jira's gateway answers these to any operation; the document
		// lists them for none or few.
		http.StatusTooManyRequests: true, http.StatusInternalServerError: true, http.StatusServiceUnavailable: true,
	}}
	for _, c := range allow {
		v.allowed[c] = true
	}
	return v
}

func (v *validator) count() {
	v.mu.Lock()
	v.checked++
	v.mu.Unlock()
}

func (v *validator) Checked() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.checked
}

// jiraTime accepts Jira's timestamps, which the document calls date-time
// though they are not RFC 3339 ("+0000" has no colon), and RFC 3339 itself.
var jiraTime = openapi3.NewCallbackValidator(func(s string) error {
	if _, err := time.Parse(timeLayout, s); err == nil {
		return nil
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return nil
	}
	return fmt.Errorf("not a Jira timestamp: %q", s)
})

func schemaOptions() []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("date-time", jiraTime),
		openapi3.WithStringFormatValidator("uri", openapi3.NewCallbackValidator(func(s string) error {
			if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
				return fmt.Errorf("not an absolute URI: %q", s)
			}
			return nil
		})),
	}
}

// basicPresent stands in for the document's security: Basic auth with any
// credentials satisfies it; whether they are right is the sandbox's to say.
func basicPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "basicAuth" {
		return errors.New("only basic auth is used")
	}
	if _, _, ok := in.RequestValidationInput.Request.BasicAuth(); !ok {
		return errors.New("no Basic credentials")
	}
	return nil
}

func (v *validator) options() *openapi3filter.Options {
	o := &openapi3filter.Options{
		AuthenticationFunc:      basicPresent,
		IncludeResponseStatus:   true,
		MultiError:              true,
		SkipSettingDefaults:     true,
		SchemaValidationOptions: schemaOptions(),
	}
	return o
}

// Wrap validates traffic to next. Violations are reported with t.Errorf,
// which is safe from handler goroutines.
func (v *validator) Wrap(t testing.TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expect := r.Header.Get(expectHeader)
		r.Header.Del(expectHeader)
		if !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		probe := r.Clone(context.WithoutCancel(r.Context()))
		probe.Body = io.NopCloser(bytes.NewReader(body))
		probe.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		route, params, routeErr := v.router.FindRoute(probe)
		var in *openapi3filter.RequestValidationInput
		var reqErr error
		edit := r.Method == http.MethodPut && commentEdit.MatchString(r.URL.Path)
		switch {
		case edit:
			reqErr = v.checkSchema("Comment", body)
		case routeErr == nil:
			in = &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: v.options()}
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
				// kin-openapi cannot decode a multipart body whose schema
				// is an array (the attachments upload); the document's
				// point, parts named file, is checked here instead.
				in.Options.ExcludeRequestBody = true
				reqErr = fileParts(r.Header.Get("Content-Type"), body)
			}
			if err := openapi3filter.ValidateRequest(probe.Context(), in); err != nil {
				reqErr = err
			}
		case expect != expectUnknown:
			t.Errorf("%s %s: operation not in the document: %v", r.Method, r.URL.Path, routeErr)
		}
		v.count()
		rec := &recorder{w: w}
		next.ServeHTTP(rec, r)
		if rec.hijacked {
			return
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		where := fmt.Sprintf("%s %s → %d", r.Method, r.URL.RequestURI(), status)
		switch {
		case expect == expectInvalid && reqErr == nil:
			t.Errorf("%s: request conforms, but the test said it would not", where)
		case reqErr != nil && expect != expectInvalid && status < 400:
			t.Errorf("%s: request: %v", where, reqErr)
		}
		for _, p := range v.checkResponse(in, edit, status, rec) {
			t.Errorf("%s: response: %s", where, p)
		}
		v.count()
	})
}

// fileParts checks that a multipart body has at least one part named file.
func fileParts(contentType string, body []byte) error {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return fmt.Errorf("no multipart part named file (%v)", err)
		}
		if p.FormName() == "file" {
			return nil
		}
	}
}

// checkResponse validates one answer.
func (v *validator) checkResponse(in *openapi3filter.RequestValidationInput, edit bool, status int, rec *recorder) []string {
	var out []string
	h := rec.header
	if status >= 400 {
		if err := v.checkSchema("ErrorCollection", rec.body.Bytes()); err != nil {
			out = append(out, "error body: "+err.Error())
		}
		if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			out = append(out, "error Content-Type "+ct)
		}
	}
	if status == http.StatusTooManyRequests {
		if n, err := strconv.Atoi(h.Get("Retry-After")); err != nil || n < 1 {
			out = append(out, fmt.Sprintf("429 with Retry-After %q", h.Get("Retry-After")))
		}
		for _, name := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Reason"} {
			if h.Get(name) == "" {
				out = append(out, "429 without "+name)
			}
		}
	}
	switch {
	case edit && status == http.StatusOK:
		if err := v.checkSchema("Comment", rec.body.Bytes()); err != nil {
			out = append(out, err.Error())
		}
	case in == nil:
	case in.Route.Operation.Responses.Status(status) == nil:
		if !v.allowed[status] {
			out = append(out, fmt.Sprintf("status %d is not documented for the operation", status))
		}
	default:
		rv := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: h, Options: v.options()}
		rv.SetBodyBytes(rec.body.Bytes())
		if status == http.StatusNoContent {
			rv.Options.ExcludeResponseBody = true
		}
		if err := openapi3filter.ValidateResponse(context.Background(), rv); err != nil {
			out = append(out, err.Error())
		}
	}
	return out
}

// checkSchema validates a JSON body against a named component schema.
func (v *validator) checkSchema(name string, body []byte) error {
	var x any
	if err := json.Unmarshal(body, &x); err != nil {
		return fmt.Errorf("not JSON: %v: %s", err, body)
	}
	opts := append([]openapi3.SchemaValidationOption{openapi3.MultiErrors()}, schemaOptions()...)
	return v.doc.Components.Schemas[name].Value.VisitJSON(x, opts...)
}

// recorder passes a response through while keeping a copy.
type recorder struct {
	w        http.ResponseWriter
	status   int
	header   http.Header
	body     bytes.Buffer
	hijacked bool
}

func (r *recorder) Header() http.Header { return r.w.Header() }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.header = r.w.Header().Clone()
	}
	r.w.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	r.body.Write(p)
	return r.w.Write(p)
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("not a hijacker")
	}
	r.hijacked = true
	return hj.Hijack()
}
