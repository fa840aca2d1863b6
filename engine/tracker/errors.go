package tracker

import (
	"errors"
	"fmt"
)

// Errors a tracker returns and the engine branches on. They are the same
// values as engine.ErrBadRequest and engine.ErrNotFound (the engine
// re-exports them), so errors.Is holds on either name and the engine's
// HTTP layer maps them to status codes.
var (
	// ErrBadRequest is input that can't be acted on (a reference that
	// names no item, a field the tracker refuses).
	ErrBadRequest = errors.New("bad request")
	// ErrNotFound is an item, comment or attachment the tracker doesn't
	// have (or no longer has).
	ErrNotFound = errors.New("not found")
	// ErrUnknownUser is an assignee's e-mail that no user of the tracker
	// has (or none the node's account can see): the item is left as it
	// was, and the sync says so in its notes.
	ErrUnknownUser = errors.New("unknown user")
)

// kindError gives an error a kind (one of the sentinels) without putting
// the kind's name in front of a message written for users.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return target == e.kind }

// Errorf formats a message for users and marks it with kind (ErrBadRequest,
// ErrNotFound, or any sentinel the caller branches on), so errors.Is(err,
// kind) holds while the message reads as written.
func Errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}
