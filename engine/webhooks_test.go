package engine_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// Webhooks at test speed: adaptive polling as in polling_test.go, and a
// safety poll of a minute while a webhook is alive, far beyond any wait
// here, so a change that syncs in seconds was woken by its delivery.
const (
	testHookPollMax = time.Minute
	testHookTicks   = int(testHookPollMax / testPoll)
)

// hookOpts are a webhook test's knobs: how long a webhook may be quiet
// before the node checks it (0: the default, 10 minutes), how long the
// node polls after a failed handshake, and the sandbox's own options.
type hookOpts struct {
	check, retry time.Duration
	sandbox      []sandbox.Option
	wrap         func(*asana.Tracker) engine.Tracker
}

// hookedPair starts Acme and Globex with webhooks on and connects Acme's
// Company with Globex's Test.
func hookedPair(t *testing.T, o hookOpts) (a, b *testNode, connA, connB engine.Connection) {
	t.Helper()
	start := func(name string) *testNode {
		sb, err := sandbox.New(append([]sandbox.Option{sandbox.WithWorkspace(name), sandbox.WithRandSeed(int64(len(name)))}, o.sandbox...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sb.Close() })
		n := &testNode{dir: t.TempDir(), clock: &clock{}, sb: sb, wrap: o.wrap}
		n.asanaURL = n.serveSandbox(t, sb) + "/api/1.0"
		n.config = func(c *engine.Config) {
			c.Poll, c.PollMax, c.Webhooks, c.HookPollMax = testPoll, testPollMax, true, testHookPollMax
			c.HookCheck, c.HookRetry = o.check, o.retry
		}
		return n.begin(t, name, nil)
	}
	a, b = start("Acme"), start("Globex")
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

// waitHooked waits until n's webhook on project is alive and the project
// is polled only as a safety net.
func waitHooked(t *testing.T, n *testNode, project string) {
	t.Helper()
	eventually(t, "the webhook to be alive and the project polled every HookPollMax", func() bool {
		return n.Hooks().Alive == 1 && pollState(n, project).Every == testHookTicks
	})
}

// hookOf is the one webhook the sandbox has on n's project.
func hookOf(t *testing.T, n *testNode, project string) tracker.Hook {
	t.Helper()
	hooks, err := n.tracker.Hooks(ctxFor(t), project)
	if err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks on project %s, want 1", len(hooks), project)
	}
	return hooks[0]
}

// twinnedTask exalates a task of a's project and returns it with its twin's id.
func twinnedTask(t *testing.T, a, b *testNode, project string) (engine.Entity, string) {
	t.Helper()
	ctx := ctxFor(t)
	ids, err := a.et().List(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	src, err := a.et().Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	twin := exalate(t, a, src.ID).RemoteKey
	for _, n := range []*testNode{a, b} {
		// Not quiet: with webhooks there is no round every tick to wait for.
		eventually(t, "syncs to finish", func() bool {
			var busy int
			n.Store().DB().QueryRow(`SELECT count(*) FROM sync_events WHERE stage != 'synchronized'`).Scan(&busy)
			return busy == 0
		})
	}
	return src, twin
}

// TestHookWakesDetection: with the webhooks alive, both projects are
// polled only every minute, and a change still syncs within seconds: the
// delivery woke change detection on the source.
func TestHookWakesDetection(t *testing.T) {
	a, b, connA, connB := hookedPair(t, hookOpts{})
	src, twin := twinnedTask(t, a, b, connA.LocalProject)
	waitHooked(t, a, connA.LocalProject)
	waitHooked(t, b, connB.LocalProject)
	wakes := pollState(a, connA.LocalProject).Wakes

	ctx := ctxFor(t)
	name := src.Summary + " (woken by a webhook)"
	edited := time.Now()
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &name}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rename on Globex", func() bool {
		e, err := b.et().Get(ctx, twin)
		return err == nil && e.Summary == name
	})
	took := time.Since(edited)
	t.Logf("a change with webhooks synced in %v (safety poll every %v)", took, testHookPollMax)
	if took > testHookPollMax/4 {
		t.Errorf("a change took %v to sync with webhooks, want well within the safety poll (%v)", took, testHookPollMax)
	}
	if got := pollState(a, connA.LocalProject).Wakes; got <= wakes {
		t.Errorf("no delivery woke Acme's project (wakes %d, before %d)", got, wakes)
	}
}

