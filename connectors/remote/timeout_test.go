package remote

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/engine/api"
)

// A Bulk Exalate outlasts the call timeout without any one call doing so:
// the node answers its start once queued, and the client follows it in
// short reads, one of which may fail (a balancer's 502, a replica gone)
// without ending the wait.
func TestBulkExalateOutlastsTheCallTimeout(t *testing.T) {
	var reads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := adminapi.Bulk{ID: "b1", ConnectionID: "c1", Listing: true}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == adminapi.PathExalate:
			json.NewEncoder(w).Encode(api.ExalateResponse{Events: []engine.StageEvent{}, Bulk: &b})
			return
		case r.Method != http.MethodGet || r.URL.Path != "/api/v1/admin/bulks/c1/b1":
			http.NotFound(w, r)
			return
		}
		n := reads.Add(1)
		switch {
		case n == 2:
			http.Error(w, "no replica answered", http.StatusBadGateway)
			return
		case n >= 5:
			b.Listing, b.Started = false, 1
			if r.URL.Query().Get("events") != "" {
				b.Events = []engine.StageEvent{{EventID: "e1"}}
			}
		}
		json.NewEncoder(w).Encode(b)
	}))
	defer srv.Close()
	c, err := New(srv.URL, "tdm_admin_x", WithCallTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	got, err := c.ExalateAll(context.Background(), "c1")
	if err != nil {
		t.Fatalf("the Bulk Exalate gave up: %v", err)
	}
	if len(got.Events) != 1 || got.Started != 1 {
		t.Errorf("bulk exalate: %+v", got)
	}
	if took := time.Since(began); took < 100*time.Millisecond {
		t.Fatalf("the bulk was followed for %v, within one call timeout: the test did not outlast it", took)
	}
}

// Without the option, and with a non-positive one, a client keeps the
// default bound: a zero from a config must not mean "wait forever".
func TestCallTimeoutDefaults(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithCallTimeout(0)}, {WithCallTimeout(-time.Second)}} {
		c, err := New("http://127.0.0.1:1", "tdm_admin_x", opts...)
		if err != nil {
			t.Fatal(err)
		}
		if c.callTimeout != DefaultCallTimeout {
			t.Errorf("%d options: call timeout %v, want %v", len(opts), c.callTimeout, DefaultCallTimeout)
		}
	}
	c, err := New("http://127.0.0.1:1", "tdm_admin_x", WithCallTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if c.callTimeout != time.Second {
		t.Errorf("call timeout %v, want 1s", c.callTimeout)
	}
}
