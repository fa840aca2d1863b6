package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// scriptFailure is Acme's incoming script failing at line 3 of the draft
// brokenIn would be.
const scriptFailure = "Acme_to_Globex's incoming rules on WEB-7: incoming.star:3:9: item.due_date: \"1 March\" is not a date as YYYY-MM-DD"

func TestFindScriptLoc(t *testing.T) {
	for _, tc := range []struct {
		err  string
		want scriptLoc
		ok   bool
	}{
		{scriptFailure, scriptLoc{File: "incoming.star", Line: 3, Col: 9, Msg: `item.due_date: "1 March" is not a date as YYYY-MM-DD`}, true},
		{"outgoing.star:12: ran past its budget", scriptLoc{File: "outgoing.star", Line: 12, Msg: "ran past its budget"}, true},
		{"incoming.star: must define incoming(item, replica, previous, first_sync), not outgoing",
			scriptLoc{File: "incoming.star", Msg: "must define incoming(item, replica, previous, first_sync), not outgoing"}, true},
		{"reading outgoing.star.bak: no such file; outgoing.star:2:1: oops", scriptLoc{File: "outgoing.star", Line: 2, Col: 1, Msg: "oops"}, true},
		{"sending to Globex: the node can't be reached", scriptLoc{}, false},
	} {
		got, ok := findScriptLoc(tc.err)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v %v", tc.err, got, ok, tc.want, tc.ok)
		}
	}
}

// TestSyncScreenScriptError: a sync failing in this node's script shows
// the script and line, its message, the rules version it ran under, and
// o opens the script there; the other side's script error is shown but
// is not this node's to open.
func TestSyncScreenScriptError(t *testing.T) {
	status := adminapi.EventStatus{StageEvent: adminapi.StageEvent{ConnectionID: "c1", EventID: "e1", Direction: "in", EntityID: "101",
		RemoteKey: "1201", Stage: adminapi.StageWaiting, Error: scriptFailure, NextRetry: testNow.Add(30 * time.Second), At: testNow},
		Stages: []adminapi.StageEntry{{Stage: adminapi.StageWaiting, At: testNow}}, RulesVersion: "script v2"}
	f := &fakeNode{eventStatus: func(string, string) (adminapi.EventStatus, error) { return status, nil }}
	s := start(t, sized(newSyncScreen(testCommon(t, f), activeConn, status.StageEvent)))
	v := plain(s.View())
	for _, want := range []string{"    incoming.star:3 (o opens it)", `    item.due_date: "1 March" is not a date as YYYY-MM-DD`, "Rules: script v2 on Acme"} {
		if !strings.Contains(v, want) {
			t.Errorf("the sync lacks %q:\n%s", want, v)
		}
	}
	requireFrame(t, s.View(), screenH)
	_, msgs := typeKeys(t, s, "o")
	page, ok := pushed(t, msgs).(*connectionScreen)
	if !ok || page.tab != tabRules || page.script == nil || *page.script.mark != (scriptLoc{File: "incoming.star", Line: 3, Col: 9, Msg: `item.due_date: "1 March" is not a date as YYYY-MM-DD`}) {
		t.Fatalf("o should open the Rules tab at incoming.star:3: %#v", pushed(t, msgs))
	}

	// The other side's script failing, reported to this (sending) node.
	status.Direction = "out"
	s = start(t, sized(newSyncScreen(testCommon(t, f), activeConn, status.StageEvent)))
	if v := plain(s.View()); !strings.Contains(v, "incoming.star:3") || strings.Contains(v, "o opens") {
		t.Errorf("the other side's script error:\n%s", v)
	}
	if _, msgs := typeKeys(t, s, "o"); len(msgs) != 0 {
		t.Errorf("o opened this node's script for the other side's error: %v", msgs)
	}
}

// TestErrorsScriptError: the Errors list shows a script's error by its
// script and line; in full it shows the rules version and o opens the
// script at the line, on the connection's Rules tab, which marks it.
func TestErrorsScriptError(t *testing.T) {
	errs := failingSyncs()
	errs.Errors[0].Error, errs.Errors[0].RulesVersion = scriptFailure, "script v2"
	n := &queueNode{fakeNode: scriptNode("", brokenIn), errs: errs}
	conn := n.connections[0]
	s := openErrors(t, n, &conn)
	if v := plain(s.View()); !strings.Contains(v, `✗ incoming.star:3  item.due_date: "1 March" is not a date`) {
		t.Errorf("the list should show the script and line:\n%s", v)
	}
	sc, _ := typeKeys(t, s, "<enter>")
	v := plain(sc.View())
	for _, want := range []string{"Rules       script v2", "Script      incoming.star:3 · o opens it at that line"} {
		if !strings.Contains(v, want) {
			t.Errorf("the full error lacks %q:\n%s", want, v)
		}
	}
	requireFits(t, v)
	_, msgs := typeKeys(t, sc, "o")
	page := start(t, pushed(t, msgs)).(*connectionScreen)
	page.SetSize(78, 17)
	if v := plain(page.View()); !strings.Contains(v, "›  3          item.summary = = replica.summary") {
		t.Errorf("the Rules tab should mark incoming.star:3:\n%s", v)
	}

	// A failure that is not a script's opens nothing.
	sc, _ = typeKeys(t, s, "<esc><down>o")
	if _, msgs := typeKeys(t, sc, "o"); len(msgs) != 0 {
		t.Errorf("o opened a script for a failure that is not a script's: %v", msgs)
	}
}
