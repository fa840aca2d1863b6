package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store"
	"github.com/tandem-sync/tandem/tui/termtext"
	"github.com/tandem-sync/tandem/tui/termtext/termtexttest"
)

// Issue 12: text from outside must reach the operator's terminal cleaned
// (see termtexttest.Hostile for what it tried).
const (
	hostile      = termtexttest.Hostile
	hostileShown = termtexttest.HostileShown
)

func requireSafe(t *testing.T, where, out string) {
	t.Helper()
	termtexttest.RequireSafe(t, where, out)
}

// serveStoppable runs `tandem serve` in process until stop (or the test's
// end) and returns the URL it printed.
func serveStoppable(t *testing.T, args ...string) (url string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	out := &lockedBuffer{}
	root := newRootCmd(io.MultiWriter(pw, out))
	root.SetArgs(append([]string{"serve"}, args...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve %v stopped with %v", args, err)
		}
	}
	t.Cleanup(stop)
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if u, ok := strings.CutPrefix(line, "tandem node "); ok {
			url = u[strings.LastIndex(u, " ")+1:]
		}
		if strings.HasPrefix(line, "Stop with") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		t.Fatalf("serve %v printed no URL:\n%s", args, out.String())
	}
	return url, stop
}

// mainStderr runs tandem's main as its own process (the test binary, see
// TestMain) and returns what it printed on stderr, which must be its one
// error line.
func mainStderr(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("tandem %v: %v, want exit code 1; stderr:\n%s", args, err, stderr.String())
	}
	if strings.Count(stderr.String(), "\n") != 1 || !strings.HasPrefix(stderr.String(), "tandem: ") {
		t.Fatalf("tandem %v: want one error line, got %q", args, stderr.String())
	}
	return stderr.String()
}

var sideB = regexp.MustCompile(`Side B: (\d+) `)

