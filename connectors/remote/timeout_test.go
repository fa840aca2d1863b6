package remote

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/api"
)

// A call gives up after its call timeout when its context has no deadline, but
// a Bulk Exalate waits as long as its context lets it: the node answers
// one only after reading and preparing every item of the project.
func TestBulkExalateOutlastsTheCallTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		json.NewEncoder(w).Encode(api.ExalateResponse{Events: []engine.StageEvent{{EventID: "e1"}}})
	}))
	defer srv.Close()
	c, err := New(srv.URL, "tdm_admin_x", WithCallTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	bulk := make(chan error, 1)
	go func() {
		evs, err := c.ExalateAll(context.Background(), "c1")
		if err == nil && (len(evs.Events) != 1 || evs.Started != 1) {
			t.Errorf("bulk exalate: %v", evs)
		}
		bulk <- err
	}()
	// Another call against the same slow node times out meanwhile...
	if _, err := c.Connections(context.Background()); err == nil {
		t.Fatal("a call without a deadline did not time out")
	}
	// ...while the Bulk Exalate, started before it, still waits.
	close(release)
	if err := <-bulk; err != nil {
		t.Fatalf("the Bulk Exalate gave up: %v", err)
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
