package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// specPath is the official API document the sandbox must honour.
const specPath = "../../../testdata/asana/openapi-subset.yaml"

// contract is an http.RoundTripper that validates every request to and
// response from /api/1.0 against the OpenAPI subset, failing the test on any
// violation. Requests outside /api/1.0 (download URLs) pass through.
type contract struct {
	t         testing.TB
	base      http.RoundTripper
	router    routers.Router
	errSchema *openapi3.Schema
	formats   []openapi3.SchemaValidationOption
}

// reqOpts marks requests that deliberately step outside the contract.
type reqOpts struct {
	invalidRequest  bool // the request breaks the spec on purpose; the validator must agree
	skipRequestBody bool // streamed bodies too large to buffer for validation
	unknownRoute    bool // the path is not an operation of the spec (404 tests)
}

type reqOptsKey struct{}

func withReqOpts(ctx context.Context, o reqOpts) context.Context {
	return context.WithValue(ctx, reqOptsKey{}, o)
}

func newContract(t testing.TB, base http.RoundTripper) *contract {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		t.Fatalf("loading %s: %v", specPath, err)
	}
	// Match operations on the path alone; the transport strips /api/1.0.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("building the router: %v", err)
	}
	// kin-openapi checks date and date-time by default; uri and email are
	// added here so links and addresses are checked too.
	uri := openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("not an absolute URI: %q", s)
		}
		return nil
	})
	email := openapi3.NewCallbackValidator(func(s string) error {
		_, err := mail.ParseAddress(s)
		return err
	})
	return &contract{
		t:         t,
		base:      base,
		router:    router,
		errSchema: doc.Components.Schemas["ErrorResponse"].Value,
		formats: []openapi3.SchemaValidationOption{
			openapi3.DisableSchemaErrorDetails(), // keep failures readable
			openapi3.WithStringFormatValidator("uri", uri),
			openapi3.WithStringFormatValidator("email", email),
		},
	}
}

// bearerPresent stands in for authentication: the spec's security schemes
// are satisfied by any Bearer token (whether it is the right one is the
// sandbox's business, answered with 401).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Bearer ") || len(h) == len("Bearer ") {
		return errors.New("no Bearer token")
	}
	return nil
}

func (ct *contract) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, apiPrefix+"/") {
		return ct.base.RoundTrip(req)
	}
	o, _ := req.Context().Value(reqOptsKey{}).(reqOpts)
	what := req.Method + " " + req.URL.RequestURI()
	var body []byte
	if req.Body != nil && !o.skipRequestBody {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	vreq := req.Clone(req.Context())
	vreq.URL.Path = strings.TrimPrefix(req.URL.Path, apiPrefix)
	vreq.URL.RawPath = ""
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, routeErr := ct.router.FindRoute(vreq)
	var in *openapi3filter.RequestValidationInput
	switch {
	case routeErr != nil && !o.unknownRoute:
		ct.t.Errorf("contract: %s is not an operation of the spec: %v", what, routeErr)
	case routeErr == nil && o.unknownRoute:
		ct.t.Errorf("contract: %s was expected to be outside the spec", what)
	case routeErr == nil:
		in = &openapi3filter.RequestValidationInput{
			Request: vreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{
				AuthenticationFunc:      bearerPresent,
				ExcludeRequestBody:      o.skipRequestBody,
				IncludeResponseStatus:   true,
				MultiError:              true,
				SchemaValidationOptions: ct.formats,
			},
		}
		err := openapi3filter.ValidateRequest(req.Context(), in)
		switch {
		case o.invalidRequest && err == nil:
			ct.t.Errorf("contract: request %s was meant to break the spec but validates", what)
		case !o.invalidRequest && err != nil:
			ct.t.Errorf("contract: request %s violates the spec: %v", what, err)
		}
	}
	resp, err := ct.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rb, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	if err != nil {
		return resp, err
	}
	ct.checkResponse(what, in, resp, rb)
	return resp, nil
}

// checkResponse validates the answer against the operation, plus the
// invariants Asana documents around the schemas.
func (ct *contract) checkResponse(what string, in *openapi3filter.RequestValidationInput, resp *http.Response, body []byte) {
	t := ct.t
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("contract: %s answered %d with Content-Type %q, want JSON", what, resp.StatusCode, ct)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 {
			t.Errorf("contract: %s answered 429 with Retry-After %q, want whole seconds >= 1", what, resp.Header.Get("Retry-After"))
		}
	case http.StatusCreated:
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, apiPrefix+"/") {
			t.Errorf("contract: %s answered 201 without a Location header (%q)", what, loc)
		}
	case http.StatusUnauthorized:
		if want := `{"errors":[{"message":"Not Authorized"}]}`; strings.TrimSpace(string(body)) != want {
			t.Errorf("contract: %s answered 401 with %s, want %s", what, body, want)
		}
	}
	if in == nil || (resp.StatusCode == http.StatusServiceUnavailable && in.Route.Operation.Responses.Status(503) == nil) {
		// Outside the spec's routes, or a 503 the operation does not list
		// (Asana sends them on overload): the body must still be an
		// ErrorResponse.
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Errorf("contract: %s answered %d with invalid JSON: %v", what, resp.StatusCode, err)
			return
		}
		if err := ct.errSchema.VisitJSON(v, append([]openapi3.SchemaValidationOption{openapi3.MultiErrors()}, ct.formats...)...); err != nil {
			t.Errorf("contract: %s answered %d with a body that is not an ErrorResponse: %v", what, resp.StatusCode, err)
		}
		return
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                in.Options,
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("contract: response %d to %s violates the spec: %v\nbody: %s", resp.StatusCode, what, err, truncate(body))
	}
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}

// recorder is a testing.TB that records failures instead of failing, to
// test the helper itself.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

// TestContractCatchesViolations proves the helper fails tests: a handler
// answering outside the spec must be reported, one inside it must not.
func TestContractCatchesViolations(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		bad        bool
	}{
		{"valid user", `{"data":{"gid":"1","resource_type":"user","name":"A","email":"a@b.example"}}`, 200, false},
		{"gid as number", `{"data":{"gid":1,"resource_type":"user"}}`, 200, true},
		{"bad email", `{"data":{"gid":"1","email":"not an address"}}`, 200, true},
		{"undocumented status", `{"errors":[{"message":"x"}]}`, 418, true},
		{"error without list", `{"errors":{"message":"x"}}`, 404, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			fake := roundTripFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {"application/json"}},
					Body: io.NopCloser(strings.NewReader(tc.body))}, nil
			})
			c := &http.Client{Transport: newContract(rec, fake)}
			req, _ := http.NewRequest(http.MethodGet, "http://sandbox.test/api/1.0/users/me", nil)
			req.Header.Set("Authorization", "Bearer x")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if got := len(rec.errs) > 0; got != tc.bad {
				t.Fatalf("violation reported = %v, want %v (%q)", got, tc.bad, rec.errs)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
