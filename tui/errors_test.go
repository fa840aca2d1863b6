package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// queueNode is fakeNode with canned failing syncs and queue; retry and
// resolve are recorded and answered by the functions when set.
type queueNode struct {
	*fakeNode
	errs    adminapi.SyncErrors
	queue   adminapi.SyncQueue
	resolve func(connID, eventID, reason string) (adminapi.StageEvent, error)
}

func (n *queueNode) Errors(_ context.Context, connID string, _ int) (adminapi.SyncErrors, error) {
	n.record("Errors " + connID)
	return n.errs, nil
}

func (n *queueNode) Retry(_ context.Context, connID, eventID string) (adminapi.StageEvent, error) {
	n.record("Retry " + connID + " " + eventID)
	for _, e := range n.errs.Errors {
		if e.EventID == eventID {
			return adminapi.StageEvent{ConnectionID: connID, EventID: eventID, LocalKey: e.LocalKey, RemoteKey: e.RemoteKey, Stage: e.Stage}, nil
		}
	}
	return adminapi.StageEvent{}, adminapi.ErrNotFound
}

func (n *queueNode) RetryAll(_ context.Context, connID string) (int, error) {
	n.record("RetryAll " + connID)
	return len(n.errs.Errors), nil
}

func (n *queueNode) Resolve(_ context.Context, connID, eventID, reason string) (adminapi.StageEvent, error) {
	n.record("Resolve " + connID + " " + eventID + " " + reason)
	return n.resolve(connID, eventID, reason)
}

func (n *queueNode) Queue(_ context.Context, connID string, _ int) (adminapi.SyncQueue, error) {
	n.record("Queue " + connID)
	return n.queue, nil
}

// failingSyncs are two syncs failing on Acme_to_Globex: one Globex's
// tracker refused to apply here, one waiting for its connection.
func failingSyncs() adminapi.SyncErrors {
	return adminapi.SyncErrors{Total: 2, Errors: []adminapi.SyncError{
		{ConnectionID: "c1", ConnectionName: "Acme_to_Globex", EventID: "3f2a9c1e-0b7d-4c55-9d7e-1a2b3c4d5e6f", Direction: "in",
			RemoteKey: "1200000000000012", RemoteURL: "https://globex.test/0/1/1200000000000012", Summary: "Landing page copy",
			Stage: adminapi.StageWaiting, Attempts: 3, NextRetry: testNow.Add(12 * time.Second),
			Error:   "creating the twin of 1200000000000012: asana: POST /tasks: 403 Forbidden: this token may read the workspace but not write to it",
			Started: testNow.Add(-5 * time.Minute), FailedAt: testNow.Add(-20 * time.Second)},
		{ConnectionID: "c1", ConnectionName: "Acme_to_Globex", EventID: "77aa0d2c-5e1f-4f0a-8c3b-9d8e7f6a5b4c", Direction: "out",
			LocalKey: "WEB-7", Summary: "Pricing table", Stage: adminapi.StageSending, Attempts: 1, Waits: adminapi.WaitsActivation,
			Error: "sending to Globex: the node at http://globex.test can't be reached", Started: testNow.Add(-2 * time.Hour),
			FailedAt: testNow.Add(-90 * time.Minute)},
	}}
}

// openErrors builds the errors page at the router's 80×24 size, for conn
// (nil: the node) and runs its Init.
func openErrors(t *testing.T, n *queueNode, conn *adminapi.Connection) *errorsScreen {
	t.Helper()
	var s screen = newErrorsScreen(testCommon(t, n), conn)
	s.SetSize(78, 17)
	return start(t, s).(*errorsScreen)
}

// requireFits fails t when a view is taller or wider than the router
// gives a screen at 80×24.
func requireFits(t *testing.T, view string) {
	t.Helper()
	if h := lipgloss.Height(view); h > 17 {
		t.Errorf("view is %d lines, more than 17", h)
	}
	for _, line := range strings.Split(view, "\n") {
		if w := lipgloss.Width(line); w > 78 {
			t.Errorf("line is %d cells, more than 78: %q", w, line)
		}
	}
}

