package adminapi

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// Errors callers branch on, the same values on the node and across the
// API: the node answers each with its code (ErrorCode), and a client maps
// the code back (ErrorForCode), so errors.Is(err, ErrInvitationUsed) holds
// whether the node runs in process or over HTTP. The engine re-exports
// them (engine.ErrInvitationUsed is ErrInvitationUsed).
var (
	// ErrBadRequest is input the node can't act on. It is
	// tracker.ErrBadRequest, the value connectors return.
	ErrBadRequest = tracker.ErrBadRequest
	// ErrNotFound is an entity the node (or its tracker) doesn't have. It
	// is tracker.ErrNotFound, the value connectors return.
	ErrNotFound = tracker.ErrNotFound
	// ErrConflict is an action the entity's state doesn't allow now.
	ErrConflict = errors.New("conflict")

	// ErrUnknownProject is a project the node's tracker doesn't have.
	ErrUnknownProject = errors.New("no such project")

	// Probing another node, one per thing the admin can fix.
	ErrUnreachable  = errors.New("the destination can't be reached")
	ErrNotTandem    = errors.New("the destination is not a tandem node")
	ErrIncompatible = errors.New("the destination runs an incompatible tandem version")
	// ErrURLMismatch is a node that reports another URL than the one it
	// was reached at.
	ErrURLMismatch = errors.New("the node reports another URL than the one it was reached at")

	// ErrModeUnsupported is a configuration mode a node (this one or the
	// other side) does not support: the message names the mode and the
	// node to upgrade.
	ErrModeUnsupported = errors.New("the node does not support that configuration mode: upgrade tandem on it, or choose a mode both nodes support")

	// ErrDiskFull is the node's data dir under its minimum of free space,
	// or out of it.
	ErrDiskFull = errors.New("disk full")

	// Invitation errors, one per way a code can be refused; callers show
	// them as they are.
	ErrInvitationMalformed = errors.New("this is not a valid invitation code: copy the whole code, one line starting with tdm1., from the inviting admin")
	ErrInvitationTampered  = errors.New("the invitation code is damaged or was altered: copy it again from the inviting admin")
	ErrInvitationExpired   = errors.New("the invitation code has expired: ask the inviting admin for a new one")
	ErrInvitationUsed      = errors.New("the invitation code was already used: ask the inviting admin for a new one")
	ErrInvitationRefused   = errors.New("the inviting node does not recognise this invitation: ask the inviting admin for a new one")
)

// errorCodes gives each error a stable code and an HTTP status, so a node
// can tell another (or the console) exactly what went wrong, and the other
// side can map the code back to the same sentinel error.
func errorCodes() []struct {
	err    error
	code   string
	status int
} {
	return []struct {
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
		{ErrModeUnsupported, "mode_unsupported", http.StatusUnprocessableEntity},
		{ErrDiskFull, "disk_full", http.StatusInsufficientStorage},
		{ErrURLMismatch, "url_mismatch", http.StatusBadRequest},
		{ErrBadRequest, "bad_request", http.StatusBadRequest},
		{ErrNotFound, "not_found", http.StatusNotFound},
		{ErrConflict, "conflict", http.StatusConflict},
	}
}

// ErrorCode returns err's code and HTTP status; unknown errors are 500s
// with the code "internal".
func ErrorCode(err error) (code string, status int) {
	for _, e := range errorCodes() {
		if errors.Is(err, e.err) {
			return e.code, e.status
		}
	}
	return "internal", http.StatusInternalServerError
}

// ErrorForCode maps a code from a node's answer back to its sentinel
// error, so errors.Is works across the wire; nil for a code it doesn't
// know.
func ErrorForCode(code string) error {
	for _, e := range errorCodes() {
		if e.code == code {
			return e.err
		}
	}
	return nil
}

// CompleteURL is NormalizeURL for what a person types: a URL without a
// scheme gets http:// when its host is a loopback address (a node on this
// machine rarely has a certificate) and https:// otherwise. assumed is the
// scheme added ("" when the URL had one), so the caller can say so.
func CompleteURL(raw string) (u, assumed string, err error) {
	raw = strings.TrimSpace(raw)
	if raw != "" && !strings.Contains(raw, "://") {
		assumed = "https://"
		host := raw
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if ip := net.ParseIP(host); strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback() {
			assumed = "http://"
		}
		raw = assumed + raw
	}
	u, err = NormalizeURL(raw)
	if err != nil {
		return "", "", err
	}
	return u, assumed, nil
}

// NormalizeURL checks a node URL and puts it in the form nodes compare:
// scheme and host lower-cased, no trailing slash, no query.
func NormalizeURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", tracker.Errorf(ErrBadRequest, "a URL is required, such as http://127.0.0.1:7001")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", tracker.Errorf(ErrBadRequest, "%q is not a node URL such as http://127.0.0.1:7001 or https://tandem.example.com", raw)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	return u.String(), nil
}
