package engine_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store/pgtest"
)

// Webhooks on any replica (webhookreplicas.go): a node's replicas on one
// PostgreSQL database behind one URL, with a load balancer that sends the
// tracker's calls to a webhook to the replica that does not lead.

// hookBalancer is the one URL of a node's replicas: everything goes to
// the replica leading, except the tracker's calls to a webhook that the
// test sends to a follower: the handshake (X-Hook-Secret), deliveries,
// or both.
type hookBalancer struct {
	handshakes, deliveries bool // sent to a follower

	mu       sync.Mutex
	replicas []*testNode
	// Counted: what reached a follower; the handshakes' secrets, which
	// no replica may log.
	toFollower struct{ handshakes, deliveries atomic.Int64 }
	secrets    []string
}

func (lb *hookBalancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lb.mu.Lock()
	var leader, follower *testNode
	for _, n := range lb.replicas {
		if n.Leads() && leader == nil {
			leader = n
		} else if follower == nil {
			follower = n
		}
	}
	if leader == nil {
		leader = follower
	}
	secret := r.Header.Get("X-Hook-Secret")
	if secret != "" {
		lb.secrets = append(lb.secrets, secret)
	}
	lb.mu.Unlock()
	to := leader
	if strings.HasPrefix(r.URL.Path, engine.PathHooks) && follower != nil {
		switch {
		case secret != "" && lb.handshakes:
			to = follower
			lb.toFollower.handshakes.Add(1)
		case secret == "" && lb.deliveries:
			to = follower
			lb.toFollower.deliveries.Add(1)
		}
	}
	if to == nil {
		http.Error(w, "no replica yet", http.StatusServiceUnavailable)
		return
	}
	u, err := neturl.Parse(to.url)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
}

// hookedReplicas starts Acme as two replicas on one PostgreSQL database
// behind lb, with webhooks on, and Globex as one process, and connects
// Acme's Company with Globex's Test once one Acme replica leads. It
// returns the replica leading and the other.
func hookedReplicas(t *testing.T, lb *hookBalancer) (leader, follower, b *testNode, connA engine.Connection) {
	t.Helper()
	return hookedReplicasWith(t, lb, hookOpts{})
}

