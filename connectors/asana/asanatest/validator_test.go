package asanatest

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// recordingTB stands in for the test so violations can be asserted on
// without failing the real test. Unoverridden methods reach the real t.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	logs   []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.TB.Fatalf("unexpected Fatalf from asanatest: "+format, args...)
}

func (r *recordingTB) reported() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

const userMe = `{"data":{"gid":"12345","resource_type":"user","name":"Greg Sanchez","email":"gsanchez@example.com","photo":null,"workspaces":[{"gid":"1","resource_type":"workspace","name":"My Company"}]}}`

// jsonHandler answers every request with status and body.
func jsonHandler(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

// serve runs handler wrapped by a fresh Validator and sends one request
// with a token. The server is closed before returning, so every check has
// finished.
func serve(t *testing.T, handler http.Handler, method, path, contentType string, body io.Reader, opts ...Option) (*Validator, *recordingTB, *http.Response, []byte) {
	t.Helper()
	return serveRequest(t, handler, newRequest(t, method, path, contentType, body), opts...)
}

// newRequest builds a request to the test server (path is relative to its
// root) carrying a Bearer token.
func newRequest(t *testing.T, method, path, contentType string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test-token")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// serveRequest is serve for a request built by the test.
func serveRequest(t *testing.T, handler http.Handler, req *http.Request, opts ...Option) (*Validator, *recordingTB, *http.Response, []byte) {
	t.Helper()
	rt := &recordingTB{TB: t}
	v := NewValidator(t, opts...)
	srv := httptest.NewServer(v.Wrap(rt, handler))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Scheme, req.URL.Host, req.Host = u.Scheme, u.Host, u.Host
	resp, err := srv.Client().Do(req)
	if err != nil {
		return v, rt, nil, nil
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	srv.Close()
	return v, rt, resp, got
}

func wantClean(t *testing.T, rt *recordingTB) {
	t.Helper()
	if errs := rt.reported(); len(errs) > 0 {
		t.Errorf("violations reported for a conforming exchange:\n%s", strings.Join(errs, "\n"))
	}
}

func wantViolation(t *testing.T, rt *recordingTB, parts ...string) {
	t.Helper()
	errs := rt.reported()
	if len(errs) != 1 {
		t.Fatalf("got %d violations, want 1: %q", len(errs), errs)
	}
	t.Logf("reported: %s", errs[0])
	for _, p := range parts {
		if !strings.Contains(errs[0], p) {
			t.Errorf("violation %q does not mention %q", errs[0], p)
		}
	}
}

func TestConformingResponsePasses(t *testing.T) {
	v, rt, resp, body := serve(t, jsonHandler(200, userMe), "GET", "/api/1.0/users/me?opt_fields=email,name,photo", "", nil)
	wantClean(t, rt)
	if resp.StatusCode != 200 || string(body) != userMe {
		t.Errorf("client got %d %q; the response must pass through unchanged", resp.StatusCode, body)
	}
	if got := v.Checked(); got != 2 {
		t.Errorf("Checked() = %d, want 2 (one request, one response)", got)
	}
}

func TestWrongContentTypeIsCaught(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, userMe) })
	_, rt, _, _ := serve(t, h, "GET", "/api/1.0/users/me", "", nil)
	wantViolation(t, rt, "response", "text/plain")
}

func TestUnknownOperationIsAViolation(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/api/1.0/portfolios", "no path matches /api/1.0/portfolios"},
		{"PATCH", "/api/1.0/tasks/123", "PATCH is not defined for /api/1.0/tasks/123"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			v, rt, _, _ := serve(t, jsonHandler(404, `{"errors":[{"message":"Not found"}]}`), tc.method, tc.path, "", nil)
			wantViolation(t, rt, tc.method+" "+tc.path, "→ 404", "not in the Asana OpenAPI document", tc.want)
			if v.Checked() != 1 {
				t.Errorf("Checked() = %d, want 1 (the request)", v.Checked())
			}
		})
	}
}

func TestNonAPIPathPassesThrough(t *testing.T) {
	v, rt, resp, body := serve(t, jsonHandler(200, "file bytes"), "GET", "/download/9876/report.pdf", "", nil)
	wantClean(t, rt)
	if resp.StatusCode != 200 || string(body) != "file bytes" {
		t.Errorf("got %d %q, want the handler's response", resp.StatusCode, body)
	}
	if v.Checked() != 0 {
		t.Errorf("Checked() = %d, want 0 for a path outside /api/1.0", v.Checked())
	}
}

func TestNonConformingRequest(t *testing.T) {
	const path = "/api/1.0/users/me?opt_fields=name,no_such_field"
	t.Run("accepted is a violation", func(t *testing.T) {
		_, rt, _, _ := serve(t, jsonHandler(200, userMe), "GET", path, "", nil)
		wantViolation(t, rt, "→ 200", "request", `"opt_fields"`, "not one of the allowed values")
	})
	t.Run("rejected with 400 is fine", func(t *testing.T) {
		v, rt, _, _ := serve(t, jsonHandler(400, `{"errors":[{"message":"opt_fields: unknown field","help":"see docs"}]}`), "GET", path, "", nil)
		wantClean(t, rt)
		if v.Checked() != 2 {
			t.Errorf("Checked() = %d, want 2: the 400 body is still validated", v.Checked())
		}
	})
	t.Run("rejection body must conform", func(t *testing.T) {
		_, rt, _, _ := serve(t, jsonHandler(400, `{"errors":"bad"}`), "GET", path, "", nil)
		wantViolation(t, rt, "→ 400", "response", "/errors")
	})
}

