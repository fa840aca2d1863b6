package tui

import (
	"context"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// Script mode's answers, cleaned like the rest: a test run carries item
// text and what a script printed. Scripts, diffs, a replica's JSON and a
// script's printed output are many lines: they keep their line breaks
// and tabs (termtext.Text), where every other string becomes one line.

func (n cleanNode) Upgrade(ctx context.Context, connID string) (adminapi.Scripts, error) {
	v, err := n.Node.Upgrade(ctx, connID)
	return cleanScripts(v), cleanErr(err)
}

func (n cleanNode) Scripts(ctx context.Context, connID string) (adminapi.Scripts, error) {
	v, err := n.Node.Scripts(ctx, connID)
	return cleanScripts(v), cleanErr(err)
}

func (n cleanNode) SaveDraft(ctx context.Context, connID string, r adminapi.DraftRequest) (adminapi.Scripts, error) {
	v, err := n.Node.SaveDraft(ctx, connID, r)
	return cleanScripts(v), cleanErr(err)
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
	out := cleaned(v)
	out.Outgoing, out.Incoming = termtext.Text(v.Outgoing), termtext.Text(v.Incoming)
	return out, cleanErr(err)
}

func (n cleanNode) TestRun(ctx context.Context, connID string, r adminapi.TestRunRequest) (adminapi.TestRun, error) {
	v, err := n.Node.TestRun(ctx, connID, r)
	out := cleaned(v)
	out.Replica, out.Log = termtext.Text(v.Replica), termtext.Text(v.Log)
	return out, cleanErr(err)
}

// cleanScripts cleans a connection's scripts, keeping their lines.
func cleanScripts(v adminapi.Scripts) adminapi.Scripts {
	out := cleaned(v)
	out.Outgoing, out.Incoming = termtext.Text(v.Outgoing), termtext.Text(v.Incoming)
	out.DraftOutgoing, out.DraftIncoming = termtext.Text(v.DraftOutgoing), termtext.Text(v.DraftIncoming)
	return out
}
