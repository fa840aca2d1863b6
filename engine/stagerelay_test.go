package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store/pgtest"
)

// stagesUntil collects the stage events of outgoing syncs from events
// until sync last is Synchronized, by sync, progress reports apart.
func stagesUntil(t *testing.T, events <-chan engine.StageEvent, last string) (stages map[string][]string, progress map[string][]engine.Progress) {
	t.Helper()
	stages, progress = map[string][]string{}, map[string][]engine.Progress{}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the event stream closed; saw %v", stages)
			}
			if ev.Direction != "out" {
				continue
			}
			if ev.Progress != nil {
				if ev.Stage != engine.StageWaiting {
					t.Errorf("a progress report of sync %s at %s, want %s", ev.EventID, ev.Stage, engine.StageWaiting)
				}
				progress[ev.EventID] = append(progress[ev.EventID], *ev.Progress)
				continue
			}
			stages[ev.EventID] = append(stages[ev.EventID], ev.Stage)
			if ev.EventID == last && ev.Stage == engine.StageSynchronized {
				return stages, progress
			}
		case <-deadline:
			t.Fatalf("sync %s did not reach Synchronized; saw %v", last, stages)
		}
	}
}

// TestReplicaShowsStagesOfAnotherReplicasSync: of two replicas of one
// node on PostgreSQL, a console on the one that did not start a sync (in
// process, and through the admin API's event stream) sees each of its
// stages, Preparing to Synchronized, once and in order, and the progress
// of its long apply on the other node; so does a console on the replica
// that started it. A second sync, followed to its end, shows no stage of
// the first again.
func TestReplicaShowsStagesOfAnotherReplicasSync(t *testing.T) {
	const comments = 40
	url := pgtest.URL(t)
	a := startNode(t, "Acme", &clock{}, onDatabase(url))
	b := startNode(t, "Globex", &clock{}, func(n *testNode) {
		n.progressEvery = time.Millisecond
		// The apply lasts 200 ms or more: room for progress reports.
		n.wrap = func(tr *asana.Tracker) engine.Tracker { return slowComments{tr, 5 * time.Millisecond} }
	})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	a2 := replicaOf(t, a, "Acme", url)
	long, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "A long thread"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range comments {
		if _, err := a.et().AddComment(ctx, long.ID, fmt.Sprintf("<body>Comment %d</body>", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	short, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "A short one"})
	if err != nil {
		t.Fatal(err)
	}

	other, stopOther := a2.Subscribe()
	defer stopOther()
	rc, err := remote.New(a2.url, a.token)
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := rc.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	own, stopOwn := a.Subscribe()
	defer stopOwn()

	first, err := a.Exalate(ctx, "", long.ID)
	if err != nil {
		t.Fatal(err)
	}
	followers := []struct {
		name   string
		events <-chan engine.StageEvent
	}{{"the other replica", other}, {"the other replica's admin API", streamed}, {"the replica that started it", own}}
	for _, f := range followers {
		stages, progress := stagesUntil(t, f.events, first.EventID)
		if got := stages[first.EventID]; !slices.Equal(got, engine.Stages()) {
			t.Errorf("%s: the stages of the sync: %v, want %v", f.name, got, engine.Stages())
		}
		reports := progress[first.EventID]
		if len(reports) == 0 {
			t.Errorf("%s: no progress report of the long apply", f.name)
			continue
		}
		for i, p := range reports {
			if p.What != engine.ProgressComments || p.Total != comments || (i > 0 && p.Done <= reports[i-1].Done) {
				t.Errorf("%s: progress reports %v, want comments counting up, of %d", f.name, reports, comments)
				break
			}
		}
		if last := reports[len(reports)-1]; last.Done != comments {
			t.Errorf("%s: the last progress report is %v, want comments %d of %d", f.name, last, comments, comments)
		}
	}

	// Anything left of the first sync would come before the second's
	// stages: commit order.
	second := exalate(t, a, short.ID)
	for _, f := range followers {
		stages, _ := stagesUntil(t, f.events, second.EventID)
		if again := stages[first.EventID]; len(again) > 0 {
			t.Errorf("%s: stages of the first sync again after its Synchronized: %v", f.name, again)
		}
		if got := stages[second.EventID]; !slices.Equal(got, engine.Stages()) {
			t.Errorf("%s: the stages of the second sync: %v, want %v", f.name, got, engine.Stages())
		}
	}
}

// TestStageRelayListensAgainAfterItsSessionDies: the database ends the
// session a replica listens for stage events on (as when its connection
// is cut); the replica listens again on a new one, and its console sees
// the next sync's stages, once each, in order.
func TestStageRelayListensAgainAfterItsSessionDies(t *testing.T) {
	url := pgtest.URL(t)
	a := startNode(t, "Acme", &clock{}, onDatabase(url))
	b := startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	a2 := replicaOf(t, a, "Acme", named(t, url, "second"))
	db := a.Store().DB()
	listener := func() (pid int64) {
		err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(pid), 0) FROM pg_stat_activity
			WHERE application_name = 'second' AND query = 'LISTEN "tandem_stage"'`).Scan(&pid)
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	var old int64
	eventually(t, "the second replica to listen for stage events", func() bool { old = listener(); return old != 0 })
	if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend(?)`, old); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second replica to listen again", func() bool { pid := listener(); return pid != 0 && pid != old })

	events, stop := a2.Subscribe()
	defer stop()
	task, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "After the listener came back"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.Exalate(ctx, "", task.ID)
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := stagesUntil(t, events, first.EventID)
	if got := stages[first.EventID]; !slices.Equal(got, engine.Stages()) {
		t.Errorf("the stages the second replica relayed after listening again: %v, want %v", got, engine.Stages())
	}
	if !strings.Contains(a2.log.String(), "listening again") {
		t.Error("the second replica did not log that it listens again")
	}
}
