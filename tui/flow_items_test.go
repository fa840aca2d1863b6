package tui

import (
	"context"
	"errors"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/internal/demo"
)

// TestFlowHistoryAndUnexalate: over two real nodes (Asana↔Asana and
// Asana↔Jira), an admin opens a synced item's history from the
// connection page, reads its syncs with their rules version, and
// unexalates it after saying yes; both nodes forget the pair.
func TestFlowHistoryAndUnexalate(t *testing.T) {
	for _, pair := range []struct {
		name  string
		start func(context.Context, string, func(*demo.Spec)) ([]*demo.Node, error)
	}{{"asana-asana", demo.Pair}, {"asana-jira", demo.Mixed}} {
		t.Run(pair.name, func(t *testing.T) {
			f := startFlowWith(t, pair.start, nil, func(n *demo.Node) Node { return n.Node.Admin() })
			a, b := f.nodes[0], f.nodes[1]
			ctx := context.Background()
			conn, err := a.Connect(ctx, engine.ConnectRequest{To: b.URL, DestToken: b.AdminToken, DestProject: b.Project, Project: a.Project})
			if err != nil {
				t.Fatal(err)
			}
			items, err := a.RecentItems(ctx, conn.LocalProject, 1)
			if err != nil || len(items) != 1 {
				t.Fatalf("Acme's items: %v %v", items, err)
			}
			ev, err := a.Exalate(ctx, conn.ID, items[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			var twin string
			waitUntil(t, func() bool {
				st, err := a.EventStatus(ctx, conn.ID, ev.EventID)
				twin = st.RemoteKey
				return err == nil && st.Stage == engine.StageSynchronized
			})

			f.typ("r")
			f.waitFor(conn.Name)
			f.mark()
			f.send(tea.KeyEnter)
			f.waitFor("Recent syncs", ev.LocalKey)
			f.mark()
			f.typ("h")
			f.waitFor("History of "+ev.LocalKey, "Twin        "+twin, "Synchronized        basic", "Stages: Preparing")
			f.mark()
			f.typ("u")
			f.waitFor("Unexalate "+ev.LocalKey+" ↔ "+twin+"?", "y/n")
			f.mark()
			f.typ("y")
			f.waitFor("✓ Unexalated: "+ev.LocalKey, "none: unexalated")

			h, err := a.ItemHistory(ctx, conn.ID, ev.LocalKey, 0)
			if err != nil || h.RemoteKey != "" || h.UnexalatedTwin != twin {
				t.Errorf("Acme's history after the console's unexalate: %+v %v", h, err)
			}
			hb, err := b.ItemHistory(ctx, "", twin, 0)
			if err != nil || hb.RemoteKey != "" || hb.UnexalatedAt.IsZero() {
				t.Errorf("Globex's history after the console's unexalate: %+v %v", hb, err)
			}
			if _, err := b.Unexalate(ctx, "", twin); !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("Globex still has a twin to unexalate: %v", err)
			}
		})
	}
}
