package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
)

// slowProgress delays the progress reports a node sends, as a slow link
// would, so that reports fall due while one is still on its way.
type slowProgress struct {
	http.RoundTripper
	latency time.Duration
}

func (s slowProgress) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == engine.PathProgress {
		select {
		case <-time.After(s.latency):
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return s.RoundTripper.RoundTrip(r)
}

// slowComments is a tracker whose comments take a while to add.
type slowComments struct {
	*asana.Tracker
	latency time.Duration
}

func (s slowComments) AddComment(ctx context.Context, id, body string) (engine.Comment, error) {
	select {
	case <-time.After(s.latency):
	case <-ctx.Done():
		return engine.Comment{}, ctx.Err()
	}
	return s.Tracker.AddComment(ctx, id, body)
}

// TestLongApplyReportsProgress syncs a task with many comments to a node
// that reports progress often (a low Config.ProgressEvery) over a slow
// link: the source's listeners see the receiver's reports, Waiting for
// remote, counting up to every comment before the sync is Synchronized
// (the last one waited for, not skipped behind one on its way), and the
// receiver's own listeners see its progress too.
func TestLongApplyReportsProgress(t *testing.T) {
	const comments = 80
	a := startNode(t, "Acme", &clock{})
	b := startNode(t, "Globex", &clock{}, func(n *testNode) {
		n.progressEvery = time.Millisecond
		n.peer = func(rt http.RoundTripper) http.RoundTripper { return slowProgress{rt, 15 * time.Millisecond} }
		// A comment takes the receiver's tracker 5 ms or more, as a real
		// one's do: the apply lasts 400 ms however fast the machine, room
		// for many reports.
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
	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "A long thread"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range comments {
		if _, err := a.et().AddComment(ctx, src.ID, fmt.Sprintf("<body>Comment %d</body>", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	atSource, stopA := a.Subscribe()
	defer stopA()
	atReceiver, stopB := b.Subscribe()
	defer stopB()
	first, err := a.Exalate(ctx, "", src.ID)
	if err != nil {
		t.Fatal(err)
	}

	var reports []engine.Progress
	deadline := time.After(30 * time.Second)
	for synced := false; !synced; {
		select {
		case ev := <-atSource:
			if ev.EventID != first.EventID || ev.Direction != "out" {
				continue
			}
			if ev.Progress != nil {
				if ev.Stage != engine.StageWaiting {
					t.Errorf("a progress report at stage %s, want %s", ev.Stage, engine.StageWaiting)
				}
				reports = append(reports, *ev.Progress)
			}
			synced = ev.Stage == engine.StageSynchronized
		case <-deadline:
			t.Fatalf("the sync did not reach Synchronized; progress seen: %v", reports)
		}
	}
	if len(reports) < 3 {
		t.Fatalf("the source saw %d progress reports (%v), want several", len(reports), reports)
	}
	for i, p := range reports {
		if p.What != engine.ProgressComments || p.Total != comments || (i > 0 && p.Done <= reports[i-1].Done) {
			t.Fatalf("progress reports %v: want comments counting up, of %d", reports, comments)
		}
	}
	if last := reports[len(reports)-1]; last.Done != comments {
		t.Errorf("the last progress report before Synchronized is %v, want comments %d of %d", last, comments, comments)
	}

	// The receiver shows its own apply's progress, on the incoming event:
	// published before the source got it on SQLite, relayed by the
	// database on PostgreSQL (maybe a moment later), so waited for.
	var own int
	receiverDeadline := time.After(10 * time.Second)
	for own < len(reports) {
		select {
		case ev := <-atReceiver:
			if ev.EventID == first.EventID && ev.Direction == "in" && ev.Progress != nil {
				own++
			}
		case <-receiverDeadline:
			t.Fatalf("the receiver published %d progress reports of its own, want at least the %d the source got", own, len(reports))
		}
	}
}
