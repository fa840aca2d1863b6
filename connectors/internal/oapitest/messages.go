package oapitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// describe turns a kin-openapi validation error into one line naming each
// offending value by its full JSON path. kin-openapi's own message nests a
// "doesn't match schema due to" per allOf level and appends whole schemas,
// which for documents that are allOf all the way down (Asana's) or nest
// deep beans (Jira's) runs to pages.
func describe(err error) string {
	// Branches of an allOf often repeat a property, and with it the problem.
	var unique []string
	for _, p := range problems(err) {
		if !slices.Contains(unique, p) {
			unique = append(unique, p)
		}
	}
	return strings.Join(unique, "; ")
}

func problems(err error) []string {
	switch e := err.(type) {
	case openapi3.MultiError:
		var out []string
		for _, x := range e {
			out = append(out, problems(x)...)
		}
		return out
	case *openapi3filter.RequestError:
		subject := "request"
		switch {
		case e.Parameter != nil:
			subject = fmt.Sprintf("parameter %q in %s", e.Parameter.Name, e.Parameter.In)
		case e.RequestBody != nil:
			subject = "request body"
		}
		return explain(subject, e.Reason, e.Err)
	case *openapi3filter.ResponseError:
		if e.Err == nil && e.Input != nil && e.Reason == "status is not supported" {
			return []string{fmt.Sprintf("status %d is not documented for this operation", e.Input.Status)}
		}
		return explain("", e.Reason, e.Err)
	case *openapi3filter.SecurityRequirementsError:
		// One error per alternative scheme, all saying the same here.
		var out []string
		for _, x := range e.Errors {
			out = append(out, x.Error())
		}
		if len(out) == 0 {
			out = []string{e.Error()}
		}
		return out
	}
	return leaves(err)
}

// explain prefixes the schema problems under cause with subject, or falls
// back to reason when cause holds none.
func explain(subject, reason string, cause error) []string {
	var found []string
	if cause != nil {
		found = leaves(cause)
	}
	if len(found) == 0 {
		found = []string{reason}
		if cause != nil {
			found = []string{strings.TrimPrefix(reason+": "+cause.Error(), ": ")}
		}
	}
	if subject == "" {
		return found
	}
	out := make([]string, len(found))
	for i, f := range found {
		out[i] = subject + " " + f
	}
	return out
}

// leaves walks nested schema errors down to the ones that name a concrete
// value. kin-openapi already gives those the full path from the body's root.
func leaves(err error) []string {
	if me, ok := err.(openapi3.MultiError); ok {
		var out []string
		for _, x := range me {
			out = append(out, leaves(x)...)
		}
		return out
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return []string{err.Error()}
	}
	var nested openapi3.MultiError
	if se.Origin != nil && errors.As(se.Origin, &nested) {
		// allOf / oneOf / anyOf: the branches say what is wrong.
		return leaves(nested)
	}
	return []string{leafMessage(se, se.JSONPointer())}
}

func leafMessage(se *openapi3.SchemaError, path []string) string {
	reason := se.Reason
	switch {
	case se.SchemaField == "enum":
		reason = "value is not one of the allowed values"
	case se.SchemaField == "format" && se.Schema != nil:
		reason = fmt.Sprintf("string doesn't match the format %q", se.Schema.Format)
	case reason == "" && se.Origin != nil:
		reason = se.Origin.Error()
	case reason == "":
		reason = fmt.Sprintf("doesn't match schema %q", se.SchemaField)
	}
	at := "at /" + strings.Join(path, "/") + ": "
	if len(path) == 0 {
		at = ""
	}
	return at + reason + " (got " + shortJSON(se.Value) + ")"
}

func shortJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// schemaMessage keeps kin-openapi's schema errors to one line wherever
// describe does not reach: the default message appends the whole schema,
// and some enums (Asana's opt_fields) run to hundreds of values.
func schemaMessage(err *openapi3.SchemaError) string {
	if err.Origin != nil {
		return "" // kin-openapi's own wording names the path and the cause
	}
	return leafMessage(err, err.JSONPointer())
}
