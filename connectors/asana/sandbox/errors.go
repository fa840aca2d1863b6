package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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
	item.set("message", e.message)
	if !e.noHelp {
		item.set("help", helpText)
	}
	if e.phrase != "" {
		item.set("phrase", e.phrase)
	}
	body := &object{}
	body.set("errors", []any{item})
	if e.sync != "" {
		body.set("sync", e.sync)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, body, pretty)
}

// writeJSON writes v with Asana's content type. HTML is not escaped so that
// html_notes stay readable, as Asana sends them.
func writeJSON(w http.ResponseWriter, status int, v any, pretty bool) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"errors":[{"message":"Server Error","phrase":"1 broken sandbox encoder"}]}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// object is a JSON object that keeps its keys in insertion order, so that
// answers read like Asana's (gid and resource_type first).
type object struct {
	keys []string
	vals []any
}

func (o *object) set(k string, v any) {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

// MarshalJSON writes the members in insertion order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode adds a newline
		b.WriteByte(':')
		if err := enc.Encode(o.vals[i]); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
