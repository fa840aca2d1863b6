package tui

import (
	"context"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// The item operations of fakeNode: not faked (itemsNode in
// history_test.go answers them).

func (f *fakeNode) Unexalate(_ context.Context, connID, ref string) (adminapi.UnexalateResult, error) {
	f.record("Unexalate " + connID + " " + ref)
	return adminapi.UnexalateResult{}, errNotFaked
}

func (f *fakeNode) LinkItems(_ context.Context, r adminapi.LinkRequest) (adminapi.LinkResult, error) {
	f.record("LinkItems " + r.Ref + " " + r.RemoteRef)
	return adminapi.LinkResult{}, errNotFaked
}

func (f *fakeNode) ItemHistory(_ context.Context, connID, ref string, _ int) (adminapi.ItemHistory, error) {
	f.record("ItemHistory " + connID + " " + ref)
	return adminapi.ItemHistory{}, errNotFaked
}
