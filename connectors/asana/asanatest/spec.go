package asanatest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/tandem-sync/tandem/connectors/internal/oapitest"
)

// specPath is the document's place in the module: a verbatim copy of
// shared/asana/openapi-subset.yaml, kept in the repository so CI has it.
var specPath = filepath.Join("testdata", "asana", "openapi-subset.yaml")

// apiPrefix is the path of the document's server URL,
// https://app.asana.com/api/1.0. Tests serve the API from loopback, so
// operations are matched by path alone under this prefix.
const apiPrefix = "/api/1.0"

// notAuthorized is the whole body of Asana's 401, which clients match on.
const notAuthorized = `{"errors":[{"message":"Not Authorized"}]}`

// loadContract parses the document once per process. It is the one piece
// of package-level state: parsing costs tens of milliseconds (several
// times that under -race), every sandbox and client test builds a
// Validator, and the Contract never changes once loaded.
var loadContract = sync.OnceValues(func() (*oapitest.Contract, error) {
	return oapitest.Load(oapitest.Config{
		Name:         "asanatest",
		Tracker:      "Asana",
		Document:     specPath,
		Prefix:       apiPrefix,
		ServerURL:    apiPrefix, // the document's paths are relative to it
		Formats:      schemaOptions(),
		Authenticate: bearerPresent,
		ExpectHeader: ExpectHeader,
		StreamedBody: true,
		ErrorSchema:  "ErrorResponse",
		Response:     asanaRules,
	})
})

// schemaOptions checks the string formats Asana's schemas use. kin-openapi
// checks date and date-time by default; email and uri only when asked.
func schemaOptions() []openapi3.SchemaValidationOption {
	uri := openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("not an absolute URI: %q", s)
		}
		return nil
	})
	return []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
		openapi3.WithStringFormatValidator("uri", uri),
	}
}

// bearerPresent stands in for authentication. Both of the document's
// schemes, a personal access token and an OAuth access token, travel as a
// Bearer token; any non-empty one satisfies the document, and whether it is
// the right one is for the handler to answer with 401.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, token, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New("no Bearer token in the Authorization header")
	}
	return nil
}

// asanaRules checks what Asana documents beside the schemas, whatever the
// operation.
func asanaRules(status int, h http.Header, body []byte, complete bool) []string {
	switch status {
	case http.StatusTooManyRequests:
		return oapitest.RetryAfter(h)
	case http.StatusCreated:
		loc := h.Get("Location")
		if u, err := url.Parse(loc); loc == "" || err != nil || !strings.HasPrefix(u.Path, apiPrefix+"/") {
			return []string{fmt.Sprintf("201 with Location %q, want the created object's URL under %s/", loc, apiPrefix)}
		}
	case http.StatusUnauthorized:
		if got := strings.TrimSpace(string(body)); complete && got != notAuthorized {
			return []string{fmt.Sprintf("401 body is %s, want exactly %s", oapitest.ShortText(got), notAuthorized)}
		}
	}
	return nil
}
