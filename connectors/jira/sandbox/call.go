package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"
)

// maxJSONBody bounds JSON request bodies.
const maxJSONBody = 10 << 20

// timeLayout is Jira's timestamp format: milliseconds and an offset without
// a colon, not RFC 3339.
const timeLayout = "2006-01-02T15:04:05.000-0700"

// tokenLifetime is how long a search nextPageToken stays valid.
const tokenLifetime = time.Hour

// call is one API request being served.
type call struct {
	s    *Sandbox
	w    http.ResponseWriter
	r    *http.Request
	base string // scheme://host as the client reached us
	now  time.Time
}

type handler func(c *call) error

// api wraps an operation: Jira's error bodies out, and a panic answered as
// a 500 rather than a dropped connection.
func (s *Sandbox) api(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r, base: baseURL(r), now: s.clk.now()}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				writeError(w, newError(http.StatusInternalServerError, "Internal server error: %v", p))
			}
		}()
		if err := h(c); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = newError(http.StatusInternalServerError, "Internal server error")
			}
			writeError(w, ae)
		}
	})
}

// baseURL is the scheme and host the client used to reach the sandbox.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// link is the absolute URL of an API path.
func (c *call) link(path string) string { return c.base + apiPrefix + path }

// stamp formats t as Jira does, in the user's zone.
func (c *call) stamp(t time.Time) string { return c.s.st.me.stamp(t) }

// decodeJSON reads a JSON object body into a map of raw members, so
// handlers can tell absent from null.
func (c *call) decodeJSON() (map[string]json.RawMessage, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxJSONBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, newError(http.StatusRequestEntityTooLarge, "The request body is too large.")
		}
		return nil, badRequest("The request body could not be read: %v", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(body), &m); err != nil || m == nil {
		return nil, badRequest("Unexpected character or end of input: the request body must be a JSON object.")
	}
	return m, nil
}

// queryInt reads an optional integer query parameter.
func (c *call) queryInt(name string, def int) (int, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest("The value '%s' is not valid for the parameter '%s'.", v, name)
	}
	return n, nil
}

// pageParams reads startAt and maxResults for the offset-paged lists
// (projects, comments): a negative startAt is 400; maxResults is clamped to
// 1..limit as Jira does.
func (c *call) pageParams(defMax, limit int) (startAt, maxResults int, err error) {
	if startAt, err = c.queryInt("startAt", 0); err != nil {
		return 0, 0, err
	}
	if startAt < 0 {
		return 0, 0, badRequest("The 'startAt' parameter must not be negative.")
	}
	if maxResults, err = c.queryInt("maxResults", defMax); err != nil {
		return 0, 0, err
	}
	if maxResults < 0 {
		return 0, 0, badRequest("The 'maxResults' parameter must not be negative.")
	}
	return startAt, min(maxResults, limit), nil
}

// window cuts items[startAt:startAt+n].
func window[T any](items []T, startAt, n int) []T {
	if startAt >= len(items) {
		return []T{}
	}
	return items[startAt:min(len(items), startAt+n)]
}

// tokenClaims is what a nextPageToken carries; it is signed, so clients
// cannot forge one, and bound to its query.
type tokenClaims struct {
	Key     string `json:"k"`
	Offset  int    `json:"o"`
	Expires int64  `json:"e"`
}

func (s *Sandbox) makeToken(key string, offset int, now time.Time) string {
	return s.signer.Seal(tokenClaims{Key: sandboxkit.KeyHash(key), Offset: offset, Expires: now.Add(tokenLifetime).Unix()})
}

func (s *Sandbox) openToken(tok, key string, now time.Time) (int, bool) {
	var tc tokenClaims
	if !s.signer.Open(tok, &tc) || tc.Key != sandboxkit.KeyHash(key) || now.Unix() > tc.Expires || tc.Offset < 0 {
		return 0, false
	}
	return tc.Offset, true
}

// rawString reads a JSON member that must be a string.
func rawString(raw json.RawMessage) (string, bool) {
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false
	}
	return v, true
}

func itoa(n int) string { return strconv.Itoa(n) }

// reference reads {"id":…} or {"key":…} / {"name":…} objects such as
// fields.project and fields.issuetype.
func reference(raw json.RawMessage) (id, name string, ok bool) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return "", "", false
	}
	str := func(k string) string {
		switch v := m[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	id = str("id")
	name = str("key")
	if name == "" {
		name = str("name")
	}
	return id, name, id != "" || name != ""
}
