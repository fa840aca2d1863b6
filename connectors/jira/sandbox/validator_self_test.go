package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// catchTB records what the validator reports instead of failing the test.
type catchTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (c *catchTB) Errorf(format string, args ...any) {
	c.mu.Lock()
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// TestValidatorCatchesViolations shows the contract check can fail: a
// handler answering outside the document is reported.
func TestValidatorCatchesViolations(t *testing.T) {
	cases := map[string]struct {
		path    string
		status  int
		body    string
		noCreds bool
		want    string
	}{
		"wrong type":         {"/myself", 200, `{"accountId":5}`, false, "accountId"},
		"unknown member":     {"/serverInfo", 200, `{"serverTitle":"x","bogus":1}`, false, "bogus"},
		"RFC 1123 timestamp": {"/serverInfo", 200, `{"serverTime":"Mon, 02 Jan 2006 15:04:05 MST"}`, false, "serverTime"},
		"bad error body":     {"/myself", 401, `{"message":"nope"}`, false, "error body"},
		"undocumented":       {"/myself", 418, `{"errorMessages":[],"errors":{}}`, false, "not documented"},
		"429 bare":           {"/myself", 429, `{"errorMessages":[],"errors":{}}`, false, "Retry-After"},
		"no credentials":     {"/myself", 200, `{"accountId":"a"}`, true, "request"},
	}
	for name, c := range cases {
		tb := &catchTB{TB: t}
		v := newValidator(t)
		h := v.Wrap(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte(c.body))
		}))
		r := httptest.NewRequest("GET", apiPrefix+c.path, nil)
		if !c.noCreds {
			r.SetBasicAuth("a@b.c", "t")
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got := strings.Join(tb.errs, "\n"); !strings.Contains(got, c.want) {
			t.Errorf("%s: reported %q, want a report mentioning %q", name, got, c.want)
		}
	}
	// And a conforming answer passes.
	tb := &catchTB{TB: t}
	h := newValidator(t).Wrap(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"serverTitle": "x", "serverTime": "2026-01-01T00:00:00.000+0000"})
	}))
	r := httptest.NewRequest("GET", apiPrefix+"/serverInfo", nil)
	r.SetBasicAuth("a@b.c", "t")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if len(tb.errs) > 0 {
		t.Errorf("conforming answer reported: %v", tb.errs)
	}
}
