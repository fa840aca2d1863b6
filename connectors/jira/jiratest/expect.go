package jiratest

import "github.com/tandem-sync/tandem/connectors/internal/oapitest"

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
	ExpectInvalidRequest = oapitest.ExpectInvalidRequest
	// ExpectUnknownRoute marks a request to a method and path that are not
	// an operation of the document (tests of the 404 answer): Wrap reports
	// it if they are one, and checks the answer is a JSON ErrorCollection.
	ExpectUnknownRoute = oapitest.ExpectUnknownRoute
)
