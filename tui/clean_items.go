package tui

import (
	"context"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// The item operations through cleanNode (see clean.go): what the node
// answers is cleaned before a screen sees it.

func (n cleanNode) Unexalate(ctx context.Context, connID, ref string) (adminapi.UnexalateResult, error) {
	v, err := n.Node.Unexalate(ctx, connID, ref)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) LinkItems(ctx context.Context, r adminapi.LinkRequest) (adminapi.LinkResult, error) {
	v, err := n.Node.LinkItems(ctx, r)
	return cleaned(v), cleanErr(err)
}

func (n cleanNode) ItemHistory(ctx context.Context, connID, ref string, limit int) (adminapi.ItemHistory, error) {
	v, err := n.Node.ItemHistory(ctx, connID, ref, limit)
	return cleaned(v), cleanErr(err)
}
