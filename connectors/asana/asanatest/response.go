package asanatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// notAuthorized is the whole body of Asana's 401, which clients match on.
const notAuthorized = `{"errors":[{"message":"Not Authorized"}]}`

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

// finish checks the recorded response and reports what was found.
func (v *Validator) finish(t testing.TB, r *http.Request, ex *exchange, rec *recorder) {
	if rec.hijacked {
		v.report(t, r, "hijacked", ex.requestViolation(0))
		return
	}
	status := rec.statusCode()
	label := fmt.Sprint(status)
	v.report(t, r, label, ex.requestViolation(status))
	if ex.input == nil && !ex.expect.unknownRoute {
		return // the missing operation is the violation; there is no schema
	}
	if rec.overflow {
		t.Logf("asanatest: %s %s: response body over %d bytes not validated", r.Method, r.URL.RequestURI(), v.maxBody)
	}
	var found []string
	if ex.input == nil {
		// Asana answers paths it does not know with an error like any other.
		found = errorBody(v.spec.errorResponse, rec)
	} else {
		found = v.checkResponse(ex.input, status, rec)
	}
	found = append(found, asanaRules(status, rec)...)
	v.count()
	if len(found) > 0 {
		v.report(t, r, label, "response: "+strings.Join(found, "; "))
	}
}

// checkResponse validates the response against its operation.
func (v *Validator) checkResponse(req *openapi3filter.RequestValidationInput, status int, rec *recorder) []string {
	responses := req.Route.Operation.Responses
	if responses.Status(status) == nil && responses.Default() == nil && v.allowed[status] {
		if status < 400 {
			return nil
		}
		return errorBody(v.spec.errorResponse, rec)
	}
	opts := *req.Options
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: req,
		Status:                 status,
		Header:                 rec.sentHeader(),
		Options:                &opts,
	}
	if rec.overflow {
		opts.ExcludeResponseBody = true
	} else {
		in.SetBodyBytes(rec.body.Bytes())
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return []string{describe(err)}
	}
	return nil
}

// errorBody checks an error answer the document has no schema for (an
// allowed status, a path that is no operation) against ErrorResponse.
func errorBody(schema *openapi3.Schema, rec *recorder) []string {
	if rec.overflow {
		return nil
	}
	ct := rec.sentHeader().Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return []string{fmt.Sprintf("error body has Content-Type %q, want application/json", ct)}
	}
	var body any
	if err := json.Unmarshal(rec.body.Bytes(), &body); err != nil {
		return []string{fmt.Sprintf("error body is not JSON (%v): %s", err, shortText(rec.body.String()))}
	}
	opts := append([]openapi3.SchemaValidationOption{openapi3.MultiErrors()}, schemaOptions()...)
	if err := schema.VisitJSON(body, opts...); err != nil {
		return []string{"error body is not an ErrorResponse: " + describe(err)}
	}
	return nil
}

// asanaRules checks what Asana documents beside the schemas, whatever the
// operation.
func asanaRules(status int, rec *recorder) []string {
	h := rec.sentHeader()
	switch status {
	case http.StatusTooManyRequests:
		// Clients wait this long before retrying; 0 or a date would make
		// them hammer or stall.
		if n, err := strconv.Atoi(h.Get("Retry-After")); err != nil || n < 1 {
			return []string{fmt.Sprintf("429 with Retry-After %q, want whole seconds, at least 1", h.Get("Retry-After"))}
		}
	case http.StatusCreated:
		loc := h.Get("Location")
		if u, err := url.Parse(loc); loc == "" || err != nil || !strings.HasPrefix(u.Path, apiPrefix+"/") {
			return []string{fmt.Sprintf("201 with Location %q, want the created object's URL under %s/", loc, apiPrefix)}
		}
	case http.StatusUnauthorized:
		if got := strings.TrimSpace(rec.body.String()); !rec.overflow && got != notAuthorized {
			return []string{fmt.Sprintf("401 body is %s, want exactly %s", shortText(got), notAuthorized)}
		}
	}
	return nil
}

func shortText(s string) string {
	if len(s) > 200 {
		return s[:197] + "..."
	}
	return s
}
