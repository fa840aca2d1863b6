package oapitest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// expectHeader is the test contract's ExpectHeader.
const expectHeader = "X-Oapitest-Expect"

const (
	thing    = `{"id":"1","name":"Spoon","size":3}`
	notFound = `{"errors":[{"message":"Not found"}]}`
)

// testConfig describes the contract of testdata/contract.yaml, with one
// rule of each kind a tracker can add.
func testConfig() Config {
	return Config{
		Name:         "oapitest",
		Tracker:      "Test",
		Document:     filepath.Join("connectors", "internal", "oapitest", "testdata", "contract.yaml"),
		Prefix:       "/api",
		ServerURL:    "/api",
		Authenticate: bearer,
		ExpectHeader: expectHeader,
		StreamedBody: true,
		ErrorSchema:  "Error",
		Extras: []Extra{{
			Name:     "rename, not in the document",
			Method:   http.MethodPut,
			Path:     regexp.MustCompile(`^/api/things/[^/]+$`),
			Security: "token",
			Body:     "Thing",
			Answers:  map[int]string{http.StatusOK: "Thing"},
		}, {
			Name:     "search, not in the document",
			Method:   http.MethodGet,
			Path:     regexp.MustCompile(`^/api/search$`),
			Security: "token",
			Answers:  map[int]string{http.StatusOK: "[]Thing"},
		}, {
			Name:     "shelf, not in the document",
			Method:   http.MethodGet,
			Path:     regexp.MustCompile(`^/api/shelves/[^/]+$`),
			Security: "token",
			Answers:  map[int]string{http.StatusOK: "things: []Thing"},
		}},
		Request: func(r *http.Request, route *routers.Route, body []byte, complete bool) []string {
			var out []string
			if r.Header.Get("X-Rule") == "broken" {
				out = append(out, "X-Rule is broken")
			}
			if route.Operation.OperationID == "addFiles" && complete && !bytes.Contains(body, []byte(`name="file"`)) {
				out = append(out, "no part named file")
			}
			return out
		},
		Response: func(status int, h http.Header, body []byte, complete bool) []string {
			if status == http.StatusTooManyRequests {
				return RetryAfter(h)
			}
			return nil
		},
	}
}

func bearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return errors.New("no Bearer token")
	}
	return nil
}

// newValidator loads cfg and returns a Validator for it, adjusted by setup.
func newValidator(t *testing.T, cfg Config, setup func(*Validator)) *Validator {
	t.Helper()
	v := NewValidator(t, func() (*Contract, error) { return Load(cfg) })
	if setup != nil {
		setup(v)
	}
	return v
}

// jsonHandler answers every request with status and body.
func jsonHandler(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

// newRequest builds a request to the test server (path is relative to its
// root) carrying a Bearer token.
func newRequest(t *testing.T, method, path, contentType string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test-token")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// serve sends one request with a token through a fresh Validator for the
// test contract.
func serve(t *testing.T, handler http.Handler, method, path, contentType string, body io.Reader) (*Validator, *Catch, *http.Response, []byte) {
	t.Helper()
	return serveRequest(t, testConfig(), nil, handler, newRequest(t, method, path, contentType, body))
}

// serveRequest runs handler wrapped by a Validator for cfg, adjusted by
// setup, and sends req. The server is closed before returning, so every
// check has finished.
func serveRequest(t *testing.T, cfg Config, setup func(*Validator), handler http.Handler, req *http.Request) (*Validator, *Catch, *http.Response, []byte) {
	t.Helper()
	c := &Catch{TB: t}
	v := newValidator(t, cfg, setup)
	srv := httptest.NewServer(v.Wrap(c, handler))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Scheme, req.URL.Host, req.Host = u.Scheme, u.Host, u.Host
	resp, err := srv.Client().Do(req)
	if err != nil {
		return v, c, nil, nil
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	srv.Close()
	return v, c, resp, got
}
