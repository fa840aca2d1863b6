package jira

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/apiclient"
)

// Sentinel errors callers branch on with errors.Is. Every *Error returned by
// the client matches at most one of them (ErrServer for 5xx).
var (
	// ErrInvalidRequest is a 400 or 422: the request was malformed or a
	// value was refused; the *Error carries Jira's messages.
	ErrInvalidRequest = errors.New("jira: invalid request")
	// ErrUnauthorized is a 401: the email or API token is wrong, or the
	// token was revoked.
	ErrUnauthorized = errors.New("jira: not authorized")
	// ErrForbidden is a 403: the account may not do this.
	ErrForbidden = errors.New("jira: forbidden")
	// ErrNotFound is a 404: the object does not exist, or the account may
	// not see it (Jira answers both the same way).
	ErrNotFound = errors.New("jira: not found")
	// ErrConflict is a 409 (a conflicting update) that persisted after
	// every retry.
	ErrConflict = errors.New("jira: conflicting update")
	// ErrTooLarge is a 413, or an upload over the tracker's limit refused
	// before any byte was sent.
	ErrTooLarge = errors.New("jira: too large")
	// ErrRateLimited is a 429 that was still refused after every retry.
	ErrRateLimited = errors.New("jira: rate limited")
	// ErrServer is a 5xx that persisted after every retry.
	ErrServer = errors.New("jira: server error")
	// ErrOutcomeUnknown marks a create (POST) that failed after it reached
	// Jira: it may or may not have been applied. Jira has no idempotency
	// keys, so the client does not send it again; the caller looks for the
	// object before creating it again.
	ErrOutcomeUnknown = errors.New("jira: the request may or may not have been applied")
)

// Error is an error answer from Jira, decoded from its
// {"errorMessages":[…],"errors":{field:message}} envelope.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Method and Path name the call that failed (path without the query).
	Method, Path string
	// Messages are Jira's errorMessages, in order.
	Messages []string
	// Fields are Jira's per-field errors (field name → message).
	Fields map[string]string
	// RetryAfter is the server's Retry-After on a 429 or 503, if any.
	RetryAfter time.Duration
	// OutcomeUnknown is set on a create that failed with a server error:
	// Jira may have applied it (errors.Is(err, ErrOutcomeUnknown)).
	OutcomeUnknown bool
}

// Error says what failed, on which call, and Jira's own words.
func (e *Error) Error() string {
	msgs := slices.Clone(e.Messages)
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		msgs = append(msgs, k+": "+e.Fields[k])
	}
	msg := strings.Join(msgs, "; ")
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("jira: %s %s: %d %s", e.Method, e.Path, e.Status, msg)
}

// Is maps the status code onto the package's sentinel errors.
func (e *Error) Is(target error) bool {
	return target == sentinelFor(e.Status) || (target == ErrOutcomeUnknown && e.OutcomeUnknown)
}

func sentinelFor(status int) error {
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return ErrInvalidRequest
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrServer
	}
	return nil
}

// errorBody is Jira's error envelope (ErrorCollection).
type errorBody struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

// decodeAnswer is decodeError for the shared client, which says when a
// create's outcome is unknown.
func decodeAnswer(method, path string, status int, header http.Header, body []byte, unknown bool) error {
	e := decodeError(method, path, status, header, body)
	e.OutcomeUnknown = unknown
	return e
}

// decodeError builds an *Error from a non-2xx answer. The body may be
// anything (a proxy's HTML page, nothing at all); what can't be decoded is
// kept short so a log line stays one line.
func decodeError(method, path string, status int, header http.Header, body []byte) *Error {
	e := &Error{Status: status, Method: method, Path: path, RetryAfter: apiclient.ParseRetryAfter(header)}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && (len(eb.ErrorMessages) > 0 || len(eb.Errors) > 0) {
		for _, m := range eb.ErrorMessages {
			if m = strings.TrimSpace(m); m != "" {
				e.Messages = append(e.Messages, m)
			}
		}
		if len(eb.Errors) > 0 {
			e.Fields = eb.Errors
		}
		return e
	}
	if text := apiclient.BodyText(body); text != "" {
		e.Messages = []string{text}
	}
	return e
}