// TestErrorsGolden pins the errors page at the router's size for 80×24:
// a connection's failing syncs, the node's, one in full, the reason asked
// for resolving, and the page once it is resolved.
func TestErrorsGolden(t *testing.T) {
	conn := testConnection()
	for _, tc := range []struct {
		name string
		conn *adminapi.Connection
		keys string
		errs adminapi.SyncErrors
	}{
		{"connection", &conn, "", failingSyncs()},
		{"node", nil, "<down>", failingSyncs()},
		{"full", &conn, "<enter>", failingSyncs()},
		{"resolve", &conn, "xproject frozen", failingSyncs()},
		{"resolved", &conn, "xproject frozen<enter>", failingSyncs()},
		{"none", &conn, "", adminapi.SyncErrors{Errors: []adminapi.SyncError{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &queueNode{fakeNode: connectionNode(), errs: tc.errs}
			n.resolve = func(_, id, reason string) (adminapi.StageEvent, error) {
				n.errs.Errors, n.errs.Total = n.errs.Errors[1:], 1
				return adminapi.StageEvent{EventID: id, RemoteKey: "1200000000000012", Resolution: reason}, nil
			}
			sc, _ := typeKeys(t, openErrors(t, n, tc.conn), tc.keys)
			view := plain(sc.View())
			requireFits(t, view)
			golden.RequireEqual(t, []byte(view))
		})
	}
}

// TestErrorsActions: r retries the picked sync and R every one of the
// connection; x asks for a reason and refuses none; esc gives up asking;
// enter with a reason resolves the picked sync with it.
func TestErrorsActions(t *testing.T) {
	conn := testConnection()
	n := &queueNode{fakeNode: connectionNode(), errs: failingSyncs()}
	var gotReason string
	n.resolve = func(_, id, reason string) (adminapi.StageEvent, error) {
		gotReason = reason
		return adminapi.StageEvent{EventID: id, LocalKey: "WEB-7", Resolution: reason}, nil
	}
	s := openErrors(t, n, &conn)
	sc, _ := typeKeys(t, s, "<down>r")
	if countCalls(n.called(), "Retry c1 77aa0d2c-5e1f-4f0a-8c3b-9d8e7f6a5b4c") != 1 {
		t.Errorf("r on the second sync: calls %v", n.called())
	}
	if v := plain(sc.View()); !strings.Contains(v, "✓ Retrying WEB-7 now.") {
		t.Errorf("after r:\n%s", v)
	}
	sc, _ = typeKeys(t, sc, "R")
	if countCalls(n.called(), "RetryAll c1") != 1 || !strings.Contains(plain(sc.View()), "✓ Retrying 2 failing syncs now.") {
		t.Errorf("R: calls %v\n%s", n.called(), plain(sc.View()))
	}
	sc, _ = typeKeys(t, sc, "x<enter>")
	if countCalls(n.called(), "Resolve") != 0 || !strings.Contains(plain(sc.View()), "Type why the sync is given up") {
		t.Errorf("x and enter with no reason: calls %v\n%s", n.called(), plain(sc.View()))
	}
	if c, ok := sc.(capturer); !ok || !c.capturing() {
		t.Error("q and ? would quit or open the help while the reason is typed")
	}
	sc, _ = typeKeys(t, sc, "<esc>")
	if sc.(*errorsScreen).resolving || countCalls(n.called(), "Resolve") != 0 {
		t.Error("esc did not give up resolving")
	}
	sc, _ = typeKeys(t, sc, "xduplicate of WEB-8<enter>")
	if countCalls(n.called(), "Resolve c1 77aa0d2c-5e1f-4f0a-8c3b-9d8e7f6a5b4c duplicate of WEB-8") != 1 || gotReason != "duplicate of WEB-8" {
		t.Errorf("resolving: calls %v", n.called())
	}
	if v := plain(sc.View()); !strings.Contains(v, "✓ Resolved WEB-7: not retried any more") {
		t.Errorf("after resolving:\n%s", v)
	}
}

// TestErrorsRefusalShows: a refusal from the node shows on the page, in
// one line, and the page stays usable.
func TestErrorsRefusalShows(t *testing.T) {
	conn := testConnection()
	n := &queueNode{fakeNode: connectionNode(), errs: failingSyncs()}
	n.resolve = func(string, string, string) (adminapi.StageEvent, error) {
		return adminapi.StageEvent{}, errors.New("sync 3f2a9c1e is Synchronized already: nothing to retry or resolve")
	}
	sc, _ := typeKeys(t, openErrors(t, n, &conn), "xlate<enter>")
	if v := plain(sc.View()); !strings.Contains(v, "✗ Sync 3f2a9c1e is Synchronized already") {
		t.Errorf("the refusal is not shown:\n%s", v)
	}
	if sc.(*errorsScreen).busy != "" {
		t.Error("the page stays busy after a refusal")
	}
}

// TestErrorsLive: a stage event of the connection, or the poll, reads the
// list again (and the poll is re-armed); another connection's event does
// not; a new list keeps the cursor on its sync.
func TestErrorsLive(t *testing.T) {
	conn := testConnection()
	n := &queueNode{fakeNode: connectionNode(), errs: failingSyncs()}
	c := testCommon(t, n)
	ticks := 0
	c.tick = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { ticks++; return nil }
	var s screen = newErrorsScreen(c, &conn)
	s.SetSize(78, 17)
	s = start(t, s)
	s, _ = typeKeys(t, s, "<down>")
	before := countCalls(n.called(), "Errors")
	s, _ = run(t, s, stageMsg{adminapi.StageEvent{ConnectionID: "other"}})
	if countCalls(n.called(), "Errors") != before {
		t.Error("another connection's event read the list again")
	}
	// The first sync went through: the list now starts with the picked one.
	n.errs.Errors, n.errs.Total = n.errs.Errors[1:], 1
	s, _ = run(t, s, stageMsg{adminapi.StageEvent{ConnectionID: "c1", EventID: "3f2a9c1e-0b7d-4c55-9d7e-1a2b3c4d5e6f"}})
	if countCalls(n.called(), "Errors") != before+1 {
		t.Errorf("the connection's event did not read the list again: %v", n.called())
	}
	if p := s.(*errorsScreen).picked(); p == nil || p.LocalKey != "WEB-7" {
		t.Errorf("the cursor left WEB-7: %+v", p)
	}
	armed := ticks
	s, _ = run(t, s, errorsPollMsg{})
	if countCalls(n.called(), "Errors") != before+2 || ticks != armed+1 {
		t.Errorf("the poll: %d reads, %d ticks armed", countCalls(n.called(), "Errors")-before, ticks-armed)
	}
}

// TestErrorsAndQueueOpen: E and Q open the node's errors and queue from
// the connections list, and the connection's from its page.
func TestErrorsAndQueueOpen(t *testing.T) {
	f := connectionNode()
	list := start(t, sized(newConnectionsScreen(testCommon(t, f))))
	for key, title := range map[string]string{"E": "Errors", "Q": "Sync queue"} {
		_, out := typeKeys(t, list, key)
		if len(out) != 1 || out[0].(pushMsg).s.Title() != title {
			t.Fatalf("%s on the connections list: %v", key, out)
		}
		switch sc := out[0].(pushMsg).s.(type) {
		case *errorsScreen:
			if sc.conn != nil {
				t.Error("E on the list opened one connection's errors")
			}
		case *queueScreen:
			if sc.conn != nil {
				t.Error("Q on the list opened one connection's queue")
			}
		}
		_, out = press(t, openConnection(t, connectionNode()), key)
		if len(out) != 1 || out[0].(pushMsg).s.Title() != title {
			t.Fatalf("%s on the connection page: %v", key, out)
		}
		switch sc := out[0].(pushMsg).s.(type) {
		case *errorsScreen:
			if sc.conn == nil || sc.conn.ID != "c1" {
				t.Error("E on the page did not open its connection's errors")
			}
		case *queueScreen:
			if sc.conn == nil || sc.conn.ID != "c1" {
				t.Error("Q on the page did not open its connection's queue")
			}
		}
	}
}
