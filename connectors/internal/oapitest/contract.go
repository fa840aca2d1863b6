// Package oapitest is the machinery behind the trackers' contract checks
// (asanatest, jiratest): it holds HTTP traffic against an official OpenAPI
// document with kin-openapi and reports each violation through t.Errorf.
// A tracker package describes its contract in a Config (the document, the
// path prefix its operations live under, how a request authenticates, the
// tracker's own rules as hooks and the places where the real API departs
// from the document) and wraps the Validator in its own exported API, so
// what is said about one tracker stays in that tracker's package.
//
// What every contract gets from here: requests and responses validated
// against the operation the router finds; a path under the prefix that is
// no operation reported; a status the operation does not document reported
// unless allowed; bodies over a limit passed through unbuffered; the
// ExpectHeader protocol for tests that break the contract on purpose; and
// one-line messages that name each offending value by its JSON path.
//
// It is a test-support package: only tests and the trackers' test-support
// packages should import it.
package oapitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Config describes one tracker's contract. Load keeps a copy; the hooks
// are called from handler goroutines, concurrently, and must not keep
// state.
type Config struct {
	// Name starts every report and note, so a failure says which
	// package found it: the tracker's test-support package name.
	Name string
	// Tracker names the document in reports ("not in the Jira OpenAPI
	// document").
	Tracker string
	// Document is the OpenAPI document's path from the module root.
	Document string
	// Prefix is the path the document's operations live under. Requests
	// outside it pass through unchecked.
	Prefix string
	// ServerURL replaces the document's servers so that operations are
	// matched by path alone, on any host and scheme (tests serve from
	// loopback): Prefix when the document's paths are relative to it, "/"
	// when they include it.
	ServerURL string
	// ValidationOptions relax the check of the document itself, where the
	// tracker's copy is known to need it.
	ValidationOptions []openapi3.ValidationOption
	// Prepare adjusts the parsed and validated document before it is
	// routed: the tracker's documented departures from it.
	Prepare func(*openapi3.T)
	// Formats checks the string formats the tracker's schemas use.
	Formats []openapi3.SchemaValidationOption
	// Authenticate stands in for the document's security schemes. It says
	// whether the credentials are there; whether they are right is the
	// handler's to answer.
	Authenticate openapi3filter.AuthenticationFunc
	// ExpectHeader is the request header of the ExpectHeader protocol (see
	// ExpectInvalidRequest).
	ExpectHeader string
	// StreamedBody accepts ExpectStreamedBody in ExpectHeader; without it,
	// that value is reported as unknown.
	StreamedBody bool
	// ErrorSchema names the component schema of the tracker's error body.
	// An error answer (400 and up) the document gives no schema for (an
	// allowed status, a path that is no operation) must be JSON and follow
	// it.
	ErrorSchema string
	// EveryError holds every error answer to ErrorSchema, also those whose
	// status the operation documents.
	EveryError bool
	// Allowed are statuses any operation may answer though the document
	// does not list them for it; AllowStatus adds to them per Validator.
	Allowed []int
	// Extras are operations of the real API that the document lacks.
	Extras []Extra
	// Request adds the tracker's rules for a request to an operation of
	// the document. body is the request body when complete; it must not
	// read r.Body. Each string returned is one violation.
	Request func(r *http.Request, route *routers.Route, body []byte, complete bool) []string
	// Response adds the tracker's rules for every answer that is checked,
	// whatever its operation. body is the answer's body when complete.
	Response func(status int, h http.Header, body []byte, complete bool) []string
}

