package tui

import (
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// TestSyncScreenShowsProgress: the other side's progress reports show
// under Waiting for remote, the latest one only, and only for this sync;
// once the sync moves on, they are gone.
func TestSyncScreenShowsProgress(t *testing.T) {
	status := adminapi.EventStatus{StageEvent: adminapi.StageEvent{ConnectionID: "c1", EventID: "e1", Direction: "out", EntityID: "101",
		LocalKey: "101", Stage: adminapi.StageWaiting, At: testNow},
		Stages: []adminapi.StageEntry{{Stage: adminapi.StagePreparing, At: testNow}, {Stage: adminapi.StageSending, At: testNow},
			{Stage: adminapi.StageWaiting, At: testNow}}}
	f := &fakeNode{eventStatus: func(string, string) (adminapi.EventStatus, error) { return status, nil }}
	s := sized(newSyncScreen(testCommon(t, f), activeConn, status.StageEvent))
	s, _ = run(t, s, stageMsg{status.StageEvent})
	progress := func(conn, id, dir string, done int) stageMsg {
		ev := status.StageEvent
		ev.ConnectionID, ev.EventID, ev.Direction = conn, id, dir
		ev.Progress = &adminapi.Progress{What: adminapi.ProgressComments, Done: done, Total: 5000}
		return stageMsg{ev}
	}
	// under is the line under Waiting for remote, trimmed.
	under := func(v string) string {
		lines := strings.Split(v, "\n")
		for i, l := range lines[:len(lines)-1] {
			if strings.Contains(l, "Waiting for remote") {
				return strings.TrimSpace(lines[i+1])
			}
		}
		return ""
	}
	steps := []struct {
		name string
		msg  stageMsg
		want string // under Waiting for remote
	}{
		{"no report yet", stageMsg{status.StageEvent}, "Finalizing"},
		{"a report", progress("c1", "e1", "out", 120), "comments 120 of 5000"},
		{"a later report", progress("c1", "e1", "out", 480), "comments 480 of 5000"},
		{"another sync's", progress("c1", "e2", "out", 9), "comments 480 of 5000"},
		{"another connection's", progress("c2", "e1", "out", 7), "comments 480 of 5000"},
		{"the receiving end's own", progress("c1", "e1", "in", 6), "comments 480 of 5000"},
		{"the last", progress("c1", "e1", "out", 5000), "comments 5000 of 5000"},
	}
	for _, st := range steps {
		s, _ = run(t, s, st.msg)
		if v := plain(s.View()); under(v) != st.want || strings.Count(v, " of 5000") > 1 {
			t.Errorf("%s: want %q under Waiting for remote, once, in:\n%s", st.name, st.want, v)
		}
	}
	status.Stage = adminapi.StageFinalizing
	status.Stages = append(status.Stages, adminapi.StageEntry{Stage: adminapi.StageFinalizing, At: testNow})
	s, _ = run(t, s, stageMsg{status.StageEvent})
	if v := plain(s.View()); strings.Contains(v, "of 5000") || !strings.Contains(v, "✓ Waiting for remote") {
		t.Errorf("past Waiting for remote, the progress should be gone:\n%s", v)
	}
}
