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

// A call gives up after callTimeout when its context has no deadline, but
// a Bulk Exalate waits as long as its context lets it: the node answers
// one only after reading and preparing every item of the project.
func TestBulkExalateOutlastsTheCallTimeout(t *testing.T) {
	defer func(d time.Duration) { callTimeout = d }(callTimeout)
	callTimeout = 100 * time.Millisecond
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
	c, err := New(srv.URL, "tdm_admin_x")
	if err != nil {
		t.Fatal(err)
	}
	bulk := make(chan error, 1)
	go func() {
		evs, err := c.Exalate(context.Background(), "", "c1", true)
		if err == nil && len(evs) != 1 {
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
