package tui

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// hostileQueueNode answers the errors and queue methods with hostile text
// in every string, and a hostile error.
type hostileQueueNode struct{ *fakeNode }

func (hostileQueueNode) Errors(context.Context, string, int) (adminapi.SyncErrors, error) {
	return filled[adminapi.SyncErrors](), hostileError
}
func (hostileQueueNode) Retry(context.Context, string, string) (adminapi.StageEvent, error) {
	return filled[adminapi.StageEvent](), hostileError
}
func (hostileQueueNode) RetryAll(context.Context, string) (int, error) { return 3, hostileError }
func (hostileQueueNode) Resolve(context.Context, string, string, string) (adminapi.StageEvent, error) {
	return filled[adminapi.StageEvent](), hostileError
}
func (hostileQueueNode) Queue(context.Context, string, int) (adminapi.SyncQueue, error) {
	return filled[adminapi.SyncQueue](), hostileError
}

// TestCleanNodeCleansTheQueue: what the errors and queue methods answer
// reaches the screens cleaned, identifiers as they were, and errors still
// match the node's.
func TestCleanNodeCleansTheQueue(t *testing.T) {
	ctx := context.Background()
	n := cleanNode{hostileQueueNode{&fakeNode{}}}
	check := func(method string, v any, err error) {
		t.Helper()
		checkCleaned(t, method, reflect.ValueOf(v), "")
		if !termtext.Clean(err.Error()) || !errors.Is(err, hostileError) {
			t.Errorf("%s: error %q, errors.Is %v", method, err, errors.Is(err, hostileError))
		}
	}
	v1, err := n.Errors(ctx, "", 0)
	check("Errors", v1, err)
	v2, err := n.Retry(ctx, "", "")
	check("Retry", v2, err)
	v3, err := n.RetryAll(ctx, "")
	check("RetryAll", v3, err)
	v4, err := n.Resolve(ctx, "", "", "")
	check("Resolve", v4, err)
	v5, err := n.Queue(ctx, "", 0)
	check("Queue", v5, err)
	if v1.Errors[0].EventID != hostile || v5.Entries[0].BehindEventID != hostile {
		t.Error("an event's id was changed: the screens send it back to the node")
	}
}
