package sandbox

import (
	"fmt"
	"net/http"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"
)

// apiError is a Jira error answer. Handlers return it; the api wrapper
// writes it as Jira's ErrorCollection.
type apiError struct {
	status   int
	messages []string          // errorMessages
	fields   map[string]string // errors, by field
	header   http.Header       // extra headers (Retry-After and friends)
	noStatus bool              // most Jira errors omit "status"; see writeError
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %v %v", e.status, e.messages, e.fields)
}

func newError(status int, format string, args ...any) *apiError {
	return &apiError{status: status, messages: []string{fmt.Sprintf(format, args...)}}
}

func badRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, format, args...)
}

// fieldErrors is the 400 Jira answers to bad issue input: one message per
// field, no errorMessages.
func fieldErrors(fields map[string]string) *apiError {
	return &apiError{status: http.StatusBadRequest, fields: fields}
}

// issueNotFound is Jira's 404 for an issue that does not exist or cannot be
// seen; the two are deliberately indistinguishable.
func issueNotFound() *apiError {
	return newError(http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
}

// notAuthenticated is the 401 Jira Cloud answers to missing or wrong
// credentials.
func notAuthenticated() *apiError {
	e := newError(http.StatusUnauthorized, "Client must be authenticated to access this resource.")
	e.header = http.Header{"Www-Authenticate": {`Basic realm="protected-area"`}}
	return e
}

// writeError writes e as {"errorMessages":[…],"errors":{…}}; the status
// member is added for the statuses where Jira's gateway adds it (429 and
// the 5xx family).
func writeError(w http.ResponseWriter, e *apiError) {
	for k, vs := range e.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := &object{}
	msgs := e.messages
	if msgs == nil {
		msgs = []string{}
	}
	body.Set("errorMessages", msgs)
	fields := e.fields
	if fields == nil {
		fields = map[string]string{}
	}
	body.Set("errors", fields)
	if !e.noStatus && (e.status == http.StatusTooManyRequests || e.status >= 500) {
		body.Set("status", e.status)
	}
	writeJSON(w, e.status, body)
}

// writeJSON writes v with Jira's content type. HTML is not escaped, as
// Jira does not.
func writeJSON(w http.ResponseWriter, status int, v any) {
	sandboxkit.JSONStyle{
		ContentType: "application/json;charset=UTF-8",
		Broken:      `{"errorMessages":["Internal server error"],"errors":{},"status":500}`,
	}.Write(w, status, v, false)
}

// object is a JSON object that keeps its keys in insertion order, so that
// answers read like Jira's (expand, id, self, key first).
type object = sandboxkit.Object
