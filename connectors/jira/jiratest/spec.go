package jiratest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
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

// spec is the parsed document and its router. Both are read-only once built,
// which is what makes sharing them between tests and handler goroutines safe.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

// The parsed document is the one piece of package-level state: parsing it
// costs tens of milliseconds (more under -race), and every sandbox and
// client test builds a Validator. It never changes after Do.
var (
	specOnce   sync.Once
	sharedSpec *spec
	specErr    error
)

func loadSpec() (*spec, error) {
	specOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			specErr = err
			return
		}
		sharedSpec, specErr = readSpec(filepath.Join(root, specPath))
	})
	return sharedSpec, specErr
}

// readSpec parses and checks the document, relaxes untyped schemas to
// accept null, and points its server at the root so the router matches any
// host and scheme.
func readSpec(path string) (*spec, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("jiratest: load %s: %w", path, err)
	}
	// Atlassian's examples are JSON text in strings, not values; the
	// schemas themselves must be valid.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("jiratest: %s is not a valid OpenAPI document: %w", path, err)
	}
	for _, name := range []string{"ErrorCollection", "Comment"} {
		if ref := doc.Components.Schemas[name]; ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("jiratest: %s has no %s schema", path, name)
		}
	}
	visited := map[*openapi3.Schema]bool{}
	for _, ref := range doc.Components.Schemas {
		untypedNullable(ref, visited)
	}
	doc.Servers = openapi3.Servers{{URL: "/"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("jiratest: route %s: %w", path, err)
	}
	return &spec{doc: doc, router: router}, nil
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

// moduleRoot walks up from the working directory (a package directory under
// go test) to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("jiratest: find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("jiratest: find module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("jiratest: find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}
