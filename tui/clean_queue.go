package tui

import (
	"context"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// The failing syncs and the sync queue through cleanNode (see clean.go):
// what the node answers (an item's summary, an error quoting a tracker or
// another node) is cleaned before a screen sees it.

func (n cleanNode) Errors(ctx context.Context, connID string, limit int) (adminapi.SyncErrors, error) {
	v, err := n.Node.Errors(ctx, connID, limit)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Retry(ctx context.Context, connID, eventID string) (adminapi.StageEvent, error) {
	v, err := n.Node.Retry(ctx, connID, eventID)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) RetryAll(ctx context.Context, connID string) (int, error) {
	v, err := n.Node.RetryAll(ctx, connID)
	return v, cleanErr(err)
}

func (n cleanNode) Resolve(ctx context.Context, connID, eventID, reason string) (adminapi.StageEvent, error) {
	v, err := n.Node.Resolve(ctx, connID, eventID, reason)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Queue(ctx context.Context, connID string, limit int) (adminapi.SyncQueue, error) {
	v, err := n.Node.Queue(ctx, connID, limit)
	return cleaned(v), cleanErr(err)
}
