package jiratest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// basicPresent stands in for the document's security: Basic auth with any
// credentials satisfies it; whether they are right is the handler's to say.
func basicPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "basicAuth" {
		return errors.New("only Basic auth is used")
	}
	if _, _, ok := in.RequestValidationInput.Request.BasicAuth(); !ok {
		return errors.New("no Basic credentials")
	}
	return nil
}

// fileParts checks that a multipart body has at least one part named file.
func fileParts(contentType string, body []byte) error {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("has a bad Content-Type %q: %w", contentType, err)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return fmt.Errorf("has no multipart part named file (%v)", err)
		}
		if p.FormName() == "file" {
			return nil
		}
	}
}

// finish checks the recorded response and reports what was found.
func (v *Validator) finish(r *http.Request, ex *exchange, rec *recorder) {
	if rec.hijacked {
		v.report(r, ex.op, "hijacked", ex.requestViolation(0))
		return
	}
	status := rec.statusCode()
	label := strconv.Itoa(status)
	v.report(r, ex.op, label, ex.requestViolation(status))
	if ex.input == nil && !ex.edit && !ex.expect.unknownRoute {
		return // the missing operation is the violation; there is no schema
	}
	defer v.count()
	if problems := v.checkResponse(ex, status, rec); len(problems) > 0 {
		v.report(r, ex.op, label, "response: "+strings.Join(problems, "; "))
	}
}

// checkResponse validates one answer against the document and Jira's rules.
func (v *Validator) checkResponse(ex *exchange, status int, rec *recorder) []string {
	var out []string
	h := rec.sentHeader()
	body := rec.body.Bytes()
	if status >= 400 {
		if ct, _, _ := mime.ParseMediaType(h.Get("Content-Type")); ct != "application/json" {
			out = append(out, fmt.Sprintf("error answered with Content-Type %q, not application/json", h.Get("Content-Type")))
		} else if !rec.overflow {
			if err := v.checkSchema("ErrorCollection", body); err != nil {
				out = append(out, "error body is not an ErrorCollection: "+describe(err))
			}
		}
	}
	if status == http.StatusTooManyRequests {
		if n, err := strconv.Atoi(h.Get("Retry-After")); err != nil || n < 1 {
			out = append(out, fmt.Sprintf("429 with Retry-After %q, want whole seconds, at least 1", h.Get("Retry-After")))
		}
		for _, name := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Reason"} {
			if h.Get(name) == "" {
				out = append(out, "429 without "+name)
			}
		}
	}
	switch {
	case ex.edit:
		if status == http.StatusOK && !rec.overflow {
			if err := v.checkSchema("Comment", body); err != nil {
				out = append(out, "body (Comment) "+describe(err))
			}
		}
	case ex.input == nil:
	case ex.input.Route.Operation.Responses.Status(status) == nil:
		if !v.allowed[status] {
			out = append(out, fmt.Sprintf("status %d is not documented for this operation", status))
		}
	default:
		rv := &openapi3filter.ResponseValidationInput{RequestValidationInput: ex.input, Status: status, Header: h, Options: v.options()}
		rv.SetBodyBytes(body)
		if status == http.StatusNoContent || rec.overflow {
			rv.Options.ExcludeResponseBody = true
		}
		if err := openapi3filter.ValidateResponse(context.Background(), rv); err != nil {
			out = append(out, describe(err))
		}
	}
	return out
}

// checkSchema validates a JSON body against a named component schema.
func (v *Validator) checkSchema(name string, body []byte) error {
	var x any
	if err := json.Unmarshal(body, &x); err != nil {
		return fmt.Errorf("not JSON: %v: %s", err, shortText(string(body)))
	}
	opts := append([]openapi3.SchemaValidationOption{openapi3.MultiErrors()}, schemaOptions()...)
	return v.spec.doc.Components.Schemas[name].Value.VisitJSON(x, opts...)
}

// shortText keeps a body quoted in a message to one short line.
func shortText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
