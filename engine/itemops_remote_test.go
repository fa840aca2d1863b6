package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// TestItemOpsThroughAdminAPI runs history, unexalate and link through the
// admin API's client (connectors/remote), as the console and the command
// line do when they run apart from the node: the answers are the node's,
// and its errors keep their kind across the wire.
func TestItemOpsThroughAdminAPI(t *testing.T) {
	a, b, connA, _ := connected(t)
	ctx := ctxFor(t)
	rc := a.remote(t)
	first, second := twoTasks(t, a, connA.LocalProject)
	done := exalate(t, a, first.ID)
	settledWithoutEcho(t, a, b)

	h, err := rc.ItemHistory(ctx, connA.Name, first.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	want, err := a.ItemHistory(ctx, connA.ID, first.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	if h.ConnectionID != want.ConnectionID || h.RemoteKey != done.RemoteKey || len(h.Syncs) != 1 || len(want.Syncs) != 1 ||
		h.Syncs[0].EventID != done.EventID || h.Syncs[0].RulesVersion != "basic" || len(h.Syncs[0].Stages) != 5 {
		t.Errorf("history through the API: %+v, the node says %+v", h, want)
	}
	if _, err := rc.ItemHistory(ctx, "", second.ID, 0); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("history of a task never synced: %v, want ErrNotFound", err)
	}

	res, err := rc.Unexalate(ctx, "", first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.LocalKey != first.Key || res.RemoteKey != done.RemoteKey || res.ConnectionID != connA.ID {
		t.Errorf("unexalate through the API answered %+v", res)
	}
	if _, err := rc.Unexalate(ctx, "", first.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a second unexalate through the API: %v, want ErrNotFound", err)
	}

	// Link them again, Acme's fields winning, through the API.
	renamed := "renamed while apart"
	if _, err := a.et().Update(ctx, first.ID, engine.EntityUpdate{Summary: &renamed}); err != nil {
		t.Fatal(err)
	}
	lr, err := rc.LinkItems(ctx, adminapi.LinkRequest{Ref: first.ID, RemoteRef: done.RemoteKey, Connection: connA.ID})
	if err != nil {
		t.Fatal(err)
	}
	if lr.Winner != adminapi.WinnerLocal || lr.RemoteKey != done.RemoteKey || lr.Event == nil {
		t.Errorf("link through the API answered %+v, want Acme winning with a first sync started", lr)
	}
	within(t, 30*time.Second, "Acme's rename on Globex", func() bool { return read(t, b, done.RemoteKey).Summary == renamed })
	if _, err := rc.LinkItems(ctx, adminapi.LinkRequest{Ref: second.ID, RemoteRef: done.RemoteKey, Winner: "both"}); !errors.Is(err, engine.ErrBadRequest) {
		t.Errorf("link with --winner both: %v, want ErrBadRequest", err)
	}
	if _, err := rc.LinkItems(ctx, adminapi.LinkRequest{Ref: second.ID, RemoteRef: done.RemoteKey}); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("link to a twin through the API: %v, want ErrConflict", err)
	}
}