func TestRequestBodyReachesHandler(t *testing.T) {
	const task = `{"data":{"name":"Buy milk","html_notes":"<body>2 litres</body>","workspace":"1"}}`
	var seen []byte
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "https://app.asana.com/api/1.0/tasks/77")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"data":{"gid":"77","resource_type":"task","name":"Buy milk","html_notes":"<body>2 litres</body>","created_at":"2026-01-02T03:04:05.678Z"}}`)
	})
	v, rt, _, _ := serve(t, h, "POST", "/api/1.0/tasks", "application/json", strings.NewReader(task))
	wantClean(t, rt)
	if string(seen) != task {
		t.Errorf("handler read %q, want the request body %q", seen, task)
	}
	if v.Checked() != 2 {
		t.Errorf("Checked() = %d, want 2", v.Checked())
	}

	_, rt, _, _ = serve(t, h, "POST", "/api/1.0/tasks", "application/json", strings.NewReader(`{"data":{"name":7}}`))
	wantViolation(t, rt, "POST /api/1.0/tasks", "→ 201", "request body", "/data/name")
}

func upload(t *testing.T, n int) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("parent", "77")
	fw, err := mw.CreateFormFile("file", "r%C3%A9sum%C3%A9.pdf")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(bytes.Repeat([]byte{0xA5}, n))
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func attachmentHandler(t *testing.T, want []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := io.ReadAll(r.Body)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("handler read %d bytes (err %v), want the %d bytes sent", len(got), err, len(want))
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":{"gid":"5","resource_type":"attachment","name":"résumé.pdf","resource_subtype":"asana"}}`)
	})
}

func TestMultipartUpload(t *testing.T) {
	ct, body := upload(t, 4096)
	v, rt, _, _ := serve(t, attachmentHandler(t, body), "POST", "/api/1.0/attachments", ct, bytes.NewReader(body))
	wantClean(t, rt)
	if v.Checked() != 2 {
		t.Errorf("Checked() = %d, want 2", v.Checked())
	}
	if len(rt.logs) != 0 {
		t.Errorf("a small upload should be validated in full, got notes %q", rt.logs)
	}
}

func TestLargeBodyIsStreamedNotValidated(t *testing.T) {
	ct, body := upload(t, 64<<10)
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			var r io.Reader = bytes.NewReader(body)
			if chunked {
				r = io.MultiReader(r) // hides the length: sent chunked
			}
			small := func(v *Validator) { v.maxBody = 16 << 10 }
			v, rt, _, _ := serve(t, attachmentHandler(t, body), "POST", "/api/1.0/attachments", ct, r, small)
			wantClean(t, rt)
			if len(rt.logs) != 1 || !strings.Contains(rt.logs[0], "request body over") {
				t.Errorf("want one note that the body was not validated, got %q", rt.logs)
			}
			if v.Checked() != 2 {
				t.Errorf("Checked() = %d, want 2: parameters and response are still checked", v.Checked())
			}
		})
	}
}

func TestStreamingAndFlushPassThrough(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, userMe[:20])
		w.(http.Flusher).Flush()
		io.WriteString(w, userMe[20:])
	})
	v, rt, _, body := serve(t, h, "GET", "/api/1.0/users/me", "", nil)
	wantClean(t, rt)
	if string(body) != userMe || v.Checked() != 2 {
		t.Errorf("got %q and Checked %d; want the whole body and 2", body, v.Checked())
	}
}

func TestHijackedConnectionHasNoResponse(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack through the recorder: %v", err)
			return
		}
		conn.Close()
	})
	v, rt, resp, _ := serve(t, h, "GET", "/api/1.0/users/me", "", nil)
	if resp != nil {
		t.Errorf("client got a response from a cut connection: %v", resp.Status)
	}
	wantClean(t, rt)
	if v.Checked() != 1 {
		t.Errorf("Checked() = %d, want 1 (the request only)", v.Checked())
	}
}

func TestAbortedHandlerReportsRequestViolation(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	_, rt, _, _ := serve(t, h, "GET", "/api/1.0/nowhere", "", nil)
	wantViolation(t, rt, "→ aborted", "not in the Asana OpenAPI document")
}

func TestConcurrentRequests(t *testing.T) {
	rt := &recordingTB{TB: t}
	v := NewValidator(t)
	srv := httptest.NewServer(v.Wrap(rt, jsonHandler(200, userMe)))
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := newRequest(t, "GET", srv.URL+"/api/1.0/users/me?opt_fields=email", "", nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
	srv.Close()
	wantClean(t, rt)
	if v.Checked() != 2*n {
		t.Errorf("Checked() = %d, want %d", v.Checked(), 2*n)
	}
}
