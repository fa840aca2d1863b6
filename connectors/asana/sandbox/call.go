package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"
)

// maxJSONBody bounds JSON request bodies; Asana's own limit is far above
// anything a task or comment needs.
const maxJSONBody = 10 << 20

// offsetLifetime is how long a pagination offset stays valid; Asana's expire
// too, so clients must not store them.
const offsetLifetime = time.Hour

// call is one API request being served.
type call struct {
	s      *Sandbox
	w      http.ResponseWriter
	r      *http.Request
	base   string // scheme://host as the client reached us
	pretty bool
	fields []string // opt_fields values from the query and from options.fields
}

type handler func(c *call) error

// api wraps an operation: common options in, Asana's envelopes out.
func (s *Sandbox) api(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r, base: baseURL(r)}
		q := r.URL.Query()
		// opt_pretty is the documented name; the bare form is accepted too.
		for _, name := range []string{"opt_pretty", "pretty"} {
			if v, ok := q[name]; ok {
				c.pretty = c.pretty || len(v) == 0 || v[0] == "" || v[0] == "true"
			}
		}
		c.fields = q["opt_fields"]
		defer func() {
			// A bug in the sandbox answers like Asana's own failures do,
			// rather than dropping the connection.
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				writeError(w, c.pretty, &apiError{status: http.StatusInternalServerError,
					message: fmt.Sprintf("Server Error: %v", p), phrase: phrase(s.rng)})
			}
		}()
		if err := h(c); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = &apiError{status: http.StatusInternalServerError, message: "Server Error", phrase: phrase(s.rng)}
			}
			writeError(w, c.pretty, ae)
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

// selection parses and checks opt_fields against k. list operations also
// accept offset, path and uri (the next_page members), as Asana does.
func (c *call) selection(k *kind, list bool) (map[string]*fieldNode, error) {
	sel := parseFields(c.fields)
	if list {
		for _, n := range []string{"offset", "path", "uri"} {
			if fn, ok := sel[n]; ok && len(fn.sub) == 0 {
				delete(sel, n)
			}
		}
		if sel != nil && len(sel) == 0 {
			// Only next_page members were named: the items carry their gid.
			return map[string]*fieldNode{}, nil
		}
	}
	if err := k.check(sel, ""); err != nil {
		return nil, err
	}
	return sel, nil
}

func (c *call) renderCtx() *renderCtx {
	return &renderCtx{s: c.s, st: c.s.st, base: c.base, now: time.Now()}
}

// writeData answers {"data": v}.
func (c *call) writeData(status int, v any) error {
	body := &object{}
	body.Set("data", v)
	writeJSON(c.w, status, body, c.pretty)
	return nil
}

// pathGID reads a gid path parameter; Asana answers 400 for anything that
// is not a number.
func (c *call) pathGID(name string) (string, error) {
	v := c.r.PathValue(name)
	if !isGID(v) {
		return "", badRequest("%s: Not a Long: %s", name, v)
	}
	return v, nil
}

// queryGID reads an optional gid query parameter.
func (c *call) queryGID(name string) (string, error) {
	v := c.r.URL.Query().Get(name)
	if v != "" && !isGID(v) {
		return "", badRequest("%s: Not a Long: %s", name, v)
	}
	return v, nil
}

// envelope is a JSON request body: data plus options beside it.
type envelope struct {
	Data    json.RawMessage `json:"data"`
	Options struct {
		Fields []string `json:"fields"`
		Pretty bool     `json:"pretty"`
	} `json:"options"`
}

// decodeData reads {"data": {...}} and returns the data members by name, so
// handlers can tell absent from null.
func (c *call) decodeData() (map[string]json.RawMessage, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxJSONBody))
	if err != nil {
		return nil, badRequest("Request body could not be read: %v", err)
	}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return nil, badRequest("Could not parse request data, invalid JSON")
	}
	if env.Options.Pretty {
		c.pretty = true
	}
	c.fields = append(c.fields, env.Options.Fields...)
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return nil, missingInput("data")
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(env.Data, &data); err != nil {
		return nil, badRequest("data: Not an object")
	}
	return data, nil
}

