package engine_test

import (
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// Adaptive polling at test speed: a tick every 20ms, an idle project
// looked at every 16 ticks (320ms) at the slowest.
const (
	testPoll     = 20 * time.Millisecond
	testPollMax  = 320 * time.Millisecond
	testMaxTicks = int(testPollMax / testPoll)
)

// adaptive makes a node poll at test speed, backing off to testPollMax.
func adaptive(n *testNode) {
	n.config = func(c *engine.Config) { c.Poll, c.PollMax = testPoll, testPollMax }
}

// fixedPolling makes a node look at every project on every tick.
func fixedPolling(n *testNode) {
	n.config = func(c *engine.Config) { c.Poll, c.PollMax = testPoll, 0 }
}

// connectedWith starts Acme and Globex with opts and connects Acme's
// Company project with Globex's Test project.
func connectedWith(t *testing.T, opts ...func(*testNode)) (a, b *testNode, connA, connB engine.Connection) {
	t.Helper()
	a, b = startNode(t, "Acme", &clock{}, opts...), startNode(t, "Globex", &clock{}, opts...)
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if connB, err = b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	return a, b, connA, connB
}

// pollState is where n's adaptive polling stands on project.
func pollState(n *testNode, project string) engine.PollState {
	return engine.PollStateForTest(n.Node, project)
}

// waitIdle waits until n looks at project at its slowest.
func waitIdle(t *testing.T, n *testNode, project string) {
	t.Helper()
	eventually(t, "the project to be polled at --poll-max", func() bool {
		return pollState(n, project).Every == testMaxTicks
	})
}

// idleCalls counts the calls n makes to its tracker over rounds ticks of
// change detection, the window measured in ticks rather than on the clock.
func idleCalls(t *testing.T, n *testNode, project string, rounds int64) int64 {
	t.Helper()
	start := pollState(n, project).Rounds
	before := n.sb.Requests()
	eventually(t, "rounds of change detection", func() bool {
		return pollState(n, project).Rounds >= start+rounds
	})
	return n.sb.Requests() - before
}

// TestPollIdleProjectsBackOff: with nothing changing, a node asks its
// tracker less and less often, down to one look per --poll-max, where it
// asked every --poll before.
func TestPollIdleProjectsBackOff(t *testing.T) {
	a, _, connA, _ := connectedWith(t, adaptive)
	fixed, _, connF, _ := connectedWith(t, fixedPolling)
	waitIdle(t, a, connA.LocalProject)

	const window = 4 * int64(testMaxTicks)
	adaptiveCalls := idleCalls(t, a, connA.LocalProject, window)
	fixedCalls := idleCalls(t, fixed, connF.LocalProject, window)
	t.Logf("idle calls over %d ticks of %v: %d polling every tick, %d backing off to %v", window, testPoll, fixedCalls, adaptiveCalls, testPollMax)
	if fixedCalls < window-2 {
		t.Errorf("fixed polling made %d calls over %d ticks, want about one a tick", fixedCalls, window)
	}
	// One look every testMaxTicks ticks, and one more for a window that
	// starts just before a look.
	if want := window/int64(testMaxTicks) + 1; adaptiveCalls > want {
		t.Errorf("an idle project cost %d calls over %d ticks, want at most %d", adaptiveCalls, window, want)
	}
}

// TestPollChangeAfterIdleSyncs: a change made on a project polled at its
// slowest still syncs, within --poll-max and the sync's own time; the
// replica received snaps the receiving project back to --poll.
func TestPollChangeAfterIdleSyncs(t *testing.T) {
	a, b, connA, connB := connectedWith(t, adaptive)
	ctx := ctxFor(t)
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	src, err := a.et().Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	twinID := exalate(t, a, src.ID).RemoteKey
	quiet(t, a, b)
	waitIdle(t, a, connA.LocalProject)
	waitIdle(t, b, connB.LocalProject)
	wakes := pollState(b, connB.LocalProject).Wakes

	name := src.Summary + " (renamed after a quiet spell)"
	edited := time.Now()
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &name}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rename on Globex", func() bool {
		e, err := b.et().Get(ctx, twinID)
		return err == nil && e.Summary == name
	})
	took := time.Since(edited)
	t.Logf("a change after idling synced in %v (--poll-max %v)", took, testPollMax)
	if limit := testPollMax + 10*time.Second; took > limit {
		t.Errorf("a change after idling took %v to sync, want within --poll-max and slack (%v)", took, limit)
	}
	// Globex received the replica: the project it applied to was woken
	// back to a look every tick (it backs off anew from there).
	if got := pollState(b, connB.LocalProject).Wakes; got <= wakes {
		t.Errorf("receiving a replica woke no project (wakes %d, before %d)", got, wakes)
	}
}

// TestPollWatchedProjectsEveryTick: while a console watches the node (it
// listens to stage events) its projects are looked at every --poll; when
// it leaves they back off again.
func TestPollWatchedProjectsEveryTick(t *testing.T) {
	a, _, connA, _ := connectedWith(t, adaptive)
	waitIdle(t, a, connA.LocalProject)
	events, stop := a.Subscribe()
	go func() {
		for range events {
		}
	}()
	const window = 2 * int64(testMaxTicks)
	if calls := idleCalls(t, a, connA.LocalProject, window); calls < window-2 {
		t.Errorf("a watched node made %d calls over %d ticks, want about one a tick", calls, window)
	}
	stop()
	waitIdle(t, a, connA.LocalProject)
}

// TestPollOneReadPerProject: two connections on the same tracker project
// cost one look at it per tick, not two.
func TestPollOneReadPerProject(t *testing.T) {
	a, b, connA, _ := connectedWith(t, fixedPolling)
	c := startNode(t, "Initech", &clock{}, fixedPolling)
	ctx := ctxFor(t)
	_, code, err := a.Invite(ctx, engine.InviteRequest{To: c.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	quiet(t, a, b, c)
	const window = 32
	calls := idleCalls(t, a, connA.LocalProject, window)
	t.Logf("two connections on one project: %d calls over %d ticks", calls, window)
	if calls > window+2 {
		t.Errorf("two connections on one project made %d calls over %d ticks, want one a tick", calls, window)
	}
}