// Extra is an operation of the real API that the document lacks. Its
// request and the answers it has a schema for are held to component
// schemas of the document; nothing else of it is checked.
//
// Body and Answers name a schema: a component schema of the document
// ("Comment"); "[]" before one for a JSON array of it ("[]User"); or a
// member's name and ":" before either for a JSON object that carries it
// under that member, its other members unchecked
// ("transitions:[]IssueTransition"), for an answer whose wrapper the
// document lacks along with its operation.
type Extra struct {
	// Name names the operation in reports, in place of an operationId.
	Name   string
	Method string
	// Path matches the whole request path.
	Path *regexp.Regexp
	// Security names the security scheme Authenticate is asked about.
	Security string
	// Body is the schema of the request body.
	Body string
	// Answers holds the schema of the answer's body by status.
	Answers map[int]string
}

// Contract is a parsed document with the tracker's rules. It is read-only
// once loaded, which is what makes sharing it between tests and handler
// goroutines safe.
type Contract struct {
	cfg     Config
	doc     *openapi3.T
	router  routers.Router
	schemas map[string]*openapi3.Schema // the component schemas the rules name
}

// Load reads cfg.Document from the module, checks it is a valid document
// holding every schema cfg names, applies cfg.Prepare and routes it.
// Parsing costs tens of milliseconds (more under -race), so a tracker
// package loads its Contract once per process.
func Load(cfg Config) (*Contract, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	path := filepath.Join(root, cfg.Document)
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: load %s: %w", cfg.Name, path, err)
	}
	// A document that does not validate is a problem with the copy,
	// reported here rather than patched in code.
	if err := doc.Validate(context.Background(), cfg.ValidationOptions...); err != nil {
		return nil, fmt.Errorf("%s: %s is not a valid OpenAPI document: %w", cfg.Name, path, err)
	}
	c := &Contract{cfg: cfg, doc: doc, schemas: map[string]*openapi3.Schema{}}
	names := []string{cfg.ErrorSchema}
	for _, e := range cfg.Extras {
		names = append(names, e.Body)
		for _, name := range e.Answers {
			names = append(names, name)
		}
	}
	for _, name := range names {
		if name == "" {
			continue
		}
		s, err := composed(doc, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", cfg.Name, path, err)
		}
		c.schemas[name] = s
	}
	if cfg.Prepare != nil {
		cfg.Prepare(doc)
	}
	doc.Servers = openapi3.Servers{{URL: cfg.ServerURL}}
	if c.router, err = gorillamux.NewRouter(doc); err != nil {
		return nil, fmt.Errorf("%s: route %s: %w", cfg.Name, path, err)
	}
	return c, nil
}

// composed builds the schema an Extra names (see Extra) from the
// document's component schemas.
func composed(doc *openapi3.T, name string) (*openapi3.Schema, error) {
	member, rest, wrapped := strings.Cut(name, ":")
	if !wrapped {
		rest = member
	}
	component, array := strings.CutPrefix(strings.TrimSpace(rest), "[]")
	ref := doc.Components.Schemas[component]
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("has no %s schema", component)
	}
	s := ref.Value
	if array {
		s = openapi3.NewArraySchema().WithItems(s)
	}
	if wrapped {
		member = strings.TrimSpace(member)
		if member == "" {
			return nil, fmt.Errorf("%q names no member", name)
		}
		s = openapi3.NewObjectSchema().WithProperty(member, s).WithAnyAdditionalProperties()
		s.Required = []string{member}
	}
	return s, nil
}

// ModuleRoot walks up from the working directory (a package directory
// under go test) to the directory holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("find module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// CheckCopy fails t unless the module's copy of a document (document, from
// the module root) equals the one the project's shared folder holds
// (shared, from that folder), whenever that folder is beside the checkout:
// it is for developers and CI.
func CheckCopy(t testing.TB, document, shared string) {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ours, err := os.ReadFile(filepath.Join(root, document))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := os.ReadFile(filepath.Join(root, "..", "shared", shared))
	if errors.Is(err, os.ErrNotExist) {
		t.Logf("no ../shared/%s beside the checkout; nothing to compare", shared)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, theirs) {
		t.Errorf("%s differs from ../shared/%s: copy the shared one over it", document, shared)
	}
}
