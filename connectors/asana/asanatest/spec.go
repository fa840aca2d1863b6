package asanatest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specPath is the document's place in the module: a verbatim copy of
// shared/asana/openapi-subset.yaml, kept in the repository so CI has it.
var specPath = filepath.Join("testdata", "asana", "openapi-subset.yaml")

// apiPrefix is the path of the document's server URL,
// https://app.asana.com/api/1.0. Tests serve the API from loopback, so
// operations are matched by path alone under this prefix.
const apiPrefix = "/api/1.0"

// spec is the parsed document and its router. Both are read-only once built,
// which is what makes sharing them between tests and handler goroutines safe.
type spec struct {
	doc    *openapi3.T
	router routers.Router
	// errorResponse is the document's ErrorResponse schema, which every
	// error answer must follow, documented for its operation or not.
	errorResponse *openapi3.Schema
}

// The parsed document is the one piece of package-level state: parsing it
// costs tens of milliseconds (several times that under -race), and every
// sandbox and client test builds a Validator. It never changes after Do.
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

// readSpec parses and checks the document, then points its only server at
// the path prefix so the router matches any host and scheme.
func readSpec(path string) (*spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("asanatest: load %s: %w", path, err)
	}
	// The subset validates cleanly with kin-openapi v0.153.0; if a future
	// copy does not, that is a problem with the copy, reported here rather
	// than patched in code.
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("asanatest: %s is not a valid OpenAPI document: %w", path, err)
	}
	errRef := doc.Components.Schemas["ErrorResponse"]
	if errRef == nil || errRef.Value == nil {
		return nil, fmt.Errorf("asanatest: %s has no ErrorResponse schema", path)
	}
	doc.Servers = openapi3.Servers{{URL: apiPrefix}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("asanatest: route %s: %w", path, err)
	}
	return &spec{doc: doc, router: router, errorResponse: errRef.Value}, nil
}

// moduleRoot walks up from the working directory (a package directory under
// go test) to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("asanatest: find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("asanatest: find module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("asanatest: find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}