// TestHookRefusesForgeries: a delivery without the right signature is
// refused with 401, counted on /metrics, and wakes nothing; a handshake is
// taken only for a webhook being established; a token the node doesn't
// know is Gone (so Asana deletes a stray webhook).
func TestHookRefusesForgeries(t *testing.T) {
	a, _, connA, _ := hookedPair(t, hookOpts{})
	waitHooked(t, a, connA.LocalProject)
	target := hookOf(t, a, connA.LocalProject).Target
	if !strings.HasPrefix(target, a.url+engine.PathHooks) {
		t.Fatalf("the webhook's target %q is not below %s", target, a.url+engine.PathHooks)
	}
	wakes := pollState(a, connA.LocalProject).Wakes
	post := func(url string, header map[string]string, body string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctxFor(t), http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	events := `{"events":[{"action":"changed","resource":{"gid":"1","resource_type":"task"}}]}`
	forged := sandbox.Sign("not the secret", []byte(events))
	for _, tc := range []struct {
		what   string
		url    string
		header map[string]string
		want   int
	}{
		{"a forged signature", target, map[string]string{"X-Hook-Signature": forged}, http.StatusUnauthorized},
		{"no signature", target, nil, http.StatusUnauthorized},
		{"a signature that isn't hex", target, map[string]string{"X-Hook-Signature": "zz"}, http.StatusUnauthorized},
		{"a handshake on an established webhook", target, map[string]string{"X-Hook-Secret": "mine now"}, http.StatusNotFound},
		{"a handshake on a token never issued", a.url + engine.PathHooks + "made-up", map[string]string{"X-Hook-Secret": "x"}, http.StatusNotFound},
		{"a delivery on a token never issued", a.url + engine.PathHooks + "made-up", map[string]string{"X-Hook-Signature": forged}, http.StatusGone},
	} {
		if got := post(tc.url, tc.header, events); got != tc.want {
			t.Errorf("%s: answered %d, want %d", tc.what, got, tc.want)
		}
	}
	if got := a.Hooks().Refused; got != 3 {
		t.Errorf("%d deliveries counted as refused, want 3", got)
	}
	if got := pollState(a, connA.LocalProject).Wakes; got != wakes {
		t.Errorf("refused deliveries woke change detection (wakes %d, before %d)", got, wakes)
	}
	if a.Hooks().Alive != 1 || hookOf(t, a, connA.LocalProject).Target != target {
		t.Error("the forgeries disturbed the webhook")
	}
	res, err := http.Get(a.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Contains(metrics, []byte("tandem_webhook_signatures_refused_total 3")) {
		t.Error("/metrics does not count the 3 refused deliveries")
	}
	logged := a.log.String()
	if strings.Contains(logged, forged) || strings.Contains(logged, strings.TrimPrefix(target, a.url+engine.PathHooks)) {
		t.Error("the node logged a delivery's signature or its webhook's token")
	}
	if !strings.Contains(logged, "webhook request refused") {
		t.Error("the node did not log the refusals")
	}
}

// TestHookHeartbeatKeepsAlive: heartbeats (empty signed deliveries) keep
// a webhook alive without the node asking its tracker about it; without
// them the node checks it every HookCheck.
func TestHookHeartbeatKeepsAlive(t *testing.T) {
	const check = 500 * time.Millisecond
	a, _, connA, _ := hookedPair(t, hookOpts{check: check, sandbox: []sandbox.Option{sandbox.WithWebhookHeartbeat(20 * time.Millisecond)}})
	quietA, _, connQ, _ := hookedPair(t, hookOpts{check: check})
	waitHooked(t, a, connA.LocalProject)
	waitHooked(t, quietA, connQ.LocalProject)
	checks, quietChecks := a.Hooks().Checks, quietA.Hooks().Checks
	eventually(t, "the quiet webhook to be checked three times", func() bool {
		return quietA.Hooks().Checks >= quietChecks+3
	})
	if got := a.Hooks().Checks; got != checks {
		t.Errorf("a webhook with heartbeats was checked %d times, want none", got-checks)
	}
	if a.Hooks().Alive != 1 || quietA.Hooks().Alive != 1 {
		t.Error("a webhook was given up")
	}
}

// TestHookReestablished: a webhook the tracker dropped (as Asana does
// after failing deliveries for a day) is noticed at the next check and
// established again.
func TestHookReestablished(t *testing.T) {
	a, _, connA, _ := hookedPair(t, hookOpts{check: 100 * time.Millisecond})
	waitHooked(t, a, connA.LocalProject)
	old := hookOf(t, a, connA.LocalProject)
	if err := a.client.DeleteWebhook(ctxFor(t), old.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a new webhook on the project", func() bool {
		hooks, err := a.tracker.Hooks(ctxFor(t), connA.LocalProject)
		return err == nil && len(hooks) == 1 && hooks[0].ID != old.ID && a.Hooks().Alive == 1
	})
	waitHooked(t, a, connA.LocalProject)
}

// TestHookDeletedWithLastConnection: when the project's last connection
// goes, its webhook goes too, at the tracker and on the node.
func TestHookDeletedWithLastConnection(t *testing.T) {
	a, _, connA, _ := hookedPair(t, hookOpts{})
	waitHooked(t, a, connA.LocalProject)
	if err := a.Delete(ctxFor(t), connA.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the webhook deleted", func() bool {
		hooks, err := a.tracker.Hooks(ctxFor(t), connA.LocalProject)
		return err == nil && len(hooks) == 0 && a.Hooks().Alive == 0
	})
}

