package jiratest

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tandem-sync/tandem/connectors/internal/oapitest"
)

// specPath is the document's place in the module: a verbatim copy of
// shared/jira/openapi-subset.json, kept in the repository so CI has it.
var specPath = filepath.Join("testdata", "jira", "openapi-subset.json")

// apiPrefix is where the document's operations live. Tests serve the API
// from loopback, so operations are matched by path alone.
const apiPrefix = "/rest/api/3"

// timeLayout is Jira's timestamp: milliseconds and an offset without a
// colon, which RFC 3339 (the document's date-time) does not allow.
const timeLayout = "2006-01-02T15:04:05.000-0700"

// Paths of operations the real API has and the subset lacks: an issue's
// transitions (getTransitions, doTransition) and user search (findUsers).
// (The comment edit, PUT …/comment/{id}, is in the subset since its
// errata, and checked as the document says.)
var (
	transitions = regexp.MustCompile(`^/rest/api/3/issue/[^/]+/transitions$`)
	userSearch  = regexp.MustCompile(`^/rest/api/3/user/search$`)
)

// loadContract parses the document once per process. It is the one piece
// of package-level state: parsing costs tens of milliseconds (more under
// -race), every sandbox and client test builds a Validator, and the
// Contract never changes once loaded.
var loadContract = sync.OnceValues(func() (*oapitest.Contract, error) {
	return oapitest.Load(oapitest.Config{
		Document: specPath,
		// Atlassian's examples are JSON text in strings, not values; the
		// schemas themselves must be valid.
		ValidationOptions: []openapi3.ValidationOption{openapi3.DisableExamplesValidation()},
		Prepare: func(doc *openapi3.T) {
			visited := map[*openapi3.Schema]bool{}
			for _, ref := range doc.Components.Schemas {
				untypedNullable(ref, visited)
			}
		},
		Prefix: apiPrefix,
		// The document's paths include the prefix.
		ServerURL:    "/",
		Name:         "jiratest",
		Tracker:      "Jira",
		Formats:      schemaOptions(),
		Authenticate: basicPresent,
		ExpectHeader: ExpectHeader,
		ErrorSchema:  "ErrorCollection",
		EveryError:   true,
		// Jira's gateway answers these to any operation.
		Allowed: []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable},
		Extras: []oapitest.Extra{{
			// The real answer is a Transitions object, which the subset
			// lacks; its transitions are the subset's IssueTransition.
			Name:     "getTransitions, not in the subset",
			Method:   http.MethodGet,
			Path:     transitions,
			Security: "basicAuth",
			Answers:  map[int]string{http.StatusOK: "transitions: []IssueTransition"},
		}, {
			// 204 with no body.
			Name:     "doTransition, not in the subset",
			Method:   http.MethodPost,
			Path:     transitions,
			Security: "basicAuth",
			Body:     "IssueUpdateDetails",
		}, {
			Name:     "findUsers, not in the subset",
			Method:   http.MethodGet,
			Path:     userSearch,
			Security: "basicAuth",
			Answers:  map[int]string{http.StatusOK: "[]User"},
		}},
		Request:  jiraRequestRules,
		Response: jiraResponseRules,
	})
})

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

// schemaOptions checks the string formats Jira's schemas use. date-time
// takes Jira's own timestamps ("+0000" without a colon) beside RFC 3339.
func schemaOptions() []openapi3.SchemaValidationOption {
	jiraTime := openapi3.NewCallbackValidator(func(s string) error {
		if _, err := time.Parse(timeLayout, s); err == nil {
			return nil
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return nil
		}
		return fmt.Errorf("not a Jira timestamp: %q", s)
	})
	uri := openapi3.NewCallbackValidator(func(s string) error {
		if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			return fmt.Errorf("not an absolute URI: %q", s)
		}
		return nil
	})
	return []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("date-time", jiraTime),
		openapi3.WithStringFormatValidator("uri", uri),
	}
}
