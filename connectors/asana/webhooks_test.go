package asana_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// TestTrackerWebhooks: the tracker establishes a webhook (the sandbox's
// handshake reaching the target during the call), lists and reads it, and
// deletes it; a deleted one reads as tracker.ErrNotFound and deleting it
// again is no error. Every call passes the OpenAPI contract check.
func TestTrackerWebhooks(t *testing.T) {
	e := start(t, nil)
	var handshakes atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := r.Header.Get("X-Hook-Secret"); s != "" {
			handshakes.Add(1)
			w.Header().Set("X-Hook-Secret", s)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(target.Close)
	tr := asana.NewTracker(e.client, "")
	if _, err := tr.Check(ctx(t)); err != nil {
		t.Fatal(err)
	}
	var _ tracker.Webhooks = tr
	projects, err := tr.Projects(ctx(t))
	if err != nil || len(projects) == 0 {
		t.Fatalf("projects: %v, %v", projects, err)
	}
	p := projects[0].ID
	h, err := tr.Subscribe(ctx(t), p, target.URL+"/hooks/1")
	if err != nil {
		t.Fatal(err)
	}
	if h.ID == "" || h.Project != p || h.Target != target.URL+"/hooks/1" || handshakes.Load() != 1 {
		t.Errorf("established %+v after %d handshakes; want one on project %s to the target", h, handshakes.Load(), p)
	}
	if got, err := tr.Hook(ctx(t), h.ID); err != nil || got.ID != h.ID || !got.Active {
		t.Errorf("read back %+v, %v; want the webhook, active", got, err)
	}
	if hooks, err := tr.Hooks(ctx(t), p); err != nil || len(hooks) != 1 || hooks[0].ID != h.ID {
		t.Errorf("listed %+v, %v; want the one webhook", hooks, err)
	}
	if err := tr.Unsubscribe(ctx(t), h.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Hook(ctx(t), h.ID); !errors.Is(err, tracker.ErrNotFound) {
		t.Errorf("a deleted webhook reads as %v; want tracker.ErrNotFound", err)
	}
	if err := tr.Unsubscribe(ctx(t), h.ID); err != nil {
		t.Errorf("deleting a deleted webhook: %v; want no error", err)
	}
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK) // no echo: the handshake fails
	}))
	t.Cleanup(refusing.Close)
	if _, err := tr.Subscribe(ctx(t), p, refusing.URL); err == nil {
		t.Error("a webhook whose target didn't echo the secret was established")
	}
	if e.checked() == 0 {
		t.Error("no call went through the contract check")
	}
}
