// Package jiratest checks HTTP traffic against Jira Cloud's REST API v3
// contract: the official OpenAPI document (the subset in
// testdata/jira/openapi-subset.json) and the rules Jira documents beside
// it. Tests wrap a handler, usually the sandbox, with Validator.Wrap; every
// request under /rest/api/3 and every answer to it is checked, and each
// violation fails the test through t.Errorf with the method, path, status
// and what is wrong. Client tests and sandbox tests share it, so the
// client's requests and the sandbox's answers are held to the same
// document.
//
// Requests and responses are validated with kin-openapi. A request must
// carry Basic credentials (whether they are right is the handler's
// business). Beyond the schemas:
//   - an attachment upload carries X-Atlassian-Token: no-check, as the
//     operation's description requires, and at least one part named file;
//   - every error status (400 and up) answers a JSON ErrorCollection;
//   - 429 carries Retry-After in whole seconds (at least 1),
//     X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset and
//     RateLimit-Reason;
//   - a status its operation does not document is a violation, unless it
//     is 429, 500 or 503 (Jira's gateway answers those to any operation)
//     or the Validator was made with AllowStatus for it.
//
// # Known exceptions
//
// Where the document and the real API disagree, the real API wins, in
// these places only:
//   - Operations of the real API the subset lacks are checked against the
//     subset's component schemas only (their parameters and statuses are
//     not): an issue's transitions (GET
//     /rest/api/3/issue/{k}/transitions, getTransitions), the 200 answer
//     as an object whose transitions are IssueTransitions (the real
//     document's Transitions wrapper is not in the subset); a transition
//     (POST the same path, doTransition), the body as IssueUpdateDetails;
//     and user search (GET /rest/api/3/user/search, findUsers), the 200
//     answer as an array of User.
//   - date-time: Jira's timestamps ("2006-01-02T15:04:05.000+0000", no
//     colon in the offset) are accepted beside RFC 3339.
//   - Untyped nullable: a schema with no type (IssueBean.fields' values)
//     accepts null, as OpenAPI 3.0.3 reads it and real Jira sends it
//     ("description": null); kin-openapi alone would reject it.
//   - Multipart array bodies: kin-openapi can't decode a multipart body
//     whose schema is an array (the attachment upload), so that body is
//     checked for parts named file instead of against the schema.
//
// The checks themselves are connectors/internal/oapitest's; this package
// holds what is Jira's: the document, Basic credentials, the rules and
// exceptions above and ErrorCollection as the error body.
//
// # Breaking the contract on purpose
//
// A request that breaks the document is not reported when the handler
// answers it with a 4xx status: rejecting bad input is the handler's job.
// A test that sends such a request should say so with the ExpectHeader
// request header, which Wrap reads and removes before the handler sees
// the request, and which makes the breach part of what is checked (see
// ExpectInvalidRequest and ExpectUnknownRoute). Without
// ExpectUnknownRoute, a path under /rest/api/3 that is not an operation of
// the document is a violation.
//
// It is a test-support package: only tests should import it.
package jiratest

import (
	"net/http"
	"testing"

	"github.com/tandem-sync/tandem/connectors/internal/oapitest"
)

// DefaultMaxBody is the largest request or response body that is buffered
// and validated. Larger bodies (big attachments) are passed through, and
// only their method, path, query, headers and status are checked.
const DefaultMaxBody = oapitest.DefaultMaxBody

// Validator checks requests and responses against the Jira OpenAPI subset.
// It is safe for concurrent use by many handlers.
type Validator struct {
	t testing.TB
	v *oapitest.Validator
}

// NewValidator loads the document; it fails t (t.Fatal) if it can't.
// Violations are reported to t. The parsed document is shared by every
// Validator in the process.
func NewValidator(t testing.TB, opts ...Option) *Validator {
	t.Helper()
	return oapitest.Apply(&Validator{t: t, v: oapitest.NewValidator(t, loadContract)}, opts)
}

// Checked returns how many requests and responses were validated, so a test
// can assert validation really ran. A response counts once the handler has
// returned; close the server (httptest.Server.Close waits for handlers)
// before asserting on the count.
func (v *Validator) Checked() int { return v.v.Checked() }

// Wrap returns an http.Handler that validates every request under
// /rest/api/3 before passing it to next, and every response after. Each
// violation is reported with t.Errorf, which is safe from handler
// goroutines; t.Fatal would not be and is never called here. Requests
// outside /rest/api/3 (the sandbox's web pages and media URLs) pass
// through unchecked. A response cut off by hijacking the connection, or
// by panicking with http.ErrAbortHandler, has nothing to validate.
//
// Wrap must be used only while t is running: close the server before the
// test ends so no handler reports on a finished test.
func (v *Validator) Wrap(next http.Handler) http.Handler { return v.v.Wrap(v.t, next) }

// Option adjusts a Validator.
type Option func(*Validator)

// AllowStatus lets any operation answer with these status codes though the
// document does not list them for it (429, 500 and 503 always are). An
// allowed error status must still carry a JSON ErrorCollection. A status
// the operation documents is validated against the document, allowed or
// not.
func AllowStatus(codes ...int) Option {
	return func(v *Validator) { v.v.AllowStatus(codes...) }
}