// TestHostileTextFromTheCommandLine: a malicious inviting node whose
// instance name is hostile, and a task whose name is hostile, through the
// real nodes and sandboxes. Every command's output and main's error line
// show the hostile text cleaned, never raw; --json keeps it exact and
// escaped.
func TestHostileTextFromTheCommandLine(t *testing.T) {
	acmeAsana, globexAsana := startSandbox(t, "Acme"), startSandbox(t, "Globex")
	dir, addr := t.TempDir(), freeLoopbackAddr(t)
	const acmeToken = "tdm_admin_hostile_acme_0123456789"
	asanaFlags := []string{"--asana-url", acmeAsana, "--asana-token", "Acme-pat"}

	// A node refuses the hostile name for itself (item 3), in one line.
	line := mainStderr(t, append([]string{"serve", "--listen", addr, "--name", hostile, "--data", dir}, asanaFlags...)...)
	requireSafe(t, "serve --name", line)
	if !strings.Contains(line, "control character (U+001B)") || !strings.Contains(line, "--name") {
		t.Errorf("serve --name <hostile>: %q", line)
	}

	// So the malicious inviter is a node whose stored name was changed
	// behind its back, as a modified node would: first start as Acme,
	// stop, rename in its SQLite file, start again.
	_, stop := serveStoppable(t, append([]string{"--listen", addr, "--name", "Acme", "--data", dir, "--admin-token", acmeToken}, asanaFlags...)...)
	stop()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "tandem.db"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := st.Instance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inst.Name = hostile
	if err := st.UpdateInstance(ctx, inst); err != nil {
		t.Fatal(err)
	}
	st.Close()
	// No change detection on either node: the syncs below are the ones the
	// test starts, and the twin deleted on Acme is found by the next sync's
	// apply, not by Acme's detection first.
	acme, _ := serveStoppable(t, append([]string{"--listen", addr, "--data", dir, "--poll", "1h"}, asanaFlags...)...)
	globex, globexToken := startServe(t, "--name", "Globex", "--data", t.TempDir(), "--asana-url", globexAsana, "--asana-token", "Globex-pat", "--poll", "1h")

	out, err := run(t, "invite", "--node", acme, "--admin-token", acmeToken, "--to", globex, "--project", "Company")
	if err != nil {
		t.Fatalf("invite: %v\n%s", err, out)
	}
	requireSafe(t, "invite", out)
	var code string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "tdm1.") {
			code = l
		}
	}

	// tandem accept: the inviter's name, as it reported it.
	out, err = run(t, "accept", code, "--project", "Test", "--node", globex, "--admin-token", globexToken)
	if err != nil {
		t.Fatalf("accept: %v\n%s", err, out)
	}
	requireSafe(t, "accept", out)
	if !strings.Contains(out, "Connection established successfully ✓") || !strings.Contains(out, hostileShown+" (Company)") {
		t.Errorf("accept should name the inviter, cleaned:\n%s", out)
	}

	// tandem connections: the table cleaned; --json exact and escaped.
	out, err = run(t, "connections", "--node", globex, "--admin-token", globexToken)
	requireSafe(t, "connections", out)
	if err != nil || !strings.Contains(out, hostileShown) || !strings.Contains(out, "Active") {
		t.Errorf("connections: %v\n%s", err, out)
	}
	out, err = run(t, "connections", "--json", "--node", globex, "--admin-token", globexToken)
	requireSafe(t, "connections --json", out)
	var cs []engine.Connection
	if err := json.Unmarshal([]byte(out), &cs); err != nil || len(cs) != 1 || cs[0].RemoteName != hostile {
		t.Fatalf("connections --json should keep the name exactly: %v %+v", err, cs)
	}

	// A task named hostile on Globex, exalated to Acme.
	client, err := asana.New(asana.Config{BaseURL: globexAsana, Token: "Globex-pat", RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	ws, _ := client.Workspaces(ctx)
	ps, _ := client.Projects(ctx, ws[0].GID)
	var test string
	for _, p := range ps {
		if p.Name == "Test" {
			test = p.GID
		}
	}
	task, err := client.CreateTask(ctx, asana.NewTask{Project: test, Name: hostile})
	if err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "exalate", task.GID, "--node", globex, "--admin-token", globexToken)
	requireSafe(t, "exalate", out)
	m := sideB.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("exalate: %v\n%s", err, out)
	}

	// Its twin deleted on Acme: the next sync is not applied there, and
	// says so naming Acme, in exalate and in status.
	acmeClient, err := asana.New(asana.Config{BaseURL: acmeAsana, Token: "Acme-pat", RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	if twin, err := acmeClient.Task(ctx, m[1]); err != nil || twin.Name != engine.NormalizeSummary(hostile) {
		t.Fatalf("the twin on Acme: %+v, %v; want the name synced, normalised as both trackers store it", twin, err)
	}
	if err := acmeClient.DeleteTask(ctx, m[1]); err != nil {
		t.Fatal(err)
	}
	// A change to send: an unchanged task would send nothing to apply.
	renamed := hostile + " (renamed)"
	if _, err := client.UpdateTask(ctx, task.GID, asana.TaskUpdate{Name: &renamed}); err != nil {
		t.Fatal(err)
	}
	notApplied := "Not synced: the twin " + m[1] + " was deleted on " + hostileShown + "; nothing was applied"
	out, err = run(t, "exalate", task.GID, "--node", globex, "--admin-token", globexToken)
	requireSafe(t, "exalate again", out)
	if err != nil || !strings.Contains(out, notApplied) {
		t.Errorf("exalate after the twin's deletion: %v\n%s", err, out)
	}
	out, err = run(t, "status", task.GID, "--node", globex, "--admin-token", globexToken)
	requireSafe(t, "status", out)
	if err != nil || !strings.Contains(out, notApplied) {
		t.Errorf("status: %v\n%s", err, out)
	}

	// Once Acme's notice is in, Globex refuses to sync it again, quoting
	// the inviter's name: main's error line.
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err = run(t, "exalate", task.GID, "--wait=false", "--node", globex, "--admin-token", globexToken)
		if err != nil && strings.Contains(err.Error(), "deletes are not propagated") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Globex never learnt of the deletion: %v", err)
		}
		<-tick.C
	}
	line = mainStderr(t, "exalate", task.GID, "--node", globex, "--admin-token", globexToken)
	requireSafe(t, "the error line", line)
	if !strings.Contains(line, "was deleted on "+hostileShown+"; deletes are not propagated") {
		t.Errorf("the error line: %q", line)
	}
	// The hostile node's own errors quote its name.
	line = mainStderr(t, "status", "1999", "--node", acme, "--admin-token", acmeToken)
	requireSafe(t, "the error line from the hostile node", line)
	if !strings.Contains(line, "No task 1999 in "+hostileShown+"'s Asana") {
		t.Errorf("the error line from the hostile node: %q", line)
	}
}

// TestEngineNameCheckIsTermtextClean holds the engine's check of a node's
// own name and the terminal sanitiser to one rule: a name is refused
// exactly when it would not be shown as it is.
func TestEngineNameCheckIsTermtextClean(t *testing.T) {
	var names []string
	for r := rune(0); r < 0x3100; r++ {
		names = append(names, "a"+string(r)+"b")
	}
	names = append(names, hostile, "\xff", "a\xc3", "\xed\xa0\x80", "\U0010FFFF", "\uFFFD", "\uFEFF", "␛")
	for _, name := range names {
		if refused, clean := engine.CheckInstanceName(name) != nil, termtext.Clean(name); refused == clean {
			t.Errorf("%q: refused by the engine %v, clean for the terminal %v", name, refused, clean)
		}
	}
}
