package demo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
)

// TestKeptDemoResumes runs a kept demo, writes its demo.env, makes a
// connection and a task, stops, and starts again on the same dir: the
// demo resumes on the same addresses with the task, the connection and
// the tokens it had, instead of refusing or starting over.
func TestKeptDemoResumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	tune := func(s *Spec) { s.Poll = -1 }
	if err := CheckDir(dir); err != nil {
		t.Fatalf("an empty dir is refused: %v", err)
	}
	nodes, resumed, err := Kept(ctx, dir, tune)
	if err != nil {
		t.Fatal(err)
	}
	if resumed {
		t.Error("a fresh dir was taken for an earlier demo")
	}
	acme, globex := nodes[0], nodes[1]
	envPath := checkEnv(t, dir, nodes)

	if about := About(nodes, dir, envPath, true); !strings.Contains(about, envPath) || !strings.Contains(about, acme.SandboxURL) {
		t.Errorf("the about panel lacks demo.env or the sandbox URL:\n%s", about)
	} else {
		for _, n := range nodes {
			for _, c := range n.Credentials {
				if c[0] == "TOKEN" && strings.Contains(about, c[1]) {
					t.Errorf("the about panel shows %s's token:\n%s", n.Name, about)
				}
			}
		}
	}

	company, kan := projectID(t, ctx, acme, "Company"), projectID(t, ctx, globex, "KAN")
	conn, err := acme.Connect(ctx, engine.ConnectRequest{To: globex.URL, DestToken: globex.AdminToken, DestProject: kan, Project: company})
	if err != nil {
		t.Fatal(err)
	}
	task, err := acme.Client.CreateTask(ctx, asana.NewTask{Project: company, Name: "Made in the first run"})
	if err != nil {
		t.Fatal(err)
	}
	twin := syncOne(t, ctx, acme, conn.ID, task.GID)
	first := map[string]string{}
	for _, n := range nodes {
		first[n.Name] = n.URL + " " + n.SandboxURL + " " + n.AdminToken
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}

	if err := CheckDir(dir); err != nil {
		t.Fatalf("the earlier demo's dir is refused: %v", err)
	}
	nodes, resumed, err = Kept(ctx, dir, tune)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	if !resumed {
		t.Error("the earlier demo was not resumed")
	}
	acme, globex = nodes[0], nodes[1]
	for _, n := range nodes {
		if got := n.URL + " " + n.SandboxURL + " " + n.AdminToken; got != first[n.Name] {
			t.Errorf("%s resumed as %q, want %q (same addresses and admin token)", n.Name, got, first[n.Name])
		}
	}
	if got, err := acme.Client.Task(ctx, task.GID); err != nil || got.Name != "Made in the first run" {
		t.Errorf("the task made in the first run: %+v %v", got, err)
	}
	for _, n := range []*Node{acme, globex} {
		cs, err := n.Connections(ctx)
		if err != nil || len(cs) != 1 || cs[0].Status != conn.Status || cs[0].Name != conn.Name {
			t.Errorf("%s's connections after resuming: %+v %v, want %s (%s)", n.Name, cs, err, conn.Name, conn.Status)
		}
	}
	if is, err := globex.JiraClient.Issue(ctx, twin); err != nil || is.Fields.Summary != "Made in the first run" {
		t.Errorf("the twin %s made in the first run: %+v %v", twin, is, err)
	}
	// The nodes still reach each other: a task made now syncs.
	later, err := acme.Client.CreateTask(ctx, asana.NewTask{Project: company, Name: "Made after resuming"})
	if err != nil {
		t.Fatal(err)
	}
	syncOne(t, ctx, acme, conn.ID, later.GID)
	checkEnv(t, dir, nodes)

	// A dir that is neither empty nor an earlier demo's is refused.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(other); err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("CheckDir of a dir with other files: %v", err)
	}
}

// checkEnv writes demo.env and checks it: mode 0600, every node's tracker,
// sandbox URL and credentials, and a curl line that, run by a shell after
// loading the file, lists the node's project.
func checkEnv(t *testing.T, dir string, nodes []*Node) string {
	t.Helper()
	path, err := WriteEnv(dir, nodes)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("demo.env: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	env := string(b)
	for _, n := range nodes {
		p := EnvPrefix(n.Name)
		want := []string{p + "_TRACKER=" + n.Tracker + "\n", p + "_SANDBOX_URL=" + n.SandboxURL + "\n", p + "_NODE_URL=" + n.URL + "\n"}
		for _, c := range n.Credentials {
			want = append(want, p+"_"+c[0]+"="+shellQuote(c[1])+"\n")
		}
		for _, w := range want {
			if !strings.Contains(env, w) {
				t.Errorf("demo.env lacks %q:\n%s", w, env)
			}
		}
		line := n.listLine()
		if line == "" || !strings.Contains(env, line) {
			t.Errorf("demo.env has no curl line for %s's %s:\n%s", n.Name, n.Project, env)
			continue
		}
		if _, err := exec.LookPath("curl"); err != nil {
			t.Logf("no curl here: the line is not run")
			continue
		}
		out, err := exec.Command("sh", "-c", ". "+shellQuote(path)+" && "+line+" --fail --silent --show-error").CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"name"`) && !strings.Contains(string(out), `"summary"`) {
			t.Errorf("%s's curl line: %v\n%s", n.Name, err, out)
		}
	}
	return path
}

// syncOne exalates ref on the connection, waits until it is synchronized
// and returns the twin's key.
func syncOne(t *testing.T, ctx context.Context, n *Node, connID, ref string) string {
	t.Helper()
	ev, err := n.Exalate(ctx, connID, ref)
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := n.EventStatus(ctx, connID, ev.EventID)
		if err == nil && st.Stage == engine.StageSynchronized {
			return st.RemoteKey
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never synchronized: %+v %v", ref, st, err)
		case <-tick.C:
		}
	}
}

func projectID(t *testing.T, ctx context.Context, n *Node, name string) string {
	t.Helper()
	ps, err := n.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name || p.ID == name {
			return p.ID
		}
	}
	t.Fatalf("%s has no project %s in %v", n.Name, name, ps)
	return ""
}
