package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/store"
	"github.com/tandem-sync/tandem/store/pgtest"
)

// childEnv, set to 1, makes the test binary run tandem's main instead of
// the tests: the crash harness starts `tandem serve` as a real process this
// way, without a go build, and can SIGKILL it.
const childEnv = "TANDEM_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

// nodeDatabase is the database a node process runs on: "" (the SQLite
// file under its --data) unless TANDEM_TEST_NODES=postgres (pgtest), then
// a fresh PostgreSQL database of its own, dropped when t ends.
func nodeDatabase(t *testing.T) string {
	t.Helper()
	if !pgtest.NodesOnPostgres() {
		return ""
	}
	return pgNodeDatabase(t)
}

// pgNodeDatabase is a fresh, migrated PostgreSQL database on the test
// server, dropped when t ends; without a server it skips t.
func pgNodeDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.Template(t, "node", func(ctx context.Context, url string) error {
		st, err := store.Open(ctx, url)
		if err != nil {
			return err
		}
		return st.Close()
	})
}

// freeLoopbackAddr picks a loopback port that is free now. A node keeps it
// across restarts: its peer stores the URL.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// procNode is one `tandem serve` run as a child process, restarted on the
// same data dir, address and flags after every kill.
type procNode struct {
	name, dir, url, adminToken string
	// direct is where this process itself answers: url, unless url is
	// a load balancer in front of several replicas.
	direct string
	// database is the node's TANDEM_DATABASE: "" for the SQLite file
	// under dir, or a PostgreSQL URL (nodeDatabase).
	database string
	args     []string
	out      *os.File // every run's stdout and stderr, appended

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the current run has exited
	killing bool          // the current run's end is ours
	// unexpected collects runs that ended without being killed or stopped.
	unexpected []string
	kills      int
	starts     int
}

// newProcNode prepares a node; start runs it.
func newProcNode(t *testing.T, name, dir, asanaURL, asanaToken string) *procNode {
	t.Helper()
	addr := freeLoopbackAddr(t)
	return newServeProc(t, name, name, dir, addr, "http://"+addr, nodeDatabase(t), asanaURL, asanaToken)
}

// newServeProc prepares `tandem serve --name name` listening on addr and
// reached by other nodes at url, with its data dir and output named by
// label (a replica's label differs from its node's name), on database
// (TANDEM_DATABASE); extra flags follow the harness's own.
func newServeProc(t *testing.T, label, name, dir, addr, url, database, asanaURL, asanaToken string, extra ...string) *procNode {
	t.Helper()
	n := &procNode{name: label, dir: filepath.Join(dir, label), url: url, direct: "http://" + addr,
		adminToken: "tdm_admin_crash_" + strings.ToLower(name) + "_0123456789", database: database}
	n.args = append([]string{"serve", "--name", name, "--data", n.dir, "--listen", addr, "--url", n.url,
		"--asana-url", asanaURL, "--asana-token", asanaToken, "--admin-token", n.adminToken,
		"--poll", "100ms", "--asana-rate-limit", "100000"}, extra...)
	out, err := os.Create(filepath.Join(dir, label+".out"))
	if err != nil {
		t.Fatal(err)
	}
	n.out = out
	t.Cleanup(func() {
		n.kill()
		out.Close()
	})
	return n
}

// start runs the node once more. It does not wait for it to be ready.
func (n *procNode) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	cmd := exec.Command(os.Args[0], n.args...)
	// The database in the environment, as an admin would give a URL
	// with a password (not in ps); TANDEM_DATABASE= (empty) for SQLite.
	cmd.Env = append(os.Environ(), childEnv+"=1", "TANDEM_DATABASE="+n.database)
	cmd.Stdout, cmd.Stderr = n.out, n.out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", n.name, err)
	}
	n.starts++
	fmt.Fprintf(n.out, "--- harness: run %d started (pid %d)\n", n.starts, cmd.Process.Pid)
	exited := make(chan struct{})
	n.cmd, n.exited, n.killing = cmd, exited, false
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		if !n.killing {
			n.unexpected = append(n.unexpected, fmt.Sprintf("run %d (pid %d) exited on its own: %v", n.starts, cmd.Process.Pid, err))
		}
		n.mu.Unlock()
		close(exited)
	}()
	return nil
}

// databaseSpec is what store.Open takes for the node's database.
func (n *procNode) databaseSpec() string {
	if n.database != "" {
		return n.database
	}
	return filepath.Join(n.dir, "tandem.db")
}

// running reports whether the current run has not exited.
func (n *procNode) running() bool {
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// kill SIGKILLs the current run and waits until it is gone; it reports
// whether there was a run to kill.
func (n *procNode) kill() bool {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	if cmd == nil {
		n.mu.Unlock()
		return false
	}
	n.killing = true
	n.mu.Unlock()
	select {
	case <-exited:
		return false
	default:
	}
	_ = cmd.Process.Kill()
	<-exited
	fmt.Fprintf(n.out, "--- harness: killed pid %d\n", cmd.Process.Pid)
	return true
}

// quit has the current run print its goroutines and exit (SIGQUIT).
func (n *procNode) quit() {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	if cmd == nil {
		n.mu.Unlock()
		return
	}
	n.killing = true
	n.mu.Unlock()
	if cmd.Process.Signal(syscall.SIGQUIT) != nil {
		n.kill()
		return
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		n.kill()
	}
}

// stop asks the current run to shut down (SIGINT) and waits for it, up to
// a deadline after which it is killed; it reports a graceful stop.
func (n *procNode) stop(within time.Duration) bool {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	if cmd == nil {
		n.mu.Unlock()
		return true
	}
	n.killing = true
	n.mu.Unlock()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		n.kill()
		return false
	}
	select {
	case <-exited:
		return cmd.ProcessState.Success()
	case <-time.After(within):
		n.kill()
		return false
	}
}

// waitHealthy polls /healthz until the node answers ok, the run exits or
// the deadline passes.
func (n *procNode) waitHealthy(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.direct+"/healthz", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !n.running() {
			return fmt.Errorf("%s exited before answering /healthz; see %s", n.name, n.out.Name())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer /healthz within %v; see %s", n.name, within, n.out.Name())
		case <-tick.C:
		}
	}
}

// unexpectedExits lists the runs that ended without the harness asking.
func (n *procNode) unexpectedExits() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.unexpected...)
}

// logLines counts the lines of the node's log (every run's) that contain
// s, and returns the first few for a report.
func (n *procNode) logLines(s string) (int, []string) {
	data, _ := os.ReadFile(filepath.Join(n.dir, logFileName))
	count := 0
	var first []string
	for line := range bytes.Lines(data) {
		if bytes.Contains(line, []byte(s)) {
			count++
			if len(first) < 5 {
				first = append(first, strings.TrimSpace(string(line)))
			}
		}
	}
	return count, first
}

// trouble returns the start of a Go panic, or of a data race report when
// the test binary (and so the node) is built with -race, in the node's
// output.
func (n *procNode) trouble() string {
	data, _ := os.ReadFile(n.out.Name())
	for _, mark := range []string{"panic:", "WARNING: DATA RACE"} {
		if i := bytes.Index(data, []byte(mark)); i >= 0 {
			return string(data[i:min(len(data), i+3000)])
		}
	}
	return ""
}
