package tui

import (
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

func bulkEvents() []adminapi.StageEvent {
	var evs []adminapi.StageEvent
	for _, id := range []string{"b1", "b2", "b3"} {
		evs = append(evs, adminapi.StageEvent{ConnectionID: "c1", EventID: id, Direction: "out", Stage: adminapi.StageSending, At: testNow})
	}
	return evs
}

func stage(conn, id, stage, errText string) stageMsg {
	return stageMsg{adminapi.StageEvent{ConnectionID: conn, EventID: id, Direction: "out", Stage: stage, Error: errText, At: testNow}}
}

func TestConnectionBulkExalate(t *testing.T) {
	f := connectionNode()
	f.exalateAll = func(string) ([]adminapi.StageEvent, error) { return bulkEvents(), nil }
	s := openConnection(t, f)
	s, _ = press(t, s, "by")
	steps := []struct {
		msg  tea.Msg
		want string
		not  string
	}{
		{nil, "Bulk Exalate ░░░░░░░░░░░░░░░░░░░░ 0 of 3 synchronized", "failing"},
		{stage("c1", "b1", adminapi.StageSynchronized, ""), "██████░░░░░░░░░░░░░░ 1 of 3 synchronized", "failing"},
		{stage("c1", "b2", adminapi.StageSending, "globex.test: connection refused"), "1 of 3 synchronized · 1 failing", ""},
		// Another connection's event with the same id is not this run's.
		{stage("c2", "b3", adminapi.StageSynchronized, ""), "1 of 3 synchronized", "2 of 3"},
		// A late report of an earlier stage doesn't move an event back.
		{stage("c1", "b1", adminapi.StageWaiting, ""), "1 of 3 synchronized", "0 of 3"},
		{stage("c1", "b2", adminapi.StageSynchronized, ""), "2 of 3 synchronized", "failing"},
		{stage("c1", "b3", adminapi.StageSynchronized, ""), "✓ Bulk Exalate ████████████████████ 3 of 3 synchronized", "failing"},
	}
	for i, st := range steps {
		if st.msg != nil {
			s, _ = send(t, s, st.msg)
		}
		v := plain(s.View())
		if !strings.Contains(v, st.want) || (st.not != "" && strings.Contains(v, st.not)) {
			t.Fatalf("step %d: want %q and not %q in:\n%s", i, st.want, st.not, v)
		}
	}
	if n := countCalls(f.called(), "ExalateAll c1"); n != 1 {
		t.Errorf("ExalateAll called %d times, want 1", n)
	}
	// Once done, b runs it again.
	press(t, s, "by")
	if n := countCalls(f.called(), "ExalateAll c1"); n != 2 {
		t.Errorf("after a finished run, b called ExalateAll %d times in all, want 2", n)
	}
}

// TestConnectionBulkMoreThanListed: a run that started more syncs than the
// node lists follows the listed ones and says how many more went.
func TestConnectionBulkMoreThanListed(t *testing.T) {
	f := connectionNode()
	f.exalateAll = func(string) ([]adminapi.StageEvent, error) { return bulkEvents(), nil }
	f.bulkUnlisted = 12000
	s := openConnection(t, f)
	s, _ = press(t, s, "by")
	for _, id := range []string{"b1", "b2", "b3"} {
		s, _ = send(t, s, stage("c1", id, adminapi.StageSynchronized, ""))
	}
	v := plain(s.View())
	for _, want := range []string{"3 of 3 synchronized", "and 12000 more started, not followed here (the node lists the first 3)"} {
		if !strings.Contains(v, want) {
			t.Errorf("want %q in:\n%s", want, v)
		}
	}
}

func TestConnectionBulkEarlyEvents(t *testing.T) {
	// Stage events can arrive before ExalateAll returns the ids: they count.
	f := connectionNode()
	f.exalateAll = func(string) ([]adminapi.StageEvent, error) { return bulkEvents(), nil }
	s, _ := press(t, openConnection(t, f), "b")
	sc, cmd := s.Update(keys("y")[0])
	s = sc.(*connectionScreen)
	s, _ = send(t, s, stage("c1", "b2", adminapi.StageSynchronized, ""))
	for _, m := range exec(cmd) {
		s, _ = send(t, s, m)
	}
	if v := plain(s.View()); !strings.Contains(v, "1 of 3 synchronized") {
		t.Errorf("an event synchronized before ExalateAll returned is not counted:\n%s", v)
	}
}

func TestConnectionBulkPoll(t *testing.T) {
	// The poll catches up on events the stream dropped.
	f := connectionNode()
	f.exalateAll = func(string) ([]adminapi.StageEvent, error) { return bulkEvents(), nil }
	s := openConnection(t, f)
	s, _ = press(t, s, "by")
	f.events = bulkEvents()
	f.events[0].Stage = adminapi.StageSynchronized
	f.events[2].Stage = adminapi.StageSynchronized
	before := countCalls(f.called(), "RecentEvents c1")
	s, _ = send(t, s, bulkPollMsg{gen: s.bulk.gen})
	if countCalls(f.called(), "RecentEvents c1") != before+1 {
		t.Errorf("a poll should read the recent events once: %v", f.called())
	}
	if v := plain(s.View()); !strings.Contains(v, "2 of 3 synchronized") {
		t.Errorf("the poll's events are not counted:\n%s", v)
	}
	// A poll from an older chain is dropped.
	s, _ = send(t, s, bulkPollMsg{gen: s.bulk.gen - 1})
	if countCalls(f.called(), "RecentEvents c1") != before+1 {
		t.Errorf("a stale poll read the events again")
	}
}

func TestConnectionBulkError(t *testing.T) {
	f := connectionNode()
	f.exalateAll = func(string) ([]adminapi.StageEvent, error) {
		return bulkEvents()[:1], errors.New("reading 120046: asana: 429 too many requests")
	}
	s, _ := press(t, openConnection(t, f), "by")
	v := plain(s.View())
	for _, want := range []string{"0 of 1 synchronized", "✗ Bulk exalate of Website: reading 120046"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}

func TestConnectionGoldenBulk(t *testing.T) {
	f := connectionNode()
	f.exalateAll = func(string) ([]adminapi.StageEvent, error) { return bulkEvents(), nil }
	s, _ := press(t, openConnection(t, f), "by")
	s, _ = send(t, s, stage("c1", "b1", adminapi.StageSynchronized, ""))
	s, _ = send(t, s, stage("c1", "b2", adminapi.StageSending, "connection refused"))
	golden.RequireEqual(t, []byte(plain(s.View())))
}
