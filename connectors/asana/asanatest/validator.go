// Package asanatest checks HTTP traffic against Asana's API contract: the
// official OpenAPI document (the subset in testdata/asana/openapi-subset.yaml)
// and the rules Asana documents beside it. Tests wrap a handler, usually the
// sandbox, with Validator.Wrap; every request under /api/1.0 and every
// response to it is checked, and each violation fails the test through
// t.Errorf. Client tests and sandbox tests share it, so both hold the
// sandbox to the same contract.
//
// Requests and responses are validated with kin-openapi, string formats
// date, date-time, email and uri included. A request must carry a Bearer
// token (whether it is the right one is the handler's business). Beyond the
// schemas, every response must follow these rules:
//   - 429 carries Retry-After in whole seconds, at least 1;
//   - 201 carries a Location under /api/1.0/;
//   - 401 has exactly the body {"errors":[{"message":"Not Authorized"}]};
//   - a status its operation does not document is a violation, unless the
//     Validator was made with AllowStatus for it; an allowed error status
//     must still answer a JSON ErrorResponse, as Asana's 503s do.
//
// # Breaking the contract on purpose
//
// A request that breaks the document is not reported when the handler
// answers it with a 4xx status: rejecting bad input is the handler's job.
// A test that sends such a request should say so with the ExpectHeader
// request header, which Wrap reads and removes before the handler sees the
// request, and which makes the breach part of what is checked:
//   - ExpectInvalidRequest: the request must break the document; if it
//     conforms, that is the violation reported. Whatever the status, the
//     request itself is not reported.
//   - ExpectUnknownRoute: the method and path must not be an operation of
//     the document (tests of the 404 answer); the answer must be a JSON
//     ErrorResponse.
//   - ExpectStreamedBody: the body may stall until the handler answers (a
//     test holding requests in flight), so Wrap does not wait for it and
//     leaves it out of validation.
//
// Without ExpectUnknownRoute, a path under /api/1.0 that is not an
// operation of the document is a violation.
//
// The checks themselves are connectors/internal/oapitest's; this package
// holds what is Asana's: the document, the Bearer token, the rules above
// and ErrorResponse as the error body.
//
// It is a test-support package: only tests should import it.
package asanatest

import (
	"net/http"
	"testing"

	"github.com/tandem-sync/tandem/connectors/internal/oapitest"
)

// DefaultMaxBody is the largest request or response body that is buffered
// and validated. Attachment uploads reach 100 MB; buffering those in every
// test would cost more than it finds, so larger bodies are passed through
// and only their method, path, query, headers and status are checked.
const DefaultMaxBody = oapitest.DefaultMaxBody

// Validator checks requests and responses against the Asana OpenAPI subset.
// It is safe for concurrent use by many handlers.
type Validator struct {
	v *oapitest.Validator
}

// Option adjusts a Validator.
type Option func(*Validator)

// AllowStatus lets an operation answer with these status codes though the
// document does not list them for it. Every status the handler sends must
// otherwise be documented for its operation; the document lists 200/201,
// 400, 401, 403, 404, 429 and 500 (412 on events), while Asana also sends
// 402, 451 and 503, and a sandbox injecting faults may too. An allowed
// error status (400 and up) must still carry a JSON ErrorResponse; other
// allowed statuses pass unchecked. A status the operation documents is
// validated against the document, allowed or not.
func AllowStatus(codes ...int) Option {
	return func(v *Validator) { v.v.AllowStatus(codes...) }
}

// NewValidator loads the document; it fails t (t.Fatal) if it can't. The
// parsed document is shared by every Validator in the process.
func NewValidator(t testing.TB, opts ...Option) *Validator {
	t.Helper()
	return oapitest.Apply(&Validator{v: oapitest.NewValidator(t, loadContract)}, opts)
}

// Checked returns how many requests and responses were validated, so a test
// can assert validation really ran. A response counts once the handler has
// returned; close the server (httptest.Server.Close waits for handlers)
// before asserting on the count.
func (v *Validator) Checked() int { return v.v.Checked() }

// Wrap returns an http.Handler that validates every request under /api/1.0
// before passing it to next, and every response after. Each violation is
// reported with t.Errorf naming method, path, operation, status and the
// violation; t.Errorf is safe from handler goroutines, t.Fatal would not be
// and is never called here. Requests outside /api/1.0 (a sandbox's
// download URLs) pass through unchecked. An operation the document lacks
// is itself a violation.
//
// A request that breaks the document is not reported when the handler
// answers it with a 4xx status: rejecting bad input is the handler's job,
// and tests of that rejection must be able to send it (ExpectHeader lets
// them assert the breach). The 4xx response is still validated. A response
// cut off by hijacking the connection, or by panicking with
// http.ErrAbortHandler, has nothing to validate.
//
// Wrap must be used only while t is running: close the server before the
// test ends so no handler reports on a finished test.
func (v *Validator) Wrap(t testing.TB, next http.Handler) http.Handler { return v.v.Wrap(t, next) }
