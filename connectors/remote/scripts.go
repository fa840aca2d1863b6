package remote

import (
	"context"
	"net/http"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// Upgrade moves a Basic connection to Script mode on the node's side.
func (c *Client) Upgrade(ctx context.Context, connID string) (adminapi.Scripts, error) {
	var out adminapi.Scripts
	return out, c.call(ctx, http.MethodPost, adminapi.ConnectionActionPath(connID, adminapi.ActionUpgrade), nil, &out)
}

// Scripts returns a Script mode connection's scripts.
func (c *Client) Scripts(ctx context.Context, connID string) (adminapi.Scripts, error) {
	var out adminapi.Scripts
	return out, c.call(ctx, http.MethodGet, adminapi.ConnectionActionPath(connID, adminapi.ActionScripts), nil, &out)
}

// SaveDraft replaces a connection's draft scripts.
func (c *Client) SaveDraft(ctx context.Context, connID string, r adminapi.DraftRequest) (adminapi.Scripts, error) {
	var out adminapi.Scripts
	return out, c.call(ctx, http.MethodPut, adminapi.ConnectionActionPath(connID, adminapi.ActionScriptDraft), r, &out)
}

// Publish makes the draft the version in force.
func (c *Client) Publish(ctx context.Context, connID string, r adminapi.PublishRequest) (adminapi.ScriptVersion, error) {
	var out adminapi.ScriptVersion
	return out, c.call(ctx, http.MethodPost, adminapi.ConnectionActionPath(connID, adminapi.ActionScriptPublish), r, &out)
}

// ScriptVersions lists the published versions, newest first.
func (c *Client) ScriptVersions(ctx context.Context, connID string) ([]adminapi.ScriptVersion, error) {
	var out []adminapi.ScriptVersion
	return out, c.call(ctx, http.MethodGet, adminapi.ConnectionActionPath(connID, adminapi.ActionScriptVersions), nil, &out)
}

// CompareScripts compares two versions (adminapi.DraftVersion: the draft).
func (c *Client) CompareScripts(ctx context.Context, connID string, from, to int) (adminapi.ScriptDiff, error) {
	var out adminapi.ScriptDiff
	return out, c.call(ctx, http.MethodGet, adminapi.ScriptComparePath(connID, from, to), nil, &out)
}

// TestRun runs a version of the scripts on an item, writing nothing.
func (c *Client) TestRun(ctx context.Context, connID string, r adminapi.TestRunRequest) (adminapi.TestRun, error) {
	var out adminapi.TestRun
	return out, c.call(ctx, http.MethodPost, adminapi.ConnectionActionPath(connID, adminapi.ActionScriptTest), r, &out)
}
