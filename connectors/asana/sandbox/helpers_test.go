package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana/asanatest"
)

// env is a sandbox served on loopback behind the OpenAPI contract check, so
// every API call and answer is validated against the spec.
type env struct {
	t   *testing.T
	sb  *Sandbox
	srv *httptest.Server
	hc  *http.Client
}

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	sb, err := New(append([]Option{WithRandSeed(1)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() }) // after the server's cleanup: LIFO
	// Asana answers 503 on overload, which the spec lists for no operation;
	// the fault injection sends it too.
	v := asanatest.NewValidator(t, asanatest.AllowStatus(http.StatusServiceUnavailable))
	srv := httptest.NewServer(v.Wrap(t, sb))
	t.Cleanup(func() {
		srv.Close() // waits for the handlers, and so for their checks
		if v.Checked() == 0 {
			t.Error("no request or response was checked against the OpenAPI document")
		}
	})
	// No keep-alive: a cut connection must surface as an error, not be
	// retried silently by the transport on a fresh connection.
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{t: t, sb: sb, srv: srv, hc: &http.Client{Transport: tr}}
}

// reply is a decoded answer.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r reply) data() map[string]any {
	m, _ := r.body["data"].(map[string]any)
	return m
}

func (r reply) list() []map[string]any {
	xs, _ := r.body["data"].([]any)
	out := make([]map[string]any, len(xs))
	for i, x := range xs {
		out[i], _ = x.(map[string]any)
	}
	return out
}

func (r reply) errMessage() string {
	errs, _ := r.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	m, _ := errs[0].(map[string]any)
	s, _ := m["message"].(string)
	return s
}

// call sends a request to the API; path is relative to /api/1.0. A non-nil
// data is sent as {"data": data}. expect marks a request that steps outside
// the spec on purpose (asanatest.ExpectInvalidRequest and the like).
func (e *env) call(method, path string, data any, expect ...string) reply {
	e.t.Helper()
	var body io.Reader
	if data != nil {
		b, err := json.Marshal(map[string]any{"data": data})
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	return e.send(method, path, body, "application/json", e.sb.Token(), expect...)
}

func (e *env) send(method, path string, body io.Reader, contentType, token string, expect ...string) reply {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+apiPrefix+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(expect) > 0 {
		req.Header.Set(asanatest.ExpectHeader, strings.Join(expect, ","))
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading: %v", method, path, err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		e.t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", method, path, err, raw)
	}
	return r
}

// ok calls and requires the given status.
func (e *env) ok(status int, method, path string, data any, expect ...string) reply {
	e.t.Helper()
	r := e.call(method, path, data, expect...)
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.raw)
	}
	return r
}

// fails calls and requires an error status whose message contains want.
func (e *env) fails(status int, want, method, path string, data any, expect ...string) reply {
	e.t.Helper()
	r := e.call(method, path, data, expect...)
	if r.status != status || !strings.Contains(r.errMessage(), want) {
		e.t.Fatalf("%s %s: got %d %q, want %d with %q", method, path, r.status, r.errMessage(), status, want)
	}
	return r
}

// project returns the gid of the project with the given name.
func (e *env) project(name string) string {
	e.t.Helper()
	for _, p := range e.ok(200, "GET", "/projects", nil).list() {
		if p["name"] == name {
			return p["gid"].(string)
		}
	}
	e.t.Fatalf("no project %q", name)
	return ""
}

// taskNamed returns the gid of the task with the given name in a project.
func (e *env) taskNamed(project, name string) string {
	e.t.Helper()
	for _, tk := range e.ok(200, "GET", "/projects/"+project+"/tasks", nil).list() {
		if tk["name"] == name {
			return tk["gid"].(string)
		}
	}
	e.t.Fatalf("no task %q in %s", name, project)
	return ""
}

func (e *env) workspace() string {
	e.t.Helper()
	return e.ok(200, "GET", "/workspaces", nil).list()[0]["gid"].(string)
}

func mustTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("not a timestamp: %v", v)
	}
	return tm
}

// keys lists an object's member names.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
