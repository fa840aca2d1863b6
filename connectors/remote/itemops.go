package remote

import (
	"context"
	"net/http"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// Unexalate stops syncing an item pair on the node; ref names either
// side's item.
func (c *Client) Unexalate(ctx context.Context, connection, ref string) (adminapi.UnexalateResult, error) {
	var res adminapi.UnexalateResult
	return res, c.call(ctx, http.MethodPost, adminapi.PathUnexalate, adminapi.UnexalateRequest{Ref: ref, Connection: connection}, &res)
}

// LinkItems makes two existing items, one on each side, twins.
func (c *Client) LinkItems(ctx context.Context, r adminapi.LinkRequest) (adminapi.LinkResult, error) {
	var res adminapi.LinkResult
	return res, c.call(ctx, http.MethodPost, adminapi.PathLink, r, &res)
}

// ItemHistory returns an item's latest syncs, newest first.
func (c *Client) ItemHistory(ctx context.Context, connection, ref string, limit int) (adminapi.ItemHistory, error) {
	var h adminapi.ItemHistory
	return h, c.call(ctx, http.MethodGet, adminapi.HistoryPath(ref, connection, limit), nil, &h)
}
