package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// itemsNode is fakeNode with canned item operations.
type itemsNode struct {
	*fakeNode
	history   adminapi.ItemHistory
	unexalate func(connID, ref string) (adminapi.UnexalateResult, error)
	link      func(r adminapi.LinkRequest) (adminapi.LinkResult, error)
}

func (n *itemsNode) ItemHistory(_ context.Context, connID, ref string, _ int) (adminapi.ItemHistory, error) {
	n.record("ItemHistory " + connID + " " + ref)
	return n.history, nil
}

func (n *itemsNode) Unexalate(_ context.Context, connID, ref string) (adminapi.UnexalateResult, error) {
	n.record("Unexalate " + connID + " " + ref)
	return n.unexalate(connID, ref)
}

func (n *itemsNode) LinkItems(_ context.Context, r adminapi.LinkRequest) (adminapi.LinkResult, error) {
	n.record("LinkItems " + r.Ref + " " + r.RemoteRef + " " + r.Winner)
	return n.link(r)
}

// syncedHistory is WEB-12's history: two syncs, the older one failed once
// on its way.
func syncedHistory() adminapi.ItemHistory {
	at := func(d time.Duration) time.Time { return testNow.Add(-d) }
	stages := func(start time.Time, failed string) []adminapi.StageEntry {
		var out []adminapi.StageEntry
		at := start
		for _, st := range adminapi.Stages() {
			if st == adminapi.StageSending && failed != "" {
				out = append(out, adminapi.StageEntry{Stage: st, Error: failed, At: at})
				at = at.Add(2 * time.Second)
			}
			out = append(out, adminapi.StageEntry{Stage: st, At: at})
			at = at.Add(150 * time.Millisecond)
		}
		return out
	}
	sync := func(id, dir string, start time.Time, failed string) adminapi.EventStatus {
		return adminapi.EventStatus{StageEvent: adminapi.StageEvent{ConnectionID: "c1", EventID: id, Direction: dir, EntityID: "120012",
			Stage: adminapi.StageSynchronized, At: start.Add(time.Second), LocalKey: "WEB-12", RemoteKey: "1200000000000031"},
			Stages: stages(start, failed), RulesVersion: "basic"}
	}
	return adminapi.ItemHistory{ConnectionID: "c1", ConnectionName: "Acme_to_Globex", EntityID: "120012",
		LocalKey: "WEB-12", LocalURL: "https://acme.test/browse/WEB-12",
		RemoteKey: "1200000000000031", RemoteURL: "https://globex.test/0/1/1200000000000031",
		Syncs: []adminapi.EventStatus{
			sync("e9", "in", at(2*time.Minute), ""),
			sync("e1", "out", at(3*time.Hour), "globex.test did not answer: timeout"),
		}}
}

func openHistory(t *testing.T, n *itemsNode) *historyScreen {
	t.Helper()
	var s screen = newHistoryScreen(testCommon(t, n), testConnection(), engine.StageEvent{ConnectionID: "c1", EntityID: "120012", LocalKey: "WEB-12"})
	s.SetSize(78, 17)
	return start(t, s).(*historyScreen)
}

// TestHistoryGolden pins the item's history at the router's size for
// 80×24: the pair and its syncs, the older sync's stages with its
// failure, the unexalate question and the page after it.
func TestHistoryGolden(t *testing.T) {
	for _, tc := range []struct{ name, keys string }{
		{"synced", ""},
		{"older", "<down>"},
		{"confirm", "u"},
		{"unexalated", "uy"},
		{"link", "uyl1200000000000077<tab>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &itemsNode{fakeNode: connectionNode(), history: syncedHistory()}
			n.unexalate = func(_, _ string) (adminapi.UnexalateResult, error) {
				n.history.RemoteKey, n.history.RemoteURL = "", ""
				n.history.UnexalatedAt, n.history.UnexalatedTwin = testNow.Add(-time.Second), "1200000000000031"
				return adminapi.UnexalateResult{ConnectionID: "c1", LocalKey: "WEB-12", RemoteKey: "1200000000000031"}, nil
			}
			s := openHistory(t, n)
			sc, _ := typeKeys(t, s, tc.keys)
			view := plain(sc.View())
			if h := lipgloss.Height(view); h > 17 {
				t.Errorf("view is %d lines, more than 17", h)
			}
			for _, line := range strings.Split(view, "\n") {
				if w := lipgloss.Width(line); w > 78 {
					t.Errorf("line is %d cells, more than 78: %q", w, line)
				}
			}
			golden.RequireEqual(t, []byte(view))
		})
	}
}

// TestHistoryUnexalateAsksFirst: u asks, n leaves the pair alone, y
// unexalates the item the page is about, on its connection.
func TestHistoryUnexalateAsksFirst(t *testing.T) {
	n := &itemsNode{fakeNode: connectionNode(), history: syncedHistory()}
	n.unexalate = func(connID, ref string) (adminapi.UnexalateResult, error) {
		return adminapi.UnexalateResult{LocalKey: "WEB-12", RemoteKey: "1200000000000031"}, nil
	}
	s := openHistory(t, n)
	sc, _ := typeKeys(t, s, "u")
	if v := plain(sc.View()); !strings.Contains(v, "Unexalate WEB-12 ↔ 1200000000000031?") || !strings.Contains(v, "y/n") {
		t.Fatalf("u did not ask:\n%s", v)
	}
	sc, _ = typeKeys(t, sc, "n")
	if countCalls(n.called(), "Unexalate") != 0 {
		t.Error("n unexalated")
	}
	sc, _ = typeKeys(t, sc, "uy")
	if got := n.called(); countCalls(got, "Unexalate c1 WEB-12") != 1 {
		t.Errorf("calls %v, want one Unexalate of WEB-12 on c1", got)
	}
	if v := plain(sc.View()); !strings.Contains(v, "✓ Unexalated: WEB-12 and 1200000000000031 no longer sync") {
		t.Errorf("the page does not say it was done:\n%s", v)
	}
}

