package apiclient

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ParseRetryAfter reads Retry-After as seconds (what the trackers send) or
// as an HTTP date (what proxies may send). Zero means absent or unreadable.
func ParseRetryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// finalError is a failure that sending again would repeat (the caller's
// file, the caller's deadline), so it is never retried.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

// Final marks err, met while building or sending a request, as one that
// sending again would repeat: Send returns it at once instead of retrying.
func Final(err error) error { return &finalError{err} }

// BodyText is an error answer that isn't the tracker's JSON (a proxy's
// HTML page, a bare message) as one short line, so a log line stays one
// line; empty if the body holds only white space.
func BodyText(body []byte) string {
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	return strings.Join(strings.Fields(text), " ")
}
