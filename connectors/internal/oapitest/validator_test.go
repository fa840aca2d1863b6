package oapitest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestConformingResponsePasses(t *testing.T) {
	v, c, resp, body := serve(t, jsonHandler(200, thing), "GET", "/api/things/1?fields=name,size", "", nil)
	c.WantClean(t)
	if resp.StatusCode != 200 || string(body) != thing {
		t.Errorf("client got %d %q; the response must pass through unchanged", resp.StatusCode, body)
	}
	if got := v.Checked(); got != 2 {
		t.Errorf("Checked() = %d, want 2 (one request, one response)", got)
	}
}

func TestWrongContentTypeIsCaught(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, thing) })
	_, c, _, _ := serve(t, h, "GET", "/api/things/1", "", nil)
	c.WantViolation(t, "(getThing) → 200", "response", "text/plain")
}

func TestUnknownOperationIsAViolation(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/api/nothing", "no path matches /api/nothing"},
		{"DELETE", "/api/things/1", "DELETE is not defined for /api/things/1"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			v, c, _, _ := serve(t, jsonHandler(404, notFound), tc.method, tc.path, "", nil)
			c.WantViolation(t, "oapitest: "+tc.method+" "+tc.path+" → 404", "not in the Test OpenAPI document", tc.want)
			if v.Checked() != 1 {
				t.Errorf("Checked() = %d, want 1 (the request)", v.Checked())
			}
		})
	}
}

func TestPathOutsidePrefixPassesThrough(t *testing.T) {
	v, c, resp, body := serve(t, jsonHandler(200, "file bytes"), "GET", "/download/9876/report.pdf", "", nil)
	c.WantClean(t)
	if resp.StatusCode != 200 || string(body) != "file bytes" {
		t.Errorf("got %d %q, want the handler's response", resp.StatusCode, body)
	}
	if v.Checked() != 0 {
		t.Errorf("Checked() = %d, want 0 for a path outside /api", v.Checked())
	}
}

func TestNonConformingRequest(t *testing.T) {
	const path = "/api/things/1?fields=name,colour"
	t.Run("accepted is a violation", func(t *testing.T) {
		_, c, _, _ := serve(t, jsonHandler(200, thing), "GET", path, "", nil)
		c.WantViolation(t, "→ 200", "request", `"fields"`, "not one of the allowed values")
	})
	t.Run("rejected with 400 is fine", func(t *testing.T) {
		v, c, _, _ := serve(t, jsonHandler(400, `{"errors":[{"message":"fields: unknown field"}]}`), "GET", path, "", nil)
		c.WantClean(t)
		if v.Checked() != 2 {
			t.Errorf("Checked() = %d, want 2: the 400 body is still validated", v.Checked())
		}
	})
	t.Run("rejection body must conform", func(t *testing.T) {
		_, c, _, _ := serve(t, jsonHandler(400, `{"errors":"bad"}`), "GET", path, "", nil)
		c.WantViolation(t, "→ 400", "response", "/errors")
	})
}

func TestRequestBodyReachesHandler(t *testing.T) {
	const body = `{"name":"Spoon"}`
	var seen []byte
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, thing)
	})
	v, c, _, _ := serve(t, h, "POST", "/api/things", "application/json", strings.NewReader(body))
	c.WantClean(t)
	if string(seen) != body {
		t.Errorf("handler read %q, want the request body %q", seen, body)
	}
	if v.Checked() != 2 {
		t.Errorf("Checked() = %d, want 2", v.Checked())
	}

	_, c, _, _ = serve(t, h, "POST", "/api/things", "application/json", strings.NewReader(`{"name":7}`))
	c.WantViolation(t, "POST /api/things (createThing) → 201", "request body", "/name")
}

func TestLargeBodyIsStreamedNotValidated(t *testing.T) {
	body := `{"name":"` + strings.Repeat("x", 64) + `"}`
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got, err := io.ReadAll(r.Body); err != nil || string(got) != body {
			t.Errorf("handler read %d bytes (err %v), want the %d bytes sent", len(got), err, len(body))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, thing)
	})
	small := func(v *Validator) { v.SetMaxBody(48) } // over the request, not the answer
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			var r io.Reader = strings.NewReader(body)
			if chunked {
				r = io.MultiReader(r) // hides the length: sent chunked
			}
			req := newRequest(t, "POST", "/api/things", "application/json", r)
			v, c, _, _ := serveRequest(t, testConfig(), small, h, req)
			c.WantClean(t)
			if logs := c.Logs(); len(logs) != 1 || !strings.Contains(logs[0], "request body over 48 bytes") {
				t.Errorf("want one note that the body was not validated, got %q", logs)
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
		io.WriteString(w, thing[:10])
		w.(http.Flusher).Flush()
		io.WriteString(w, thing[10:])
	})
	v, c, _, body := serve(t, h, "GET", "/api/things/1", "", nil)
	c.WantClean(t)
	if string(body) != thing || v.Checked() != 2 {
		t.Errorf("got %q and Checked %d; want the whole body and 2", body, v.Checked())
	}
}

// TestHijackedConnectionHasNoResponse: sandboxes cut connections to inject
// faults; the request is still checked, the missing answer is not.
func TestHijackedConnectionHasNoResponse(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack through the recorder: %v", err)
			return
		}
		conn.Close()
	})
	v, c, resp, _ := serve(t, h, "GET", "/api/things/1", "", nil)
	if resp != nil {
		t.Errorf("client got a response from a cut connection: %v", resp.Status)
	}
	c.WantClean(t)
	if v.Checked() != 1 {
		t.Errorf("Checked() = %d, want 1 (the request only)", v.Checked())
	}
}

func TestAbortedHandlerReportsRequestViolation(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	_, c, _, _ := serve(t, h, "GET", "/api/nowhere", "", nil)
	c.WantViolation(t, "→ aborted", "not in the Test OpenAPI document")
}

func TestConcurrentRequests(t *testing.T) {
	c := &Catch{TB: t}
	v := newValidator(t, testConfig(), nil)
	srv := httptest.NewServer(v.Wrap(c, jsonHandler(200, thing)))
	const n = 20
	done := make(chan struct{})
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			req := newRequest(t, "GET", srv.URL+"/api/things/1?fields=name", "", nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	for range n {
		<-done
	}
	srv.Close()
	c.WantClean(t)
	if v.Checked() != 2*n {
		t.Errorf("Checked() = %d, want %d", v.Checked(), 2*n)
	}
}

func TestLoadWantsTheSchemasItNames(t *testing.T) {
	cfg := testConfig()
	cfg.ErrorSchema = "Fault"
	if _, err := Load(cfg); err == nil || !strings.Contains(err.Error(), "has no Fault schema") {
		t.Errorf("Load with a missing error schema: %v, want it to name Fault", err)
	}
	for _, name := range []string{"[]Shelf", "shelf: Shelf", ": Thing"} {
		cfg := testConfig()
		cfg.Extras[0].Answers = map[int]string{200: name}
		if _, err := Load(cfg); err == nil || !strings.Contains(err.Error(), "Shelf") && !strings.Contains(err.Error(), "names no member") {
			t.Errorf("Load with an Extra answering %q: %v, want it refused", name, err)
		}
	}
}
