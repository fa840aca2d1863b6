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

	"github.com/tandem-sync/tandem/connectors/jira/jiratest"
)

// env is a sandbox served on loopback behind the OpenAPI contract check, so
// every API call and answer is validated against the document.
type env struct {
	t   *testing.T
	sb  *Sandbox
	srv *httptest.Server
	hc  *http.Client
}

// newEnv starts a sandbox; allow lists statuses that operations may answer
// in this test though the document does not list them.
func newEnv(t *testing.T, opts []Option, allow ...int) *env {
	t.Helper()
	sb, err := New(append([]Option{WithRandSeed(1)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	v := jiratest.NewValidator(t, jiratest.AllowStatus(allow...))
	srv := httptest.NewServer(v.Wrap(sb))
	t.Cleanup(func() {
		srv.Close() // waits for the handlers, and so for their checks
		if v.Checked() == 0 {
			t.Error("no request or response was checked against the OpenAPI document")
		}
	})
	// No keep-alive: a cut connection must surface as an error, not be
	// retried silently on a fresh connection. Redirects are not followed,
	// so tests see the 303.
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &env{t: t, sb: sb, srv: srv, hc: hc}
}

// reply is a decoded answer.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   any
}

func (r reply) obj() map[string]any {
	m, _ := r.body.(map[string]any)
	return m
}

func (r reply) list(member string) []map[string]any {
	var xs []any
	if member == "" {
		xs, _ = r.body.([]any)
	} else {
		xs, _ = r.obj()[member].([]any)
	}
	out := make([]map[string]any, len(xs))
	for i, x := range xs {
		out[i], _ = x.(map[string]any)
	}
	return out
}

// errText joins errorMessages and errors for matching.
func (r reply) errText() string {
	var parts []string
	msgs, _ := r.obj()["errorMessages"].([]any)
	for _, m := range msgs {
		parts = append(parts, m.(string))
	}
	fields, _ := r.obj()["errors"].(map[string]any)
	for k, m := range fields {
		parts = append(parts, k+": "+m.(string))
	}
	return strings.Join(parts, " | ")
}

// req is one request; the zero value is an authenticated JSON call.
type req struct {
	method, path string // path relative to /rest/api/3, or absolute from / when raw
	body         any    // marshalled to JSON unless an io.Reader
	contentType  string
	header       map[string]string
	noAuth       bool
	user, pass   string
	raw          bool // path is from the root, not under /rest/api/3
	expect       string
}

func (e *env) do(q req) reply {
	e.t.Helper()
	var body io.Reader
	ct := q.contentType
	switch b := q.body.(type) {
	case nil:
	case io.Reader:
		body = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(raw)
		if ct == "" {
			ct = "application/json"
		}
	}
	url := e.srv.URL + apiPrefix + q.path
	if q.raw {
		url = q.path
		if strings.HasPrefix(q.path, "/") {
			url = e.srv.URL + q.path
		}
	}
	r, err := http.NewRequest(q.method, url, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	if q.expect != "" {
		r.Header.Set(jiratest.ExpectHeader, q.expect)
	}
	if !q.noAuth {
		user, pass := e.sb.Email(), e.sb.Token()
		if q.user != "" || q.pass != "" {
			user, pass = q.user, q.pass
		}
		r.SetBasicAuth(user, pass)
	}
	resp, err := e.hc.Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", q.method, q.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading: %v", q.method, q.path, err)
	}
	out := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %v\n%s", q.method, q.path, err, raw)
		}
	}
	return out
}

// ok sends an authenticated JSON request and requires status.
func (e *env) ok(status int, method, path string, body any) reply {
	e.t.Helper()
	r := e.do(req{method: method, path: path, body: body})
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.raw)
	}
	return r
}

// fails sends a request and requires an error status whose messages
// contain want.
func (e *env) fails(status int, want string, q req) reply {
	e.t.Helper()
	r := e.do(q)
	if r.status != status || !strings.Contains(r.errText(), want) {
		e.t.Fatalf("%s %s: got %d %q, want %d with %q", q.method, q.path, r.status, r.errText(), status, want)
	}
	return r
}

// create makes an issue and returns its id and key.
func (e *env) create(project, itype, summary string, desc any) (id, key string) {
	e.t.Helper()
	fields := map[string]any{"project": map[string]any{"key": project}, "issuetype": map[string]any{"name": itype}, "summary": summary}
	if desc != nil {
		fields["description"] = desc
	}
	r := e.ok(201, "POST", "/issue", map[string]any{"fields": fields})
	return r.obj()["id"].(string), r.obj()["key"].(string)
}

// pin fixes the sandbox clock at t.
func (e *env) pin(t time.Time) { e.sb.clk.set(t) }

// doc builds an ADF document of one paragraph.
func doc(text string) map[string]any {
	return map[string]any{"version": 1, "type": "doc", "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": text}}}}}
}

func mustTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.Parse(timeLayout, s)
	if err != nil {
		t.Fatalf("not a Jira timestamp: %v", v)
	}
	return tm
}

func fieldsOfIssue(r reply) map[string]any {
	f, _ := r.obj()["fields"].(map[string]any)
	return f
}
