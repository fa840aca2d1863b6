package engine_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
)

// heldChanges is an Asana tracker whose next look at a held project's
// changes waits, once begun, until release is closed; looks begun after
// release are counted.
type heldChanges struct {
	*asana.Tracker
	mu       sync.Mutex
	project  string
	entered  chan struct{}
	release  chan struct{}
	released atomic.Bool
	after    atomic.Int64
}

func (h *heldChanges) hold(project string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.project, h.entered, h.release = project, make(chan struct{}), make(chan struct{})
}

func (h *heldChanges) Changes(ctx context.Context, project, cursor string) (engine.Changes, error) {
	if h.released.Load() {
		h.after.Add(1)
	}
	h.mu.Lock()
	held := h.project != "" && project == h.project
	entered, release := h.entered, h.release
	if held {
		h.project = ""
	}
	h.mu.Unlock()
	if held {
		close(entered)
		<-release
	}
	return h.Tracker.Changes(ctx, project, cursor)
}

// TestDeletingAConnectionMidDetectionLogsNoWarning deletes a connection
// while change detection is looking at its project: the round notices the
// connection is gone and stops quietly, with no foreign key failure from
// writing a cursor for it, and detection goes on for the others.
func TestDeletingAConnectionMidDetectionLogsNoWarning(t *testing.T) {
	held := &heldChanges{}
	a := startNode(t, "Acme", &clock{}, func(n *testNode) {
		n.wrap = func(tr *asana.Tracker) engine.Tracker { held.Tracker = tr; return held }
	})
	ctx := ctxFor(t)
	// A local connection has two ends on the node: one is deleted, the
	// other goes on being polled, which shows the rounds go on.
	if _, err := a.Connect(ctx, engine.ConnectRequest{To: a.url, Project: "Company", DestProject: "Test"}); err != nil {
		t.Fatal(err)
	}
	cs, err := a.Connections(ctx)
	if err != nil || len(cs) != 2 {
		t.Fatalf("connections: %+v, %v; want the two ends of a local connection", cs, err)
	}
	gone := cs[0]
	held.hold(gone.LocalProject)
	select {
	case <-held.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("change detection never looked at the connection's project")
	}
	if err := a.Delete(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	held.released.Store(true)
	close(held.release)
	// Two looks begun after the release: the held round has ended and
	// the next one is under way.
	within(t, 30*time.Second, "detection to go on after the delete", func() bool { return held.after.Load() >= 2 })
	log := a.log.String()
	for _, bad := range []string{"FOREIGN KEY", "change detection failed"} {
		if strings.Contains(log, bad) {
			t.Errorf("deleting a connection mid-detection logged %q:\n%s", bad, log)
		}
	}
}
