package asanatest

import "github.com/tandem-sync/tandem/connectors/internal/oapitest"

// ExpectHeader is the request header through which a test tells Wrap that
// a request steps outside the contract on purpose. Its value is one or more
// of ExpectInvalidRequest, ExpectUnknownRoute and ExpectStreamedBody,
// separated by commas. Wrap removes the header before the handler sees the
// request, so the handler gets what a client would send to Asana.
const ExpectHeader = "X-Asanatest-Expect"

// Values of ExpectHeader.
const (
	// ExpectInvalidRequest marks a request that breaks the document on
	// purpose: Wrap reports it if it conforms, so a test of the handler's
	// rejection can't silently stop testing one. Such a request is not
	// reported whatever the status, which also covers requests Asana
	// accepts though the document forbids them.
	ExpectInvalidRequest = oapitest.ExpectInvalidRequest
	// ExpectUnknownRoute marks a request to a method and path that are not
	// an operation of the document (tests of the 404 answer): Wrap reports
	// it if they are one, and checks the answer is an Asana error body.
	ExpectUnknownRoute = oapitest.ExpectUnknownRoute
	// ExpectStreamedBody marks a request whose body may stall until the
	// handler answers (a test holding requests in flight): Wrap passes the
	// body through without waiting for it, and checks only the method,
	// path, query and headers.
	ExpectStreamedBody = oapitest.ExpectStreamedBody
)
