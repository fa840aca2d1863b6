package tui

import (
	"context"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine"
)

// TestFlowErrorsRetryResolve: over two real nodes, Globex's tracker
// refuses writes. A sync from Acme fails on Globex and shows in the
// connection's Errors there with its stage and the tracker's error
// (enter: in full); once the tracker takes writes again, r retries it and
// it reaches Synchronized. Another sync that fails is resolved with a
// reason typed in, which both nodes record.
func TestFlowErrorsRetryResolve(t *testing.T) {
	f := startFlow(t, nil)
	a, b := f.nodes[0], f.nodes[1]
	ctx := context.Background()
	conn, err := a.Connect(ctx, engine.ConnectRequest{To: b.URL, DestToken: b.AdminToken, DestProject: b.Project, Project: a.Project})
	if err != nil {
		t.Fatal(err)
	}
	items, err := a.RecentItems(ctx, conn.LocalProject, 2)
	if err != nil || len(items) != 2 {
		t.Fatalf("Acme's items: %v %v", items, err)
	}
	b.Sandbox.SetRefuseWrites(true)
	first, err := a.Exalate(ctx, conn.ID, items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool {
		errs, err := b.Errors(ctx, "", 0)
		return err == nil && errs.Total == 1
	})

	// On Globex: its connection, then its errors.
	f.mark()
	f.send(tea.KeyCtrlT)
	f.waitFor("Globex", conn.Name)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Recent syncs")
	f.mark()
	f.typ("E")
	f.waitFor("Failing syncs on "+conn.Name+" · 1", first.LocalKey+" "+items[0].Summary[:8], "Waiting for remote", "403 Forbidden")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("received from Acme", "may read the workspace but not write to it")
	f.mark()
	f.send(tea.KeyEsc)
	f.waitFor("Next try")

	b.Sandbox.SetRefuseWrites(false)
	f.mark()
	f.typ("r")
	f.waitFor("✓ Retrying " + first.LocalKey + " now.")
	waitUntil(t, func() bool {
		st, err := a.EventStatus(ctx, conn.ID, first.EventID)
		return err == nil && st.Stage == engine.StageSynchronized
	})
	f.waitFor("Failing syncs on " + conn.Name + " · 0")

	b.Sandbox.SetRefuseWrites(true)
	second, err := a.Exalate(ctx, conn.ID, items[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	f.mark()
	f.waitFor("Failing syncs on "+conn.Name+" · 1", second.LocalKey+" "+items[1].Summary[:8])
	f.mark()
	f.typ("x")
	f.waitFor("Why? (recorded in its history)")
	const reason = "Globex's project is frozen for the audit"
	f.typ(reason)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("✓ Resolved " + second.LocalKey + ": not retried any more")
	st, err := b.EventStatus(ctx, conn.Name, second.EventID)
	if err != nil || st.Resolution != reason {
		t.Errorf("Globex's sync after resolving in the console: %+v, %v", st, err)
	}
	waitUntil(t, func() bool {
		h, err := a.ItemHistory(ctx, conn.ID, items[1].ID, 0)
		return err == nil && len(h.Syncs) > 0 && h.Syncs[0].Resolution == "resolved on Globex: "+reason
	})
}

// TestFlowQueueOfADeactivatedConnection: syncs started while Acme's
// connection is deactivated wait in its Sync queue, paused, and are
// counted in the connections table; once the connection is activated they
// go, and the queue empties.
func TestFlowQueueOfADeactivatedConnection(t *testing.T) {
	f := startFlow(t, nil)
	a, b := f.nodes[0], f.nodes[1]
	ctx := context.Background()
	conn, err := a.Connect(ctx, engine.ConnectRequest{To: b.URL, DestToken: b.AdminToken, DestProject: b.Project, Project: a.Project})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SetActive(ctx, conn.ID, false); err != nil {
		t.Fatal(err)
	}
	items, err := a.RecentItems(ctx, conn.LocalProject, 2)
	if err != nil || len(items) != 2 {
		t.Fatalf("Acme's items: %v %v", items, err)
	}
	for _, it := range items {
		if _, err := a.Exalate(ctx, conn.ID, it.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.mark()
	f.typ("r")
	// The row, not the header: a redraw prints only the lines that
	// changed, and the header may have had its Queued column before the
	// mark (the list loads on its own too).
	f.waitFor("Deactivated")
	f.mark()
	f.typ("Q")
	f.waitFor("Sync queue on Acme, every connection · 2 open", items[0].Key, items[1].Key, "Paused",
		"Paused syncs go once their connection is active.")
	f.mark()
	if _, err := a.SetActive(ctx, conn.ID, true); err != nil {
		t.Fatal(err)
	}
	f.waitFor("Sync queue on Acme, every connection · 0 open", "Nothing queued")
	waitUntil(t, func() bool {
		cs, err := a.Connections(ctx)
		return err == nil && len(cs) == 1 && cs[0].Queued == 0 && cs[0].SyncedItems == 2
	})
}
