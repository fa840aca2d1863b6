package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// openSyncs is Acme_to_Globex's queue: a sync with Globex, an edit
// waiting its turn behind it, one retrying, one queued, and (node-wide) a
// sync of a deactivated connection.
func openSyncs(nodeWide bool) adminapi.SyncQueue {
	at := func(d time.Duration) time.Time { return testNow.Add(-d) }
	q := adminapi.SyncQueue{Entries: []adminapi.QueueEntry{
		{ConnectionID: "c1", ConnectionName: "Acme_to_Globex", EventID: "e1", Direction: "out", EntityID: "120012", LocalKey: "WEB-12",
			Summary: "Landing page copy", Stage: adminapi.StageWaiting, State: adminapi.QueueInFlight, Started: at(3 * time.Minute), StageSince: at(time.Minute)},
		{ConnectionID: "c1", ConnectionName: "Acme_to_Globex", EventID: "e2", Direction: "out", EntityID: "120012", LocalKey: "WEB-12",
			Summary: "Landing page copy", Stage: adminapi.StageSending, State: adminapi.QueueWaitingTurn, BehindEventID: "e1",
			Started: at(2 * time.Minute), StageSince: at(2 * time.Minute)},
		{ConnectionID: "c1", ConnectionName: "Acme_to_Globex", EventID: "e3", Direction: "in", RemoteKey: "1200000000000031",
			Summary: "Q3 campaign brief", Stage: adminapi.StageWaiting, State: adminapi.QueueRetrying, Error: "403 Forbidden",
			NextRetry: testNow.Add(20 * time.Second), Started: at(90 * time.Second), StageSince: at(90 * time.Second)},
		{ConnectionID: "c1", ConnectionName: "Acme_to_Globex", EventID: "e4", Direction: "out", EntityID: "120013", LocalKey: "WEB-13",
			Summary: "Footer links", Stage: adminapi.StageSending, State: adminapi.QueueQueued, Started: at(2 * time.Second), StageSince: at(time.Second)},
	}}
	if nodeWide {
		q.Entries = append(q.Entries, adminapi.QueueEntry{ConnectionID: "c2", ConnectionName: "Acme_to_Partner", EventID: "e5",
			Direction: "out", EntityID: "120020", LocalKey: "WEB-20", Summary: "Partner onboarding checklist", Stage: adminapi.StageSending,
			State: adminapi.QueuePaused, Started: at(26 * time.Hour), StageSince: at(26 * time.Hour)})
	}
	q.Total = len(q.Entries)
	return q
}

func openQueue(t *testing.T, n *queueNode, conn *adminapi.Connection) *queueScreen {
	t.Helper()
	var s screen = newQueueScreen(testCommon(t, n), conn)
	s.SetSize(78, 17)
	return start(t, s).(*queueScreen)
}

// TestQueueGolden pins the sync queue at the router's size for 80×24: a
// connection's, the node's (with a paused sync), and an empty one.
func TestQueueGolden(t *testing.T) {
	conn := testConnection()
	for _, tc := range []struct {
		name string
		conn *adminapi.Connection
		q    adminapi.SyncQueue
	}{
		{"connection", &conn, openSyncs(false)},
		{"node", nil, openSyncs(true)},
		{"empty", &conn, adminapi.SyncQueue{Entries: []adminapi.QueueEntry{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &queueNode{fakeNode: connectionNode(), queue: tc.q}
			s := openQueue(t, n, tc.conn)
			view := plain(s.View())
			requireFits(t, view)
			golden.RequireEqual(t, []byte(view))
		})
	}
}

// TestQueueFollowsASync: enter opens the picked sync's status page on its
// connection; a stage event of another connection does not read a
// connection's queue again, one of its own does.
func TestQueueFollowsASync(t *testing.T) {
	conn := testConnection()
	n := &queueNode{fakeNode: connectionNode(), queue: openSyncs(false)}
	s := openQueue(t, n, &conn)
	_, out := typeKeys(t, s, "<down><down><enter>")
	if len(out) != 1 {
		t.Fatalf("enter: %v", out)
	}
	sync, ok := out[0].(pushMsg).s.(*syncScreen)
	if !ok || sync.ev.EventID != "e3" || sync.conn.ID != "c1" {
		t.Fatalf("enter on the third sync opened %#v", out[0])
	}
	before := countCalls(n.called(), "Queue")
	sc, _ := run(t, s, stageMsg{adminapi.StageEvent{ConnectionID: "c2"}})
	if countCalls(n.called(), "Queue") != before {
		t.Error("another connection's event read the queue again")
	}
	n.queue = adminapi.SyncQueue{Entries: []adminapi.QueueEntry{}}
	sc, _ = run(t, sc, stageMsg{adminapi.StageEvent{ConnectionID: "c1"}})
	if v := plain(sc.View()); !strings.Contains(v, "Nothing queued") {
		t.Errorf("the queue did not empty on its connection's event:\n%s", v)
	}
}

// TestErrorsAndQueueFrames pins the whole console at 80×24 on the node's
// Errors (E from the connections list) and Sync queue (Q): frame, help
// line and status bar included.
func TestErrorsAndQueueFrames(t *testing.T) {
	for _, tc := range []struct{ name, keys string }{{"errors", "E"}, {"queue", "Q"}, {"errors-help", "E?"}} {
		t.Run(tc.name, func(t *testing.T) {
			acme := &queueNode{fakeNode: &fakeNode{info: adminapi.Instance{Name: "Acme", URL: "http://acme.test", Tracker: "asana"},
				connections: []adminapi.Connection{testConnection()}}, errs: failingSyncs(), queue: openSyncs(true)}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a := New(ctx, Options{Renderer: plainRenderer(), Now: func() time.Time { return testNow },
				Targets: []Target{{Name: "Acme", URL: "http://acme.test", Node: acme}}})
			for _, s := range a.sessions {
				s.common.staticCursor = true
				s.common.tick = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
			}
			appSend(a, tea.WindowSizeMsg{Width: 80, Height: 24})
			for _, m := range execNoSubscribe(a.Init()) {
				appSend(a, m)
			}
			appKeys(a, tc.keys)
			v := plain(a.View())
			if h := strings.Count(v, "\n") + 1; h != 24 {
				t.Errorf("the frame is %d lines high, want 24:\n%s", h, v)
			}
			for _, line := range strings.Split(v, "\n") {
				if w := lipgloss.Width(line); w > 80 {
					t.Errorf("a line is %d wide: %q", w, line)
				}
			}
			golden.RequireEqual(t, []byte(v+"\n"))
		})
	}
}

// TestQueueKeepsConnectionNames: node-wide, with two connections to the
// same node and items with long keys and summaries, the connection names
// stay told apart at 80 columns: cut by the middle, their ends show.
func TestQueueKeepsConnectionNames(t *testing.T) {
	q := openSyncs(true)
	q.Entries[4].ConnectionName = "Acme_to_Globex_2"
	q.Entries[2].Summary = "Login button unresponsive on Safari 17 after the last release"
	s := openQueue(t, &queueNode{fakeNode: connectionNode(), queue: q}, nil)
	v := plain(s.View())
	for _, end := range []string{"Globex ", "obex_2 "} {
		if !strings.Contains(v, end) {
			t.Errorf("no connection name ends in %q:\n%s", end, v)
		}
	}
}
