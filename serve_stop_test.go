package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
)

// TestServeStopsPromptlyOnSIGTERM runs `tandem serve` as a process, holds
// what used to keep it from stopping (a console's event stream, a
// connection that sent nothing yet, a kept-alive idle one), sends SIGTERM
// and expects the process to exit with status 0 within two seconds,
// without an error line.
func TestServeStopsPromptlyOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	n := newProcNode(t, "Acme", dir, startSandbox(t, "Acme"), "Acme-pat")
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	if err := n.waitHealthy(t.Context(), 30*time.Second); err != nil {
		t.Fatal(err)
	}

	// The console's event stream: open until the node ends it.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, n.url+"/api/v1/admin/events", nil)
	req.Header.Set("Authorization", "Bearer "+n.adminToken)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if line, err := bufio.NewReader(stream.Body).ReadString('\n'); err != nil || !strings.HasPrefix(line, ":") {
		t.Fatalf("the event stream began with %q, %v", line, err)
	}
	// A connection that never sends a request, and one kept alive after a
	// request.
	fresh, err := net.Dial("tcp", strings.TrimPrefix(n.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	idle := &http.Client{Transport: &http.Transport{}}
	defer idle.CloseIdleConnections()
	if resp, err := idle.Get(n.url + "/healthz"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	took := terminate(t, n, 2*time.Second)
	t.Logf("serve stopped %v after SIGTERM", took.Round(time.Millisecond))
}

// TestServeStopsPromptlyWithASyncInFlight: SIGTERM while a sync's job
// waits on the tracker (a create that the sandbox holds until the caller
// gives up). The job is cancelled, to run again at the next start, and
// the node still exits within two seconds.
func TestServeStopsPromptlyWithASyncInFlight(t *testing.T) {
	sb, err := sandbox.New(sandbox.WithWorkspace("Acme"), sandbox.WithToken("Acme-pat"))
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{}, 1)
	var hold atomic.Bool
	hold.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold.Load() && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/tasks") {
			select {
			case held <- struct{}{}:
			default:
			}
			// A tracker that never answers, until the caller gives up
			// (its context ends once the body is read and the connection
			// drops) or the test ends.
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-t.Context().Done():
			}
			return
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	asanaURL := srv.URL + "/api/1.0"

	n := newProcNode(t, "Acme", t.TempDir(), asanaURL, "Acme-pat")
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	if err := n.waitHealthy(t.Context(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "connect", "--node", n.url, "--admin-token", n.adminToken, "--to", n.url,
		"--project", "Company", "--dest-project", "Test"); err != nil {
		t.Fatalf("connect: %v\n%s", err, out)
	}
	client, err := asana.New(asana.Config{BaseURL: asanaURL, Token: "Acme-pat", RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	ws, _ := client.Workspaces(t.Context())
	ps, _ := client.Projects(t.Context(), ws[0].GID)
	tasks, err := client.ProjectTasks(t.Context(), ps[0].GID, asana.TaskQuery{})
	if err != nil || len(tasks) == 0 {
		t.Fatalf("seeded tasks: %v %v", tasks, err)
	}
	body := strings.NewReader(`{"ref":"` + tasks[0].GID + `"}`)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, n.url+"/api/v1/admin/exalate", body)
	req.Header.Set("Authorization", "Bearer "+n.adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("exalate: %s", resp.Status)
	}
	select {
	case <-held: // the apply job is now waiting on the tracker
	case <-time.After(30 * time.Second):
		t.Fatal("the sync never reached the tracker's create")
	}
	took := terminate(t, n, 2*time.Second)
	t.Logf("serve stopped %v after SIGTERM, with a job waiting on the tracker", took.Round(time.Millisecond))

	var test string
	for _, p := range ps {
		if p.Name == "Test" {
			test = p.GID
		}
	}
	twins := func() int {
		in, err := client.ProjectTasks(t.Context(), test, asana.TaskQuery{})
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, task := range in {
			if task.Name == tasks[0].Name {
				found++
			}
		}
		return found
	}
	if got := twins(); got != 0 {
		t.Fatalf("before the restart, %d tasks named %q in Test, want none: the held create made none", got, tasks[0].Name)
	}
	// The cancelled job runs again at the next start: the task gets its
	// one twin in Test once the tracker answers.
	hold.Store(false)
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	if err := n.waitHealthy(t.Context(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for twins() == 0 && time.Now().Before(deadline) {
		<-poll.C
	}
	if got := twins(); got != 1 {
		t.Errorf("after the restart, %d twins of %q in Test, want 1", got, tasks[0].Name)
	}
	terminate(t, n, 2*time.Second)
}

// terminate sends the node SIGTERM and expects it to exit with status 0,
// printing no error, within limit; it returns how long it took.
func terminate(t *testing.T, n *procNode, limit time.Duration) time.Duration {
	t.Helper()
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.killing = true
	n.mu.Unlock()
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(limit):
		n.quit() // its goroutines go to the output, for the report below
		out, _ := os.ReadFile(n.out.Name())
		t.Fatalf("serve still running %v after SIGTERM:\n%s", limit, out)
	}
	took := time.Since(start)
	out, _ := os.ReadFile(n.out.Name())
	if !cmd.ProcessState.Success() || strings.Contains(string(out), "tandem:") {
		t.Errorf("serve ended with %v after SIGTERM; its output:\n%s", cmd.ProcessState, out)
	}
	return took
}