// unreachable is a tracker that can't reach the node: every webhook it is
// asked for targets a port nobody listens on, so the handshake fails.
type unreachable struct {
	*asana.Tracker
	tries atomic.Int64
}

func (u *unreachable) Subscribe(ctx context.Context, project, _ string) (tracker.Hook, error) {
	u.tries.Add(1)
	return u.Tracker.Subscribe(ctx, project, "http://127.0.0.1:1/unreachable")
}

// TestHookUnreachableFallsBack: when the tracker can't reach the node, the
// node says so in one line, polls adaptively, tries again after
// HookRetry, and a change still syncs.
func TestHookUnreachableFallsBack(t *testing.T) {
	var ua *unreachable
	wrap := func(tr *asana.Tracker) engine.Tracker {
		u := &unreachable{Tracker: tr}
		if ua == nil {
			ua = u
		}
		return u
	}
	a, b, connA, _ := hookedPair(t, hookOpts{retry: 200 * time.Millisecond, wrap: wrap})
	eventually(t, "a second try after the retry wait", func() bool { return ua.tries.Load() >= 2 })
	if a.Hooks().Alive != 0 {
		t.Error("a webhook counted alive though its handshake failed")
	}
	if !strings.Contains(a.log.String(), "polling instead") {
		t.Error("the node did not say it polls instead")
	}
	waitIdle(t, a, connA.LocalProject)
	src, twin := twinnedTask(t, a, b, connA.LocalProject)
	ctx := ctxFor(t)
	name := src.Summary + " (found by polling)"
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &name}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rename on Globex", func() bool {
		e, err := b.et().Get(ctx, twin)
		return err == nil && e.Summary == name
	})
}

// TestHookSurvivesRestart: a node restarted keeps its webhook (stored,
// its secret sealed): the same webhook, checked once, and its deliveries
// still wake detection.
func TestHookSurvivesRestart(t *testing.T) {
	a, b, connA, _ := hookedPair(t, hookOpts{})
	src, twin := twinnedTask(t, a, b, connA.LocalProject)
	waitHooked(t, a, connA.LocalProject)
	old := hookOf(t, a, connA.LocalProject)
	a.stop()
	a.start(t, "Acme")
	waitHooked(t, a, connA.LocalProject)
	if got := hookOf(t, a, connA.LocalProject); got.ID != old.ID {
		t.Errorf("the restarted node made webhook %s in place of %s", got.ID, old.ID)
	}
	ctx := ctxFor(t)
	name := src.Summary + " (after a restart)"
	edited := time.Now()
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &name}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rename on Globex", func() bool {
		e, err := b.et().Get(ctx, twin)
		return err == nil && e.Summary == name
	})
	if took := time.Since(edited); took > testHookPollMax/4 {
		t.Errorf("a change after a restart took %v to sync, want well within the safety poll (%v)", took, testHookPollMax)
	}
}
