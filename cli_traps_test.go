package main

import (
	"strings"
	"testing"
	"time"
)

// Command-line tests of the newcomer traps of issue 14.

// inviteCode runs tandem invite on node with args and returns the code it
// printed.
func inviteCode(t *testing.T, node, token string, args ...string) string {
	t.Helper()
	out, err := run(t, append([]string{"invite", "--node", node, "--admin-token", token}, args...)...)
	if err != nil {
		t.Fatalf("invite: %v\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "tdm1.") {
			return line
		}
	}
	t.Fatalf("invite printed no code:\n%s", out)
	return ""
}

// TestExalateOnPendingSaysWhatItWaitsFor checks that exalate on a
// connection whose invitation is not accepted yet says what the sync
// waits for and returns, rather than waiting at Sending until it gives up,
// and that the sync goes through once the invitation is accepted (trap 1).
func TestExalateOnPendingSaysWhatItWaitsFor(t *testing.T) {
	acmeAsana, acme, acmeToken, globex, globexToken := serveTwo(t)
	code := inviteCode(t, acme, acmeToken, "--project", "Company", "--no-url")
	task := seededTasks(t, acmeAsana)[0]

	out, err := run(t, "exalate", task.GID, "--node", acme, "--admin-token", acmeToken, "--idle-timeout", "5s")
	if err != nil {
		t.Fatalf("exalate on a Pending connection: %v\n%s", err, out)
	}
	if !strings.Contains(out, "waiting for the other side to accept the invitation") || strings.Contains(out, "✓ Sending") {
		t.Errorf("exalate does not say what the sync waits for:\n%s", out)
	}
	out, err = run(t, "status", task.GID, "--node", acme, "--admin-token", acmeToken)
	if err != nil || !strings.Contains(out, "waiting for the other side to accept the invitation") {
		t.Errorf("status: %v\n%s", err, out)
	}

	if out, err := run(t, "accept", code, "--project", "Test", "--node", globex, "--admin-token", globexToken); err != nil {
		t.Fatalf("accept: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err = run(t, "status", task.GID, "--node", acme, "--admin-token", acmeToken)
		if err == nil && strings.HasPrefix(out, task.GID+": Synchronized") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sync did not go through after the acceptance: %v\n%s", err, out)
		}
		<-tick.C
	}

	// Deactivated here, a sync is held the same way, and says so.
	if out, err := run(t, "connections", "deactivate", "Acme_to_Globex", "--node", acme, "--admin-token", acmeToken); err != nil {
		t.Fatalf("deactivate: %v\n%s", err, out)
	}
	out, err = run(t, "exalate", task.GID, "--node", acme, "--admin-token", acmeToken, "--idle-timeout", "5s")
	if err != nil || !strings.Contains(out, "the connection is deactivated: waiting for it to be activated") {
		t.Errorf("exalate on a deactivated connection: %v\n%s", err, out)
	}
}

// TestInvitationAgainFromTheCommandLine checks that a Pending connection's
// code can be shown again, as a new code that revokes the old one (trap 2).
func TestInvitationAgainFromTheCommandLine(t *testing.T) {
	_, acme, acmeToken, globex, globexToken := serveTwo(t)
	old := inviteCode(t, acme, acmeToken, "--project", "Company", "--no-url")
	out, err := run(t, "connections", "invitation", "Acme_to_pending", "--node", acme, "--admin-token", acmeToken)
	if err != nil || !strings.Contains(out, "the old code no longer works") {
		t.Fatalf("connections invitation: %v\n%s", err, out)
	}
	var code string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "tdm1.") {
			code = line
		}
	}
	if code == "" || code == old {
		t.Fatalf("no new code:\n%s", out)
	}
	if _, err := run(t, "accept", old, "--project", "Test", "--node", globex, "--admin-token", globexToken); err == nil {
		t.Error("the old code was accepted after a new one was made")
	}
	if out, err := run(t, "accept", code, "--project", "Test", "--node", globex, "--admin-token", globexToken); err != nil {
		t.Errorf("the new code: %v\n%s", err, out)
	}
}

// TestNoSuchTaskInOneLine checks that exalate and status of a task the
// tracker does not have say so in one line, in the tracker's words, rather
// than the client's 404 (trap 8).
func TestNoSuchTaskInOneLine(t *testing.T) {
	_, acme, acmeToken, globex, globexToken := serveTwo(t)
	if out, err := run(t, "connect", "--node", acme, "--admin-token", acmeToken, "--to", globex, "--dest-token", globexToken,
		"--dest-project", "Test", "--project", "Company"); err != nil {
		t.Fatalf("connect: %v\n%s", err, out)
	}
	const gone = "1209999999999999"
	want := "No task " + gone + " in Acme's Asana (it may have been deleted, or is in another workspace)"
	for _, cmd := range []string{"exalate", "status"} {
		_, err := run(t, cmd, gone, "--node", acme, "--admin-token", acmeToken)
		if err == nil || err.Error() != want {
			t.Errorf("%s of a task that does not exist: err = %v, want %q", cmd, err, want)
		}
	}
}
