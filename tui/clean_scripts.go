package tui

import (
	"context"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// Script mode's answers, cleaned like the rest: a test run carries item
// text and what a script printed.

func (n cleanNode) Upgrade(ctx context.Context, connID string) (adminapi.Scripts, error) {
	v, err := n.Node.Upgrade(ctx, connID)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Scripts(ctx context.Context, connID string) (adminapi.Scripts, error) {
	v, err := n.Node.Scripts(ctx, connID)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) SaveDraft(ctx context.Context, connID string, r adminapi.DraftRequest) (adminapi.Scripts, error) {
	v, err := n.Node.SaveDraft(ctx, connID, r)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) Publish(ctx context.Context, connID string, r adminapi.PublishRequest) (adminapi.ScriptVersion, error) {
	v, err := n.Node.Publish(ctx, connID, r)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) ScriptVersions(ctx context.Context, connID string) ([]adminapi.ScriptVersion, error) {
	v, err := n.Node.ScriptVersions(ctx, connID)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) CompareScripts(ctx context.Context, connID string, from, to int) (adminapi.ScriptDiff, error) {
	v, err := n.Node.CompareScripts(ctx, connID, from, to)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) TestRun(ctx context.Context, connID string, r adminapi.TestRunRequest) (adminapi.TestRun, error) {
	v, err := n.Node.TestRun(ctx, connID, r)
	return cleaned(v), cleanErr(err)
}
