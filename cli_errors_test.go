package main

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// startSandboxHandle is startSandbox with the sandbox itself, to turn its
// knobs during the test.
func startSandboxHandle(t *testing.T, workspace string) (*sandbox.Sandbox, string) {
	t.Helper()
	sb, err := sandbox.New(sandbox.WithWorkspace(workspace), sandbox.WithToken(workspace+"-pat"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, srv.URL + "/api/1.0"
}

// runUntil runs a command line until its output contains every one of
// want, and returns that output; it fails the test at a deadline.
func runUntil(t *testing.T, args []string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := run(t, args...)
		ok := err == nil
		for _, w := range want {
			ok = ok && strings.Contains(out, w)
		}
		if ok {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never printed %q; last: %v\n%s", args[0], want, err, out)
		}
		<-tick.C
	}
}

// syncIDIn is the sync id exalate --wait=false printed.
func syncIDIn(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`\(sync ([0-9a-f-]{36})\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no sync id in:\n%s", out)
	}
	return m[1]
}

// TestErrorsRetryResolveQueueFromTheCommandLine: Globex's tracker refuses
// writes; the operator finds the failing sync with tandem errors (a line,
// then in full), sees it in Acme's queue and connections table, retries
// it once the tracker takes writes again, and resolves another with a
// reason that both nodes' history shows.
func TestErrorsRetryResolveQueueFromTheCommandLine(t *testing.T) {
	acmeAsana := startSandbox(t, "Acme")
	globexSB, globexAsana := startSandboxHandle(t, "Globex")
	acme, acmeToken := startServe(t, "--name", "Acme", "--data", t.TempDir(), "--asana-url", acmeAsana, "--asana-token", "Acme-pat", "--poll", "100ms")
	globex, globexToken := startServe(t, "--name", "Globex", "--data", t.TempDir(), "--asana-url", globexAsana, "--asana-token", "Globex-pat", "--poll", "100ms")
	if out, err := run(t, "connect", "--node", acme, "--admin-token", acmeToken, "--to", globex, "--dest-token", globexToken,
		"--dest-project", "Test", "--project", "Company"); err != nil {
		t.Fatalf("connect: %v\n%s", err, out)
	}
	onAcme := []string{"--node", acme, "--admin-token", acmeToken}
	onGlobex := []string{"--node", globex, "--admin-token", globexToken}
	cmd := func(on []string, args ...string) []string { return append(args, on...) }
	tasks := seededTasks(t, acmeAsana)

	globexSB.SetRefuseWrites(true)
	out, err := run(t, cmd(onAcme, "exalate", tasks[0].GID, "--wait=false")...)
	if err != nil {
		t.Fatalf("exalate: %v\n%s", err, out)
	}
	first := syncIDIn(t, out)
	out = runUntil(t, cmd(onGlobex, "errors"), first[:8], "Waiting for remote", "403 Forbidden")
	if !strings.Contains(out, tasks[0].GID+" "+tasks[0].Name[:10]) || !strings.Contains(out, "tandem retry SYNC") {
		t.Errorf("errors on Globex:\n%s", out)
	}
	out, err = run(t, cmd(onGlobex, "errors", first[:8])...)
	if err != nil || !strings.Contains(out, "Sync:        "+first) || !strings.Contains(out, "may read the workspace but not write to it") {
		t.Errorf("errors %s: %v\n%s", first[:8], err, out)
	}
	out, _ = run(t, cmd(onGlobex, "errors", "--json")...)
	var errs adminapi.SyncErrors
	if err := json.Unmarshal([]byte(out), &errs); err != nil || errs.Total != 1 || errs.Errors[0].EventID != first || errs.Errors[0].Attempts < 1 {
		t.Errorf("errors --json: %v\n%s", err, out)
	}
	out, err = run(t, cmd(onAcme, "queue")...)
	if err != nil || !strings.Contains(out, first[:8]) || !strings.Contains(out, "In flight") || !strings.Contains(out, "Waiting for remote") {
		t.Errorf("queue on Acme: %v\n%s", err, out)
	}
	out, _ = run(t, cmd(onAcme, "queue", "--json")...)
	var q adminapi.SyncQueue
	if err := json.Unmarshal([]byte(out), &q); err != nil || q.Total != 1 || q.Entries[0].EventID != first {
		t.Errorf("queue --json: %v\n%s", err, out)
	}
	if out, err := run(t, cmd(onAcme, "connections")...); err != nil || !regexp.MustCompile(`QUEUED[\s\S]*Active\s+1\s`).MatchString(out) {
		t.Errorf("connections on Acme shows no queued sync:\n%s", out)
	}

	// Bad input: one line saying what to do, nothing changed.
	for _, args := range [][]string{
		cmd(onGlobex, "retry"),
		cmd(onGlobex, "retry", first, "--all"),
		cmd(onGlobex, "resolve", first),
		cmd(onGlobex, "resolve", first, "--reason", "  "),
		cmd(onGlobex, "resolve", "abc", "--reason", "too short an id"),
		cmd(onGlobex, "retry", "ffffffff"),
		cmd(onGlobex, "errors", "--connection", "nope"),
		cmd(onGlobex, "queue", "--connection", "nope"),
		cmd(onGlobex, "errors", "ffffffff"),
	} {
		if _, err := run(t, args...); err == nil || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "internal error") {
			t.Errorf("%v: err = %v, want one line that says what was wrong", args[:len(args)-4], err)
		}
	}
	if out, _ := run(t, cmd(onGlobex, "errors", "--json")...); !strings.Contains(out, `"total": 1`) {
		t.Errorf("bad input changed the errors:\n%s", out)
	}

	globexSB.SetRefuseWrites(false)
	if out, err := run(t, cmd(onGlobex, "retry", first[:8])...); err != nil || !strings.Contains(out, "Retrying sync "+first) {
		t.Fatalf("retry: %v\n%s", err, out)
	}
	runUntil(t, cmd(onAcme, "status", tasks[0].GID), tasks[0].GID+": Synchronized")
	runUntil(t, cmd(onAcme, "queue"), "Nothing queued")

	globexSB.SetRefuseWrites(true)
	out, err = run(t, cmd(onAcme, "exalate", tasks[1].GID, "--wait=false")...)
	if err != nil {
		t.Fatalf("exalate: %v\n%s", err, out)
	}
	second := syncIDIn(t, out)
	runUntil(t, cmd(onGlobex, "errors"), second[:8])
	const reason = "Globex's project is frozen for the audit"
	out, err = run(t, cmd(onGlobex, "resolve", second[:8], "--reason", reason)...)
	if err != nil || !strings.Contains(out, "Resolved sync "+second) || !strings.Contains(out, reason) {
		t.Fatalf("resolve: %v\n%s", err, out)
	}
	if out, _ := run(t, cmd(onGlobex, "errors")...); !strings.Contains(out, "No failing syncs.") {
		t.Errorf("errors after resolving:\n%s", out)
	}
	// Acme hears of it: its status and the item's history say so.
	runUntil(t, cmd(onAcme, "status", tasks[1].GID), "Resolved at ", "not retried: resolved on Globex: "+reason)
	if out, err := run(t, cmd(onGlobex, "retry", "--all")...); err != nil || !strings.Contains(out, "No failing sync to retry") {
		t.Errorf("retry --all with nothing failing: %v\n%s", err, out)
	}
}