// str, boolean and strs read typed members of the data object; present
// reports whether the member was sent at all.
func str(data map[string]json.RawMessage, name string) (v string, present bool, err error) {
	raw, ok := data[name]
	if !ok {
		return "", false, nil
	}
	if string(raw) == "null" {
		return "", true, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", true, badRequest("%s: Not a string: %s", name, raw)
	}
	return v, true, nil
}

func boolean(data map[string]json.RawMessage, name string) (v bool, present bool, err error) {
	raw, ok := data[name]
	if !ok {
		return false, false, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, true, badRequest("%s: Not a boolean: %s", name, raw)
	}
	return v, true, nil
}

func strs(data map[string]json.RawMessage, name string) (v []string, present bool, err error) {
	raw, ok := data[name]
	if !ok {
		return nil, false, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, true, badRequest("%s: Not an array of strings: %s", name, raw)
	}
	return v, true, nil
}

// page is a parsed limit/offset pair.
type page struct {
	limit int    // 0: no limit given, no next_page member
	after string // resume after this gid
	key   string // the query (queryKey) that offsets are bound to
}

// paging reads limit and offset. Offsets are bound to the query's key so
// that one cannot be replayed against another list.
func (c *call) paging() (page, error) {
	q := c.r.URL.Query()
	pg := page{key: c.queryKey()}
	if v := q.Get("limit"); v != "" || q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return pg, badRequest("limit: Must be an integer between 1 and 100, got %q", v)
		}
		pg.limit = n
	}
	if v := q.Get("offset"); v != "" {
		after, ok := c.s.openOffset(v, pg.key)
		if !ok {
			return pg, badRequest("offset: Your pagination token is invalid or has expired: %s", v)
		}
		pg.after = after
	}
	return pg, nil
}

// queryKey names a list query by its path and filters (everything but the
// paging and output options).
func (c *call) queryKey() string {
	q := c.r.URL.Query()
	for _, n := range []string{"limit", "offset", "opt_fields", "opt_pretty"} {
		q.Del(n)
	}
	return c.r.URL.Path + "?" + q.Encode()
}

// paginate cuts one page from items, which are in gid order.
func paginate[T any](items []T, gid func(T) string, pg page) (out []T, last string, more bool) {
	start := 0
	if pg.after != "" {
		start = len(items)
		for i, it := range items {
			if gidLess(pg.after, gid(it)) {
				start = i
				break
			}
		}
	}
	out = items[start:]
	if pg.limit > 0 && len(out) > pg.limit {
		out, more = out[:pg.limit], true
	}
	if len(out) > 0 {
		last = gid(out[len(out)-1])
	}
	return out, last, more
}

// writeList answers {"data": [...], "next_page": ...}; next_page is only
// present when a limit was given, and null on the last page.
func (c *call) writeList(items []any, pg page, last string, more bool) error {
	body := &object{}
	body.Set("data", items)
	if pg.limit > 0 {
		if more {
			off := c.s.makeOffset(pg.key, last)
			q := c.r.URL.Query()
			q.Set("offset", off)
			path := strings.TrimPrefix(c.r.URL.Path, apiPrefix) + "?" + q.Encode()
			np := &object{}
			np.Set("offset", off)
			np.Set("path", path)
			np.Set("uri", c.base+apiPrefix+path)
			body.Set("next_page", np)
		} else {
			body.Set("next_page", nil)
		}
	}
	writeJSON(c.w, http.StatusOK, body, c.pretty)
	return nil
}

// offsetClaims is what an offset token carries; it is signed, so clients
// cannot forge one, and bound to its query.
type offsetClaims struct {
	Key     string `json:"k"`
	After   string `json:"a"`
	Expires int64  `json:"e"`
}

func (s *Sandbox) makeOffset(key, after string) string {
	return s.signer.Seal(offsetClaims{Key: sandboxkit.KeyHash(key), After: after, Expires: time.Now().Add(offsetLifetime).Unix()})
}

func (s *Sandbox) openOffset(tok, key string) (string, bool) {
	var oc offsetClaims
	if !s.signer.Open(tok, &oc) || oc.Key != sandboxkit.KeyHash(key) || time.Now().Unix() > oc.Expires || !isGID(oc.After) {
		return "", false
	}
	return oc.After, true
}

// location is the absolute URL of a created object, for the Location header.
func (c *call) location(path string) string {
	return c.base + apiPrefix + path
}
