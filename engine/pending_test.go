package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine"
)

// Tests of Pending connections, the newcomer traps of issue 14 around an
// invitation not accepted yet.

// TestSyncOnPendingIsSentOnAcceptance checks that a sync started on a
// connection whose invitation is not accepted yet waits at Sending,
// saying what for, and goes through once the invitation is accepted
// (trap 1), with and without the other side's URL given.
func TestSyncOnPendingIsSentOnAcceptance(t *testing.T) {
	for _, tc := range []struct {
		name, who string
		withURL   bool
	}{
		{"without a URL", "the other side", false},
		{"with the URL", "Globex", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := startNode(t, "Acme", &clock{}), startNode(t, "Globex", &clock{})
			ctx := ctxFor(t)
			req := engine.InviteRequest{Project: "Company"}
			if tc.withURL {
				req.To = b.url
			}
			connA, code, err := a.Invite(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			task := firstTaskOf(t, a, connA.LocalProject)
			events, stop := a.Subscribe()
			defer stop()
			ev, err := a.Exalate(ctx, connA.ID, task.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := "waiting for " + tc.who + " to accept the invitation"
			if ev.Stage != engine.StageSending || ev.Held != want {
				t.Errorf("the sync on a Pending connection: stage %q, held %q; want sending, %q", ev.Stage, ev.Held, want)
			}
			st, err := a.EventStatus(ctx, connA.ID, ev.EventID)
			if err != nil || st.Held != want {
				t.Errorf("its status says held %q (%v), want %q", st.Held, err, want)
			}
			recent, err := a.RecentEvents(ctx, connA.ID, 5)
			if err != nil || len(recent) != 1 || recent[0].Held != want {
				t.Errorf("the recent syncs say %+v (%v), want it held: %q", recent, err, want)
			}

			if _, err := b.Accept(ctx, code, "Test"); err != nil {
				t.Fatal(err)
			}
			done := waitStages(t, events, ev.EventID)
			last := done[len(done)-1]
			if last.RemoteKey == "" || last.Held != "" {
				t.Errorf("synchronized without the twin's key, or still held: %+v", last)
			}
			twin, err := b.et().Get(ctx, last.RemoteKey)
			if err != nil || twin.Summary != task.Summary {
				t.Errorf("Globex's twin %q: %+v (%v)", last.RemoteKey, twin, err)
			}
			if strings.Contains(a.log.String(), "sync step failed") {
				t.Errorf("the queued sync failed on its way after the acceptance:\n%s", a.log.String())
			}
		})
	}
}

// TestRenewInvitation checks that a Pending connection's invitation can be
// shown again as a new code, over the admin API, and that the new code
// revokes the old one (only its hash is kept); once accepted there is no
// code to renew (trap 2).
func TestRenewInvitation(t *testing.T) {
	a, b := startNode(t, "Acme", &clock{}), startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, old, err := a.Invite(ctx, engine.InviteRequest{Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	rc := a.remote(t)
	renewed, code, err := rc.RenewInvitation(ctx, connA.Name)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.ID != connA.ID || code == "" || code == old {
		t.Fatalf("renewed %+v with code %q (the old one %q)", renewed, code, old)
	}
	if _, err := b.Accept(ctx, old, "Test"); !errors.Is(err, engine.ErrInvitationRefused) {
		t.Errorf("the old code after a renewal: err = %v, want it refused", err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatalf("the new code: %v", err)
	}
	if _, _, err := rc.RenewInvitation(ctx, connA.ID); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("renewing an accepted invitation: err = %v, want ErrConflict", err)
	}
	if _, _, err := rc.RenewInvitation(ctx, "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("renewing an unknown connection: err = %v, want ErrNotFound", err)
	}
	conns, err := a.Connections(ctx)
	if err != nil || len(conns) != 1 || conns[0].Status != engine.StatusActive {
		t.Errorf("after a renewal and an acceptance Acme has %+v (%v), want one Active connection", conns, err)
	}

	// Cancelling an invitation is deleting its Pending connection: its
	// code is refused after.
	pending, code, err := a.Invite(ctx, engine.InviteRequest{Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Delete(ctx, pending.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); !errors.Is(err, engine.ErrInvitationRefused) {
		t.Errorf("the code of a cancelled invitation: err = %v, want it refused", err)
	}
}

// names lists the names of n's connections, failing the test when two
// share one.
func names(t *testing.T, n *testNode) map[string]bool {
	t.Helper()
	cs, err := n.Connections(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var all []string
	for _, c := range cs {
		all = append(all, c.Name)
	}
	for _, c := range cs {
		if seen[c.Name] {
			t.Errorf("two connections on %s are named %s: %v", n.Info().Name, c.Name, all)
		}
		seen[c.Name] = true
	}
	return seen
}

// TestConnectionNamesAreUnique checks that no two connections of a node
// share a name (trap 3): a second connection to the same node, an
// accepted Acme_to_pending renamed to a name already taken, a name the
// other side has taken already, and local connections.
func TestConnectionNamesAreUnique(t *testing.T) {
	a, b := startNode(t, "Acme", &clock{}), startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connect := func(to string) (engine.Connection, engine.Connection) {
		t.Helper()
		ca, code, err := a.Invite(ctx, engine.InviteRequest{To: to, Project: "Company"})
		if err != nil {
			t.Fatal(err)
		}
		cb, err := b.Accept(ctx, code, "Test")
		if err != nil {
			t.Fatal(err)
		}
		ca, err = a.ConnectionByID(ctx, ca.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ca, cb
	}
	first, _ := connect(b.url)
	second, onB := connect(b.url)
	if first.Name != "Acme_to_Globex" || second.Name != "Acme_to_Globex_2" || onB.Name != "Acme_to_Globex_2" {
		t.Errorf("two connections to Globex: %q and %q (%q on Globex), want Acme_to_Globex and Acme_to_Globex_2 on both",
			first.Name, second.Name, onB.Name)
	}
	p1, _, err := a.Invite(ctx, engine.InviteRequest{Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	p2, _, err := a.Invite(ctx, engine.InviteRequest{Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if p1.Name != "Acme_to_pending" || p2.Name != "Acme_to_pending_2" {
		t.Errorf("two Pending connections: %q and %q", p1.Name, p2.Name)
	}
	// Accepted, a Pending one is renamed, to a name not taken.
	third, _ := connect("")
	if third.Name != "Acme_to_Globex_3" {
		t.Errorf("an accepted Acme_to_pending is %q, want Acme_to_Globex_3", third.Name)
	}
	// Acme forgets its first connection, Globex does not: Acme's next
	// name for a connection to Globex is taken there.
	if err := a.Delete(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	again, onB := connect(b.url)
	if again.Name != "Acme_to_Globex" || onB.Name != "Acme_to_Globex_4" {
		t.Errorf("after a delete on Acme only: %q on Acme, %q on Globex; want Acme_to_Globex, and Acme_to_Globex_4 where that is taken", again.Name, onB.Name)
	}
	// Each end of a local connection is named from its own project.
	for range 2 {
		if _, err := a.Connect(ctx, engine.ConnectRequest{To: a.url, Project: "Company", DestProject: "Test"}); err != nil {
			t.Fatal(err)
		}
	}
	got := names(t, a)
	for _, want := range []string{"Company_to_Test", "Test_to_Company", "Company_to_Test_2", "Test_to_Company_2"} {
		if !got[want] {
			t.Errorf("no local connection end %s: %v", want, got)
		}
	}
	names(t, b)

	// A data dir from before names were unique may hold two connections
	// of one name: the name is refused, with each one's id to give.
	if _, err := b.Store().DB().Exec(`UPDATE connections SET name = 'Acme_to_Globex' WHERE name = 'Acme_to_Globex_2'`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ConnectionByID(ctx, "Acme_to_Globex"); !errors.Is(err, engine.ErrBadRequest) || !strings.Contains(err.Error(), "give the id") {
		t.Errorf("a name two connections share: err = %v, want it refused, saying to give the id", err)
	}
}
