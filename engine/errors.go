package engine

import (
	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// Errors callers branch on; the HTTP layer maps them to status codes. They
// are the admin API contract's values, so errors.Is holds on either side
// of the API.
var (
	// ErrBadRequest is input the engine can't act on. It is
	// tracker.ErrBadRequest, the value connectors return.
	ErrBadRequest = adminapi.ErrBadRequest
	// ErrNotFound is an entity this node (or its tracker) doesn't have. It
	// is tracker.ErrNotFound, the value connectors return.
	ErrNotFound = adminapi.ErrNotFound
	// ErrConflict is an action the entity's state doesn't allow now.
	ErrConflict = adminapi.ErrConflict
	// ErrUnknownProject is returned for a project the node's tracker
	// doesn't have.
	ErrUnknownProject = adminapi.ErrUnknownProject
	// ErrURLMismatch is a node whose own account of its URL is not the URL
	// it was reached at: the URL in an invitation code, or the URL an admin
	// gave.
	ErrURLMismatch = adminapi.ErrURLMismatch
)

// Errors from probing another node, one per thing the admin can fix.
var (
	ErrUnreachable  = adminapi.ErrUnreachable
	ErrNotTandem    = adminapi.ErrNotTandem
	ErrIncompatible = adminapi.ErrIncompatible
)

// ErrorCode returns err's code and HTTP status; unknown errors are 500s.
func ErrorCode(err error) (code string, status int) { return adminapi.ErrorCode(err) }

// ErrorForCode maps a code from another node's answer (or this node's API)
// back to its sentinel error, so errors.Is works across the wire; nil for
// a code it doesn't know.
func ErrorForCode(code string) error { return adminapi.ErrorForCode(code) }

// Errorf formats a message for users and marks it with kind (ErrBadRequest,
// ErrNotFound, ...), so errors.Is(err, kind) holds and ErrorCode maps it,
// while the message reads as written. It is tracker.Errorf, so an error a
// connector marks and one the engine marks behave alike.
func Errorf(kind error, format string, args ...any) error {
	return tracker.Errorf(kind, format, args...)
}