// hookedReplicasWith is hookedReplicas with Acme's sandbox options and
// webhook check interval from o.
func hookedReplicasWith(t *testing.T, lb *hookBalancer, o hookOpts) (leader, follower, b *testNode, connA engine.Connection) {
	t.Helper()
	url := pgtest.URL(t)
	front := httptest.NewServer(lb)
	t.Cleanup(front.Close)
	hooked := func(n *testNode) {
		n.config = func(c *engine.Config) {
			c.Poll, c.PollMax, c.Webhooks, c.HookPollMax = testPoll, testPollMax, true, testHookPollMax
			c.HookCheck = o.check
		}
	}
	behind := func(n *testNode) {
		prev := n.config
		n.config = func(c *engine.Config) {
			prev(c)
			c.URL = front.URL // one node, one URL
		}
	}
	sb, err := sandbox.New(append([]sandbox.Option{sandbox.WithWorkspace("Acme"), sandbox.WithRandSeed(int64(len("Acme")))}, o.sandbox...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	a := &testNode{dir: t.TempDir(), clock: &clock{}, sb: sb}
	a.asanaURL = a.serveSandbox(t, sb) + "/api/1.0"
	a.begin(t, "Acme", []func(*testNode){hooked, onDatabase(url), behind})
	a2 := (&testNode{dir: t.TempDir(), clock: a.clock, sb: a.sb, asanaURL: a.asanaURL}).begin(t, "Acme",
		[]func(*testNode){hooked, onDatabase(url), behind})
	lb.mu.Lock()
	lb.replicas = []*testNode{a, a2}
	lb.mu.Unlock()
	b = startNode(t, "Globex", &clock{}, hooked)
	eventually(t, "an Acme replica to lead", func() bool { return a.Leads() || a2.Leads() })
	leader, follower = a, a2
	if a2.Leads() {
		leader, follower = a2, a
	}
	ctx := ctxFor(t)
	connA, code, err := leader.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	return leader, follower, b, connA
}

// TestHookHeartbeatOnFollower: the tracker's heartbeats reaching only
// the replica that does not lead keep the leader's webhook alive (the
// follower tells it): the leader does not check it as a quiet one, as it
// checks a webhook without heartbeats every HookCheck.
func TestHookHeartbeatOnFollower(t *testing.T) {
	const check = 500 * time.Millisecond
	lb := &hookBalancer{deliveries: true}
	leader, follower, _, connA := hookedReplicasWith(t, lb, hookOpts{check: check,
		sandbox: []sandbox.Option{sandbox.WithWebhookHeartbeat(50 * time.Millisecond)}})
	waitHooked(t, leader, connA.LocalProject)
	checks, beats, began := leader.Hooks().Checks, lb.toFollower.deliveries.Load(), time.Now()
	// Three check intervals of heartbeats, all to the follower.
	eventually(t, "three check intervals of heartbeats to the follower", func() bool {
		return time.Since(began) > 3*check && lb.toFollower.deliveries.Load() >= beats+10
	})
	if got := leader.Hooks().Checks; got != checks {
		t.Errorf("the leader checked its webhook %d times while the follower had %d heartbeats of it, want none",
			got-checks, lb.toFollower.deliveries.Load()-beats)
	}
	if follower.Leads() {
		t.Error("the follower leads")
	}
}

// TestHookHandshakeOnFollower: the tracker's handshake for the
// webhook the leader establishes reaches the other replica; that one
// takes it for the leader (webhook_pending), whose subscription succeeds:
// the project is hooked, not polled, and the secret is logged nowhere.
func TestHookHandshakeOnFollower(t *testing.T) {
	lb := &hookBalancer{handshakes: true, deliveries: true}
	leader, follower, _, connA := hookedReplicas(t, lb)
	waitHooked(t, leader, connA.LocalProject)
	if n := lb.toFollower.handshakes.Load(); n == 0 {
		t.Fatal("no handshake reached the follower")
	}
	if strings.Contains(leader.log.String(), "polling instead") {
		t.Error("the leader fell back to polling")
	}
	if n := follower.Hooks().Alive; n != 0 {
		t.Errorf("the follower keeps %d webhooks, want none (the leader keeps them)", n)
	}
	if n := dbCount(t, leader, `SELECT COUNT(*) FROM webhooks`); n != 1 {
		t.Errorf("%d webhooks recorded, want 1", n)
	}
	eventually(t, "the handshake's row to go", func() bool {
		return dbCount(t, leader, `SELECT COUNT(*) FROM webhook_pending`) == 0
	})
	lb.mu.Lock()
	secrets := append([]string(nil), lb.secrets...)
	lb.mu.Unlock()
	for _, n := range []*testNode{leader, follower} {
		for _, s := range secrets {
			if strings.Contains(n.log.String(), s) {
				t.Error("a replica logged the handshake's secret")
			}
		}
	}
	var stored []byte
	if err := leader.Store().DB().QueryRow(`SELECT secret FROM webhooks`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(stored), s) {
			t.Error("the webhook's secret is stored in the clear")
		}
	}
}

// TestHookDeliveryOnFollower: deliveries reach the replica that
// does not lead; it tells the leader (NOTIFY), whose change detection
// looks at once: a rename is Synchronized within seconds, where the
// safety poll of the hooked project comes only every minute.
func TestHookDeliveryOnFollower(t *testing.T) {
	lb := &hookBalancer{deliveries: true}
	leader, follower, b, connA := hookedReplicas(t, lb)
	src, twin := twinnedOnReplicas(t, leader, b, connA.LocalProject)
	waitHooked(t, leader, connA.LocalProject)
	wakes := pollState(leader, connA.LocalProject).Wakes
	synced := func() int {
		return dbCount(t, leader, `SELECT COUNT(*) FROM sync_events WHERE direction = 'out' AND entity_id = ? AND stage = ?`,
			src.ID, engine.StageSynchronized)
	}
	before, delivered := synced(), lb.toFollower.deliveries.Load()

	ctx := ctxFor(t)
	name := src.Summary + " (delivered to the follower)"
	edited := time.Now()
	if _, err := leader.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &name}); err != nil {
		t.Fatal(err)
	}
	// Well within the safety poll: only the delivery's wake-up explains it.
	within(t, testHookPollMax/4, "the rename Synchronized on Acme", func() bool { return synced() > before })
	t.Logf("a change delivered to the follower synced in %v (safety poll every %v)", time.Since(edited), testHookPollMax)
	if n := lb.toFollower.deliveries.Load(); n <= delivered {
		t.Error("no delivery reached the follower")
	}
	if got := pollState(leader, connA.LocalProject).Wakes; got <= wakes {
		t.Errorf("nothing woke the leader's change detection (wakes %d, before %d)", got, wakes)
	}
	if follower.Leads() {
		t.Error("the follower leads")
	}
	e, err := b.et().Get(ctx, twin)
	if err != nil || e.Summary != name {
		t.Errorf("the twin on Globex: %q, %v; want the rename", e.Summary, err)
	}
}

