package main

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
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
	case <-time.After(2 * time.Second):
		n.quit() // its goroutines go to the output, for the report below
		out, _ := os.ReadFile(n.out.Name())
		t.Fatalf("serve still running 2 s after SIGTERM:\n%s", out)
	}
	took := time.Since(start)
	out, _ := os.ReadFile(n.out.Name())
	if !cmd.ProcessState.Success() || strings.Contains(string(out), "tandem:") {
		t.Errorf("serve ended with %v after SIGTERM; its output:\n%s", cmd.ProcessState, out)
	}
	t.Logf("serve stopped %v after SIGTERM", took.Round(time.Millisecond))
}
