package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
)

// run executes one tandem command line in process and returns its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRootCmd(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// startServe runs `tandem serve` with args until the test ends and returns
// the node's URL and the admin token it printed.
func startServe(t *testing.T, args ...string) (url, token string) {
	t.Helper()
	url, token, _ = serveRecorded(t, args...)
	return url, token
}

func startSandbox(t *testing.T, workspace string) string {
	t.Helper()
	sb, err := sandbox.New(sandbox.WithWorkspace(workspace), sandbox.WithToken(workspace+"-pat"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return srv.URL + "/api/1.0"
}

// TestConnectionByInvitationFromTheCommandLine is the admin's shell session:
// two nodes, an invitation issued on one and accepted on the other.
func TestConnectionByInvitationFromTheCommandLine(t *testing.T) {
	_, acme, acmeToken, globex, globexToken := serveTwo(t)

	out, err := run(t, "invite", "--node", acme, "--admin-token", acmeToken, "--to", globex, "--project", "Company", "--mode", "basic")
	if err != nil {
		t.Fatal(err)
	}
	var code string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "tdm1.") {
			code = line
		}
	}
	if code == "" || !strings.Contains(out, "Pending") {
		t.Fatalf("invite printed no code or status:\n%s", out)
	}

	// Pasted from a terminal that wrapped it: two arguments.
	out, err = run(t, "accept", code[:30], code[30:], "--project", "Test", "--node", globex, "--admin-token", globexToken)
	if err != nil || !strings.Contains(out, "Connection established successfully ✓") {
		t.Fatalf("accept: %v\n%s", err, out)
	}
	if _, err := run(t, "accept", code, "--project", "Test", "--node", globex, "--admin-token", globexToken); err == nil ||
		!strings.Contains(err.Error(), "already used") {
		t.Errorf("a second accept: err = %v, want the code refused as used", err)
	}

	out, err = run(t, "connections", "--json", "--node", acme, "--admin-token", acmeToken)
	if err != nil {
		t.Fatal(err)
	}
	var cs []engine.Connection
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		t.Fatalf("connections --json: %v\n%s", err, out)
	}
	if len(cs) != 1 || cs[0].Status != engine.StatusActive || cs[0].RemoteName != "Globex" || cs[0].RemoteProjectName != "Test" || cs[0].Mode != engine.ModeBasic {
		t.Errorf("connections on Acme: %+v", cs)
	}

	out, err = run(t, "connections", "deactivate", cs[0].ID, "--node", acme, "--admin-token", acmeToken)
	if err != nil || !strings.Contains(out, "Deactivated") {
		t.Errorf("deactivate: %v %s", err, out)
	}
	out, err = run(t, "connections", "--node", acme, "--admin-token", acmeToken)
	if err != nil || !strings.Contains(out, "Deactivated") || !strings.Contains(out, "Company ↔ Test") || !strings.Contains(out, "Basic") {
		t.Errorf("the table after deactivating:\n%s %v", out, err)
	}

	// Bad input: one clear line, nothing changed.
	for _, args := range [][]string{
		{"connections", "--node", acme, "--admin-token", "wrong"},
		{"invite", "--node", acme, "--admin-token", acmeToken, "--project", "Company"},
		{"invite", "--node", acme, "--admin-token", acmeToken, "--no-url", "--project", "Nope"},
		{"connections", "--node", "http://127.0.0.1:1", "--admin-token", acmeToken},
		{"accept", "tdm1.garbage", "--project", "Test", "--node", globex, "--admin-token", globexToken},
		{"connect", "--node", acme, "--admin-token", acmeToken, "--to", globex, "--dest-token", "wrong", "--dest-project", "Test", "--project", "Company"},
		{"connect", "--node", acme, "--admin-token", acmeToken, "--to", "not a url", "--project", "Company"},
		{"serve", "--listen", "0.0.0.0:0", "--name", "X", "--asana-token", "t", "--data", t.TempDir()},
	} {
		if _, err := run(t, args...); err == nil || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "internal error") {
			t.Errorf("%v: err = %v, want one line that says what was wrong", args, err)
		}
	}
	out, _ = run(t, "connections", "--json", "--node", acme, "--admin-token", acmeToken)
	if err := json.Unmarshal([]byte(out), &cs); err != nil || len(cs) != 1 {
		t.Errorf("bad input changed the connections: %s", out)
	}
}

