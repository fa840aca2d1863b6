package demo

import (
	"context"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// TestDemoWebhooks: the demo's Asana node, on loopback like its sandbox,
// gets a webhook on a project it connects (what tandem demo turns on),
// and none once the connection is gone.
func TestDemoWebhooks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nodes, err := Mixed(ctx, t.TempDir(), func(s *Spec) { s.Poll, s.Webhooks = 50*time.Millisecond, true })
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	acme, globex := nodes[0], nodes[1]
	conn, code, err := acme.Invite(ctx, engine.InviteRequest{To: globex.URL, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := globex.Accept(ctx, code, "KAN"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "Acme's webhook alive", func() bool { return acme.Hooks().Alive == 1 })
	if globex.Hooks().Alive != 0 {
		t.Error("the Jira node holds a webhook; Jira nodes poll")
	}
	if err := acme.Delete(ctx, conn.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "Acme's webhook deleted", func() bool { return acme.Hooks().Alive == 0 })
}

// waitFor polls cond every 10 ms until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
