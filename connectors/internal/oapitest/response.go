package oapitest

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// finish checks the recorded response and reports what was found.
func (v *Validator) finish(t testing.TB, r *http.Request, ex *exchange, rec *recorder) {
	header := v.c.cfg.ExpectHeader
	if rec.hijacked {
		v.report(t, r, ex.op, "hijacked", ex.requestViolation(header, 0))
		return
	}
	status := rec.statusCode()
	label := strconv.Itoa(status)
	v.report(t, r, ex.op, label, ex.requestViolation(header, status))
	if ex.input == nil && ex.extra == nil && !ex.expect.unknownRoute {
		return // the missing operation is the violation; there is no schema
	}
	if rec.overflow {
		t.Logf("%s: %s %s: response body over %d bytes not validated", v.c.cfg.Name, r.Method, r.URL.RequestURI(), v.maxBody)
	}
	found := v.checkResponse(ex, status, rec)
	v.count()
	if len(found) > 0 {
		v.report(t, r, ex.op, label, "response: "+strings.Join(found, "; "))
	}
}

// checkResponse validates one answer against the document and the
// contract's rules.
func (v *Validator) checkResponse(ex *exchange, status int, rec *recorder) []string {
	var out []string
	errorBody := status >= 400 && v.c.cfg.EveryError
	switch {
	case ex.extra != nil:
		if name := ex.extra.Answers[status]; name != "" && !rec.overflow {
			if err := v.c.checkSchema(name, rec.body.Bytes()); err != nil {
				out = append(out, fmt.Sprintf("body (%s) %s", name, describe(err)))
			}
		}
	case ex.input == nil:
		// An answer to no operation can only be the tracker's error.
		errorBody = true
	case ex.input.Route.Operation.Responses.Status(status) == nil && ex.input.Route.Operation.Responses.Default() == nil:
		if !v.allowed[status] {
			out = append(out, fmt.Sprintf("status %d is not documented for this operation", status))
		}
		errorBody = errorBody || status >= 400
	default:
		opts := *ex.input.Options
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: ex.input,
			Status:                 status,
			Header:                 rec.sentHeader(),
			Options:                &opts,
		}
		if status == http.StatusNoContent || rec.overflow {
			opts.ExcludeResponseBody = true
		} else {
			in.SetBodyBytes(rec.body.Bytes())
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			out = append(out, describe(err))
		}
	}
	if errorBody && v.c.cfg.ErrorSchema != "" {
		out = append(out, v.c.errorBody(rec)...)
	}
	if hook := v.c.cfg.Response; hook != nil {
		out = append(out, hook(status, rec.sentHeader(), rec.body.Bytes(), !rec.overflow)...)
	}
	return out
}

// errorBody checks an error answer against the contract's ErrorSchema.
func (c *Contract) errorBody(rec *recorder) []string {
	ct := rec.sentHeader().Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return []string{fmt.Sprintf("error body has Content-Type %q, want application/json", ct)}
	}
	if rec.overflow {
		return nil
	}
	if err := c.checkSchema(c.cfg.ErrorSchema, rec.body.Bytes()); err != nil {
		return []string{fmt.Sprintf("error body is not an %s: %s", c.cfg.ErrorSchema, describe(err))}
	}
	return nil
}

// checkSchema validates a JSON body against a component schema Load found.
func (c *Contract) checkSchema(name string, body []byte) error {
	var x any
	if err := json.Unmarshal(body, &x); err != nil {
		return fmt.Errorf("not JSON: %v: %s", err, ShortText(string(body)))
	}
	opts := append([]openapi3.SchemaValidationOption{openapi3.MultiErrors()}, c.cfg.Formats...)
	return c.schemas[name].VisitJSON(x, opts...)
}

// RetryAfter checks the Retry-After of a 429 as both trackers send it:
// whole seconds, at least 1. Clients wait this long before retrying; 0 or
// a date would make them hammer or stall.
func RetryAfter(h http.Header) []string {
	if n, err := strconv.Atoi(h.Get("Retry-After")); err != nil || n < 1 {
		return []string{fmt.Sprintf("429 with Retry-After %q, want whole seconds, at least 1", h.Get("Retry-After"))}
	}
	return nil
}

// ShortText keeps a body quoted in a message to one short line.
func ShortText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
