package oapitest

import (
	"fmt"
	"net/http"
	"strings"
)

// Values of a contract's ExpectHeader, through which a test tells Wrap
// that a request steps outside the contract on purpose. The header holds
// one or more of them, separated by commas; Wrap removes it before the
// handler sees the request, so the handler gets what a client would send.
const (
	// ExpectInvalidRequest marks a request that breaks the document on
	// purpose: Wrap reports it if it conforms, so a test of the handler's
	// rejection can't silently stop testing one. Such a request is not
	// reported whatever the status, which also covers requests the real
	// API accepts though the document forbids them.
	ExpectInvalidRequest = "invalid-request"
	// ExpectUnknownRoute marks a request to a method and path that are not
	// an operation of the document (tests of the 404 answer): Wrap reports
	// it if they are one, and checks the answer is the tracker's error
	// body.
	ExpectUnknownRoute = "unknown-route"
	// ExpectStreamedBody marks a request whose body may stall until the
	// handler answers (a test holding requests in flight): Wrap passes the
	// body through without waiting for it, and checks only the method,
	// path, query and headers. Only a Config with StreamedBody accepts it.
	ExpectStreamedBody = "streamed-body"
)

// expectations is what a request's ExpectHeader asked for.
type expectations struct {
	invalidRequest bool
	unknownRoute   bool
	streamedBody   bool
	problem        string // the header itself is wrong
}

// takeExpectations reads the contract's ExpectHeader from r and removes it.
func (c *Contract) takeExpectations(r *http.Request) expectations {
	var e expectations
	name := c.cfg.ExpectHeader
	for _, line := range r.Header.Values(name) {
		for _, value := range strings.Split(line, ",") {
			switch value = strings.TrimSpace(value); {
			case value == ExpectInvalidRequest:
				e.invalidRequest = true
			case value == ExpectUnknownRoute:
				e.unknownRoute = true
			case value == ExpectStreamedBody && c.cfg.StreamedBody:
				e.streamedBody = true
			default:
				e.problem = fmt.Sprintf("%s: unknown value %q", name, value)
			}
		}
	}
	if e.invalidRequest && e.unknownRoute && e.problem == "" {
		// A request to no operation has nothing to be invalid against.
		e.problem = fmt.Sprintf("%s: %s and %s exclude each other", name, ExpectInvalidRequest, ExpectUnknownRoute)
	}
	r.Header.Del(name)
	return e
}

func (e expectations) set() bool {
	return e.invalidRequest || e.unknownRoute || e.streamedBody || e.problem != ""
}

// requestViolation says what is wrong with the request, given what the
// test expected of it and the status it was answered with (0 when it got
// no answer).
func (ex *exchange) requestViolation(header string, status int) string {
	var out []string
	if ex.expect.problem != "" {
		out = append(out, ex.expect.problem)
	}
	switch {
	case ex.expect.unknownRoute && ex.input != nil:
		out = append(out, fmt.Sprintf("expected no operation (%s: %s), but the document has %s %s",
			header, ExpectUnknownRoute, ex.input.Route.Method, ex.input.Route.Path))
	case ex.expect.unknownRoute && ex.extra != nil:
		out = append(out, fmt.Sprintf("expected no operation (%s: %s), but this is one (%s)",
			header, ExpectUnknownRoute, ex.extra.Name))
	case ex.expect.unknownRoute:
	case ex.unknown != nil:
		out = append(out, ex.unknown.Error())
	case ex.expect.invalidRequest && len(ex.invalid) == 0:
		out = append(out, fmt.Sprintf("request conforms to the document, but was expected not to (%s: %s)",
			header, ExpectInvalidRequest))
	case len(ex.invalid) > 0 && !ex.expect.invalidRequest && (status < 400 || status > 499):
		out = append(out, "request: "+strings.Join(ex.invalid, "; "))
	}
	return strings.Join(out, "; ")
}
