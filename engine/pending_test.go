package engine_test

import (
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
