package jiratest

import (
	"fmt"
	"net/http"
	"strings"
)

// ExpectHeader is the request header through which a test tells Wrap that
// a request steps outside the contract on purpose. Its value is
// ExpectInvalidRequest or ExpectUnknownRoute. Wrap removes the header
// before the handler sees the request, so the handler gets what a client
// would send to Jira.
const ExpectHeader = "X-Jiratest-Expect"

// Values of ExpectHeader.
const (
	// ExpectInvalidRequest marks a request that breaks the contract on
	// purpose: Wrap reports it if it conforms, so a test of the handler's
	// rejection can't silently stop testing one. Such a request is not
	// reported whatever the status.
	ExpectInvalidRequest = "invalid-request"
	// ExpectUnknownRoute marks a request to a method and path that are not
	// an operation of the document (tests of the 404 answer): Wrap reports
	// it if they are one, and checks the answer is a JSON ErrorCollection.
	ExpectUnknownRoute = "unknown-route"
)

// expectations is what a request's ExpectHeader asked for.
type expectations struct {
	invalidRequest bool
	unknownRoute   bool
	problem        string // the header itself is wrong
}

// takeExpectations reads ExpectHeader from r and removes it.
func takeExpectations(r *http.Request) expectations {
	var e expectations
	for _, line := range r.Header.Values(ExpectHeader) {
		for _, value := range strings.Split(line, ",") {
			switch value = strings.TrimSpace(value); value {
			case ExpectInvalidRequest:
				e.invalidRequest = true
			case ExpectUnknownRoute:
				e.unknownRoute = true
			default:
				e.problem = fmt.Sprintf("%s: unknown value %q", ExpectHeader, value)
			}
		}
	}
	if e.invalidRequest && e.unknownRoute && e.problem == "" {
		// A request to no operation has nothing to be invalid against.
		e.problem = fmt.Sprintf("%s: %s and %s exclude each other", ExpectHeader, ExpectInvalidRequest, ExpectUnknownRoute)
	}
	r.Header.Del(ExpectHeader)
	return e
}

func (e expectations) set() bool {
	return e.invalidRequest || e.unknownRoute || e.problem != ""
}

// requestViolation says what is wrong with the request, given what the
// test expected of it and the status it was answered with (0 when it got
// no answer).
func (ex *exchange) requestViolation(status int) string {
	var out []string
	if ex.expect.problem != "" {
		out = append(out, ex.expect.problem)
	}
	switch {
	case ex.expect.unknownRoute && ex.unknown == nil:
		out = append(out, fmt.Sprintf("expected no operation (%s: %s), but the document has this one",
			ExpectHeader, ExpectUnknownRoute))
	case ex.expect.unknownRoute:
	case ex.unknown != nil:
		out = append(out, ex.unknown.Error())
	case ex.expect.invalidRequest && len(ex.invalid) == 0:
		out = append(out, fmt.Sprintf("request conforms to the document, but was expected not to (%s: %s)",
			ExpectHeader, ExpectInvalidRequest))
	case len(ex.invalid) > 0 && !ex.expect.invalidRequest && (status < 400 || status > 499):
		out = append(out, "request: "+strings.Join(ex.invalid, "; "))
	}
	return strings.Join(out, "; ")
}
