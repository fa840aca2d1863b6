package remote

import (
	"context"
	"net/http"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// Errors lists the node's failing syncs on a connection ("" for every
// connection), oldest first.
func (c *Client) Errors(ctx context.Context, connection string, limit int) (adminapi.SyncErrors, error) {
	var e adminapi.SyncErrors
	return e, c.call(ctx, http.MethodGet, adminapi.ErrorsPath(connection, limit), nil, &e)
}

// Retry has the node try one sync again now.
func (c *Client) Retry(ctx context.Context, connection, event string) (adminapi.StageEvent, error) {
	var ev adminapi.StageEvent
	return ev, c.call(ctx, http.MethodPost, adminapi.PathRetry, adminapi.RetryRequest{Event: event, Connection: connection}, &ev)
}

// RetryAll has the node try every failing sync of a connection ("" for
// every connection) again now, and says how many.
func (c *Client) RetryAll(ctx context.Context, connection string) (int, error) {
	var r adminapi.RetryAllResult
	err := c.call(ctx, http.MethodPost, adminapi.PathRetryAll, adminapi.RetryAllRequest{Connection: connection}, &r)
	return r.Retried, err
}

// Resolve stops retrying one sync, for a reason the item's history shows.
func (c *Client) Resolve(ctx context.Context, connection, event, reason string) (adminapi.StageEvent, error) {
	var ev adminapi.StageEvent
	return ev, c.call(ctx, http.MethodPost, adminapi.PathResolve,
		adminapi.ResolveRequest{Event: event, Connection: connection, Reason: reason}, &ev)
}

// Queue lists the node's open syncs on a connection ("" for every
// connection), oldest first.
func (c *Client) Queue(ctx context.Context, connection string, limit int) (adminapi.SyncQueue, error) {
	var q adminapi.SyncQueue
	return q, c.call(ctx, http.MethodGet, adminapi.QueuePath(connection, limit), nil, &q)
}
