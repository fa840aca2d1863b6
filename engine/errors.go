package engine

import (
	"errors"
	"net/http"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// Errors callers branch on; the HTTP layer maps them to status codes.
var (
	// ErrBadRequest is input the engine can't act on. It is
	// tracker.ErrBadRequest, the value connectors return.
	ErrBadRequest = tracker.ErrBadRequest
	// ErrNotFound is an entity this node (or its tracker) doesn't have. It
	// is tracker.ErrNotFound, the value connectors return.
	ErrNotFound = tracker.ErrNotFound
	// ErrConflict is an action the entity's state doesn't allow now.
	ErrConflict = errors.New("conflict")
)

// errorCodes gives each error a stable code and an HTTP status, so a node
// can tell another (or the console) exactly what went wrong, and the other
// side can map the code back to the same sentinel error.
var errorCodes = []struct {
	err    error
	code   string
	status int
}{
	{ErrInvitationMalformed, "invitation_malformed", http.StatusBadRequest},
	{ErrInvitationTampered, "invitation_tampered", http.StatusBadRequest},
	{ErrInvitationExpired, "invitation_expired", http.StatusGone},
	{ErrInvitationUsed, "invitation_used", http.StatusGone},
	{ErrInvitationRefused, "invitation_refused", http.StatusForbidden},
	{ErrUnknownProject, "unknown_project", http.StatusBadRequest},
	{ErrUnreachable, "unreachable", http.StatusBadGateway},
	{ErrNotTandem, "not_tandem", http.StatusBadGateway},
	{ErrIncompatible, "incompatible", http.StatusBadGateway},
	{ErrDiskFull, "disk_full", http.StatusInsufficientStorage},
	{ErrURLMismatch, "url_mismatch", http.StatusBadRequest},
	{ErrBadRequest, "bad_request", http.StatusBadRequest},
	{ErrNotFound, "not_found", http.StatusNotFound},
	{ErrConflict, "conflict", http.StatusConflict},
}

// ErrorCode returns err's code and HTTP status; unknown errors are 500s.
func ErrorCode(err error) (code string, status int) {
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return e.code, e.status
		}
	}
	return "internal", http.StatusInternalServerError
}

// ErrorForCode maps a code from another node's answer (or this node's API)
// back to its sentinel error, so errors.Is works across the wire; nil for
// a code it doesn't know.
func ErrorForCode(code string) error {
	for _, e := range errorCodes {
		if e.code == code {
			return e.err
		}
	}
	return nil
}

// Errorf formats a message for users and marks it with kind (ErrBadRequest,
// ErrNotFound, ...), so errors.Is(err, kind) holds and ErrorCode maps it,
// while the message reads as written. It is tracker.Errorf, so an error a
// connector marks and one the engine marks behave alike.
func Errorf(kind error, format string, args ...any) error {
	return tracker.Errorf(kind, format, args...)
}
