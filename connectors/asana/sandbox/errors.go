package sandbox

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"
)

// helpText is the help line Asana puts on its error objects.
const helpText = "For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors"

// apiError is an Asana error answer. Handlers return it; the api wrapper
// writes it.
type apiError struct {
	status     int
	message    string
	phrase     string // 500s only, like Asana
	sync       string // 412 from /events carries a fresh sync token
	retryAfter int    // 429: seconds
	noHelp     bool   // the 401 body is bare in Asana's docs
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.message) }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) *apiError {
	return &apiError{status: http.StatusForbidden, message: fmt.Sprintf(format, args...)}
}

// unknownObject is the 404 for a gid given in the path.
func unknownObject(gid string) *apiError {
	return &apiError{status: http.StatusNotFound, message: gid + ": Unknown object: " + gid}
}

// unknownParam is the 404 for a gid given in a named parameter or field.
func unknownParam(name, gid string) *apiError {
	return &apiError{status: http.StatusNotFound, message: name + ": Unknown object: " + gid}
}

func missingInput(name string) *apiError { return badRequest("%s: Missing input", name) }

func tooManyRequests(retryAfter int) *apiError {
	return &apiError{
		status:     http.StatusTooManyRequests,
		message:    "You have made too many requests recently. Please, be chill.",
		retryAfter: retryAfter,
	}
}

// writeError writes e in Asana's error envelope.
func writeError(w http.ResponseWriter, pretty bool, e *apiError) {
	item := &object{}
	item.Set("message", e.message)
	if !e.noHelp {
		item.Set("help", helpText)
	}
	if e.phrase != "" {
		item.Set("phrase", e.phrase)
	}
	body := &object{}
	body.Set("errors", []any{item})
	if e.sync != "" {
		body.Set("sync", e.sync)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, body, pretty)
}

// writeJSON writes v with Asana's content type. HTML is not escaped so that
// html_notes stay readable, as Asana sends them.
func writeJSON(w http.ResponseWriter, status int, v any, pretty bool) {
	sandboxkit.JSONStyle{
		ContentType: "application/json; charset=UTF-8",
		Broken:      `{"errors":[{"message":"Server Error","phrase":"1 broken sandbox encoder"}]}`,
	}.Write(w, status, v, pretty)
}

// object is a JSON object that keeps its keys in insertion order, so that
// answers read like Asana's (gid and resource_type first).
type object = sandboxkit.Object
