package asana

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/apiclient"
)

// Sentinel errors callers branch on with errors.Is. Every *Error returned by
// the client matches exactly one of them (ErrServer for 5xx).
var (
	// ErrInvalidRequest is Asana's 400: the request was malformed or a value
	// was refused; the *Error carries Asana's message.
	ErrInvalidRequest = errors.New("asana: invalid request")
	// ErrUnauthorized is a 401: the personal access token is missing,
	// wrong, revoked or expired.
	ErrUnauthorized = errors.New("asana: not authorized")
	// ErrPaymentRequired is a 402: the feature needs a paid plan.
	ErrPaymentRequired = errors.New("asana: payment required")
	// ErrForbidden is a 403: the token's user may not see or change this.
	ErrForbidden = errors.New("asana: forbidden")
	// ErrNotFound is a 404: the object does not exist or is not visible.
	ErrNotFound = errors.New("asana: not found")
	// ErrRateLimited is a 429 that was still refused after every retry.
	ErrRateLimited = errors.New("asana: rate limited")
	// ErrServer is a 5xx that persisted after every retry.
	ErrServer = errors.New("asana: server error")
	// ErrTooLarge is returned before any byte is sent when an upload is over
	// Asana's attachment limit.
	ErrTooLarge = errors.New("asana: attachment over the 100 MB limit")
	// ErrOutcomeUnknown marks a create (POST) that failed after it reached
	// Asana: it may or may not have been applied. Asana has no idempotency
	// keys, so the client does not send it again; the caller looks for the
	// object before creating it again.
	ErrOutcomeUnknown = errors.New("asana: the request may or may not have been applied")
)

// Error is an error answer from Asana, decoded from its
// {"errors":[{"message","help","phrase"}]} envelope.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Method and Path name the call that failed (path without the query).
	Method, Path string
	// Messages are Asana's messages, in order.
	Messages []string
	// Help is Asana's pointer to documentation, if any.
	Help string
	// Phrase is the error phrase Asana attaches to 500s for support.
	Phrase string
	// RetryAfter is the server's Retry-After on a 429 or 503, if any.
	RetryAfter time.Duration
	// OutcomeUnknown is set on a create that failed with a server error:
	// Asana may have applied it (errors.Is(err, ErrOutcomeUnknown)).
	OutcomeUnknown bool

	// body is the raw answer, for the one call (events' 412) whose error
	// answer carries data.
	body []byte
}

// Error says what failed, on which call, and Asana's own words.
func (e *Error) Error() string {
	msg := strings.Join(e.Messages, "; ")
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	s := fmt.Sprintf("asana: %s %s: %d %s", e.Method, e.Path, e.Status, msg)
	if e.Phrase != "" {
		s += " (phrase: " + e.Phrase + ")"
	}
	return s
}

// Is maps the status code onto the package's sentinel errors.
func (e *Error) Is(target error) bool {
	return target == sentinelFor(e.Status) || (target == ErrOutcomeUnknown && e.OutcomeUnknown)
}

func sentinelFor(status int) error {
	switch {
	case status == http.StatusBadRequest:
		return ErrInvalidRequest
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusPaymentRequired:
		return ErrPaymentRequired
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrServer
	}
	return nil
}

// errorBody is Asana's error envelope.
type errorBody struct {
	Errors []struct {
		Message string `json:"message"`
		Help    string `json:"help"`
		Phrase  string `json:"phrase"`
	} `json:"errors"`
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
	e := &Error{Status: status, Method: method, Path: path, RetryAfter: apiclient.ParseRetryAfter(header), body: body}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && len(eb.Errors) > 0 {
		for _, m := range eb.Errors {
			if m.Message != "" {
				e.Messages = append(e.Messages, m.Message)
			}
			if e.Help == "" {
				e.Help = m.Help
			}
			if e.Phrase == "" {
				e.Phrase = m.Phrase
			}
		}
		return e
	}
	if text := apiclient.BodyText(body); text != "" {
		e.Messages = []string{text}
	}
	return e
}