// TestExalateFromTheCommandLine: connect with admin access, then sync a
// seeded task and watch its five stages and both links.
func TestExalateFromTheCommandLine(t *testing.T) {
	acmeAsana, acme, acmeToken, globex, globexToken := serveTwo(t, "--poll", "100ms")
	if out, err := run(t, "connect", "--node", acme, "--admin-token", acmeToken, "--to", globex, "--dest-token", globexToken,
		"--dest-project", "Test", "--project", "Company"); err != nil {
		t.Fatalf("connect: %v\n%s", err, out)
	}
	tasks := seededTasks(t, acmeAsana)

	out, err := run(t, "exalate", tasks[0].PermalinkURL, "--node", acme, "--admin-token", acmeToken)
	if err != nil {
		t.Fatalf("exalate: %v\n%s", err, out)
	}
	last := -1
	for _, stage := range engine.Stages() {
		i := strings.Index(out, "✓ "+engine.StageName(stage))
		if i < last {
			t.Errorf("stage %s missing or out of order in:\n%s", engine.StageName(stage), out)
		}
		last = i
	}
	if !strings.Contains(out, "Side A: "+tasks[0].GID) || !strings.Contains(out, "Side B: ") || strings.Count(out, "http://") < 2 {
		t.Errorf("exalate did not end with both links:\n%s", out)
	}
	out, err = run(t, "status", tasks[0].GID, "--node", acme, "--admin-token", acmeToken)
	if err != nil || !strings.Contains(out, "Synchronized") {
		t.Errorf("status: %v\n%s", err, out)
	}
	// The other side knows the same item by Acme's id too; it marks its
	// part Synchronized once its report is through, just after Acme.
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err = run(t, "status", tasks[0].GID, "--node", globex, "--admin-token", globexToken)
		if err == nil && strings.HasPrefix(out, tasks[0].GID+": Synchronized") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status on Globex: %v\n%s", err, out)
		}
		<-tick.C
	}
	out, _ = run(t, "connections", "--json", "--node", acme, "--admin-token", acmeToken)
	var cs []engine.Connection
	if err := json.Unmarshal([]byte(out), &cs); err != nil || len(cs) != 1 {
		t.Fatalf("connections: %v %s", err, out)
	}
	out, err = run(t, "connections", "trigger", cs[0].ID, "on", "--node", acme, "--admin-token", acmeToken)
	if err != nil || !strings.Contains(out, "on: new tasks of Company sync automatically") {
		t.Errorf("trigger on: %v %s", err, out)
	}
	if _, err := run(t, "connections", "trigger", cs[0].ID, "maybe", "--node", acme, "--admin-token", acmeToken); err == nil {
		t.Error("trigger maybe was accepted")
	}
	if _, err := run(t, "exalate", "not-a-task", "--node", acme, "--admin-token", acmeToken); err == nil ||
		strings.Contains(err.Error(), "internal error") {
		t.Errorf("a bad ref: err = %v, want a clear refusal", err)
	}
}

// serveTwo starts Acme and Globex with `tandem serve`, each on an Asana
// sandbox of its own, with the extra flags given to both; it returns
// Acme's sandbox URL and each node's URL and admin token.
func serveTwo(t *testing.T, extra ...string) (acmeAsana, acme, acmeToken, globex, globexToken string) {
	t.Helper()
	acmeAsana, globexAsana := startSandbox(t, "Acme"), startSandbox(t, "Globex")
	acme, acmeToken = startServe(t, append([]string{"--name", "Acme", "--data", t.TempDir(), "--asana-url", acmeAsana, "--asana-token", "Acme-pat"}, extra...)...)
	globex, globexToken = startServe(t, append([]string{"--name", "Globex", "--data", t.TempDir(), "--asana-url", globexAsana, "--asana-token", "Globex-pat"}, extra...)...)
	return acmeAsana, acme, acmeToken, globex, globexToken
}

// seededTasks lists the tasks of the first project of the Asana sandbox
// at url (Acme's Company), failing the test when there are none.
func seededTasks(t *testing.T, url string) []asana.Task {
	t.Helper()
	client, err := asana.New(asana.Config{BaseURL: url, Token: "Acme-pat", RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ws, _ := client.Workspaces(ctx)
	ps, _ := client.Projects(ctx, ws[0].GID)
	tasks, err := client.ProjectTasks(ctx, ps[0].GID, asana.TaskQuery{})
	if err != nil || len(tasks) == 0 {
		t.Fatalf("seeded tasks: %v %v", tasks, err)
	}
	return tasks
}