// TestHistoryLink: l on an item without a twin asks for the other side's
// item; tab gives the other side's fields the win; enter links.
func TestHistoryLink(t *testing.T) {
	h := syncedHistory()
	h.RemoteKey, h.RemoteURL = "", ""
	n := &itemsNode{fakeNode: connectionNode(), history: h}
	n.link = func(r adminapi.LinkRequest) (adminapi.LinkResult, error) {
		return adminapi.LinkResult{LocalKey: "WEB-12", RemoteKey: r.RemoteRef, Winner: r.Winner, MatchedComments: 2}, nil
	}
	sc, _ := typeKeys(t, openHistory(t, n), "lKAN-9<tab><enter>")
	if got := n.called(); countCalls(got, "LinkItems WEB-12 KAN-9 remote") != 1 {
		t.Errorf("calls %v, want one LinkItems of WEB-12 to KAN-9 with the remote side winning", got)
	}
	if v := plain(sc.View()); !strings.Contains(v, "✓ Linked WEB-12 ↔ KAN-9; 2 comments") {
		t.Errorf("the page does not say it was linked:\n%s", v)
	}
}

// TestConnectionOpensHistory: ↓ picks a recent sync, enter then opens its
// item's history (h does too); enter with none picked opens the newest
// sync as before.
func TestConnectionOpensHistory(t *testing.T) {
	s := openConnection(t, connectionNode())
	_, out := press(t, s, "<enter>")
	if len(out) != 1 || out[0].(pushMsg).s.Title() != "Sync status" {
		t.Fatalf("enter with no sync picked: %v, want the newest sync", out)
	}
	s = openConnection(t, connectionNode())
	s, _ = press(t, s, "<down><down>")
	if v := plain(s.View()); !strings.Contains(v, "› out  WEB-12") {
		t.Errorf("the picked sync is not marked:\n%s", v)
	}
	_, out = press(t, s, "<enter>")
	if len(out) != 1 {
		t.Fatalf("enter on a picked sync: %v", out)
	}
	if h, ok := out[0].(pushMsg).s.(*historyScreen); !ok || h.ref != "WEB-12" {
		t.Errorf("enter on WEB-12's sync opened %#v, want its history", out[0])
	}
	_, out = press(t, openConnection(t, connectionNode()), "h")
	if h, ok := out[0].(pushMsg).s.(*historyScreen); !ok || h.ref != "WEB-7" {
		t.Errorf("h opened %#v, want the newest sync's item's history (WEB-7)", out[0])
	}
}

// TestHistoryShowsAResolvedSync: a sync an admin resolved reads Resolved
// in the list, and its stages say when, where it stopped, why, and its
// last failure: resolving is never silent.
func TestHistoryShowsAResolvedSync(t *testing.T) {
	h := syncedHistory()
	ev := &h.Syncs[0]
	ev.Stage, ev.Error = adminapi.StageWaiting, "asana: POST /tasks: 403 Forbidden"
	ev.Stages = ev.Stages[:3]
	ev.Resolution, ev.ResolvedAt = "resolved on Globex: the project is frozen for the audit", testNow.Add(-time.Minute)
	n := &itemsNode{fakeNode: connectionNode(), history: h}
	view := plain(openHistory(t, n).View())
	for _, want := range []string{"Resolved            basic", "Resolved 26 Nov 11:59:00, not retried (it stopped at Waiting for remote):",
		"resolved on Globex: the project is frozen for the audit", "Its last failure: asana: POST /tasks: 403 Forbidden"} {
		if !strings.Contains(view, want) {
			t.Errorf("missing %q in\n%s", want, view)
		}
	}
	requireFits(t, view)
	golden.RequireEqual(t, []byte(view))
}

// TestHistoryOfAnItemNotHereYet: the newest sync of a connection may be
// one received for an item that has none on this side yet (its first
// sync failing): the page names the other side's item and says where the
// failing sync is, instead of an empty "History of".
func TestHistoryOfAnItemNotHereYet(t *testing.T) {
	n := &itemsNode{fakeNode: connectionNode(), history: syncedHistory()}
	var s screen = newHistoryScreen(testCommon(t, n), testConnection(), engine.StageEvent{ConnectionID: "c1", RemoteKey: "KAN-2"})
	s.SetSize(78, 17)
	view := plain(start(t, s).View())
	for _, want := range []string{"History of KAN-2", "KAN-2 has no item on this side yet", "E lists the syncs that fail"} {
		if !strings.Contains(strings.Join(strings.Fields(view), " "), want) {
			t.Errorf("the page lacks %q:\n%s", want, view)
		}
	}
}
