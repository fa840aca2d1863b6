package tui

import (
	"context"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// The failing syncs and the queue of fakeNode: not faked (queueNode in
// errors_test.go answers them).

func (f *fakeNode) Errors(_ context.Context, connID string, _ int) (adminapi.SyncErrors, error) {
	f.record("Errors " + connID)
	return adminapi.SyncErrors{}, errNotFaked
}

func (f *fakeNode) Retry(_ context.Context, connID, eventID string) (adminapi.StageEvent, error) {
	f.record("Retry " + connID + " " + eventID)
	return adminapi.StageEvent{}, errNotFaked
}

func (f *fakeNode) RetryAll(_ context.Context, connID string) (int, error) {
	f.record("RetryAll " + connID)
	return 0, errNotFaked
}

func (f *fakeNode) Resolve(_ context.Context, connID, eventID, reason string) (adminapi.StageEvent, error) {
	f.record("Resolve " + connID + " " + eventID + " " + reason)
	return adminapi.StageEvent{}, errNotFaked
}

func (f *fakeNode) Queue(_ context.Context, connID string, _ int) (adminapi.SyncQueue, error) {
	f.record("Queue " + connID)
	return adminapi.SyncQueue{}, errNotFaked
}
