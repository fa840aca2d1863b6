package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// env is a sandbox served on loopback with a client whose every API call is
// validated against the spec.
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
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	// No keep-alive: a cut connection must surface as an error, not be
	// retried silently by the transport on a fresh connection.
	base := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(base.CloseIdleConnections)
	return &env{t: t, sb: sb, srv: srv, hc: &http.Client{Transport: newContract(t, base)}}
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
// data is sent as {"data": data}.
func (e *env) call(method, path string, data any, o ...reqOpts) reply {
	e.t.Helper()
	var body io.Reader
	if data != nil {
		b, err := json.Marshal(map[string]any{"data": data})
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	return e.send(method, path, body, "application/json", e.sb.Token(), o...)
}

func (e *env) send(method, path string, body io.Reader, contentType, token string, o ...reqOpts) reply {
	e.t.Helper()
	ctx := context.Background()
	if len(o) > 0 {
		ctx = withReqOpts(ctx, o[0])
	}
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+apiPrefix+path, body)
	if err != nil {
		e.t.Fatal(err)
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
func (e *env) ok(status int, method, path string, data any, o ...reqOpts) reply {
	e.t.Helper()
	r := e.call(method, path, data, o...)
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.raw)
	}
	return r
}

// fails calls and requires an error status whose message contains want.
func (e *env) fails(status int, want, method, path string, data any, o ...reqOpts) reply {
	e.t.Helper()
	r := e.call(method, path, data, o...)
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