// twinnedOnReplicas is twinnedTask for a node of replicas: its sync is
// followed in the database, the stage events of a step run by another
// replica being that replica's.
func twinnedOnReplicas(t *testing.T, a, b *testNode, project string) (engine.Entity, string) {
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
	twin := exalateSlow(t, a, src.ID, 30*time.Second).RemoteKey
	for _, n := range []*testNode{a, b} {
		eventually(t, "syncs to finish", func() bool {
			return dbCount(t, n, `SELECT COUNT(*) FROM sync_events WHERE stage != ?`, engine.StageSynchronized) == 0
		})
	}
	return src, twin
}

// TestHookListenerReconnects: the database cuts the replicas' listening
// connections; they listen again, the leader looks once at its hooked
// project (a delivery sent meanwhile would have been missed), and a
// delivery to the follower after that still wakes the leader.
func TestHookListenerReconnects(t *testing.T) {
	lb := &hookBalancer{deliveries: true}
	leader, _, b, connA := hookedReplicas(t, lb)
	src, twin := twinnedOnReplicas(t, leader, b, connA.LocalProject)
	waitHooked(t, leader, connA.LocalProject)
	wakes := pollState(leader, connA.LocalProject).Wakes
	listening := `SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %tandem_hook%' AND datname = current_database()`
	eventually(t, "both replicas to listen", func() bool { return dbCount(t, leader, listening) == 2 })
	if n := dbCount(t, leader, `SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query LIKE 'LISTEN %tandem_hook%' AND datname = current_database()) cut`); n != 2 {
		t.Fatalf("cut %d listening connections, want 2", n)
	}
	eventually(t, "the leader to listen again and look at its hooked project", func() bool {
		return strings.Contains(leader.log.String(), "listening to the other replicas again") &&
			pollState(leader, connA.LocalProject).Wakes > wakes
	})
	eventually(t, "both replicas to listen again", func() bool { return dbCount(t, leader, listening) == 2 })
	waitHooked(t, leader, connA.LocalProject)

	ctx := ctxFor(t)
	name := src.Summary + " (delivered after the listeners reconnected)"
	if _, err := leader.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &name}); err != nil {
		t.Fatal(err)
	}
	within(t, testHookPollMax/4, "the rename on Globex", func() bool {
		e, err := b.et().Get(ctx, twin)
		return err == nil && e.Summary == name
	})
}
