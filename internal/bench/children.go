package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Subprocess, set in a Config, runs the sandboxes as `tandem sandbox asana`
// and the nodes as `tandem serve` child processes, and drives them only
// through their public interfaces: the admin API and the sandboxes' HTTP.
type Subprocess struct {
	// Binary is the tandem executable the children run (usually the
	// running one, from os.Executable).
	Binary string
	// Env is added to the environment the children inherit.
	Env []string
}

// readyWithin is how long a child may take to print that it serves.
const readyWithin = 30 * time.Second

// stopWithin is how long a child gets to stop after SIGTERM before it is
// killed.
const stopWithin = 5 * time.Second

// child is one running child process. Its stdout is read for the line
// that says it is ready and then discarded (it carries tokens); its
// stderr goes to a log file.
type child struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	log     *os.File
	cancel  context.CancelFunc
	ready   chan struct{}
	exited  chan struct{}
	err     error // cmd.Wait's, once exited is closed
}

// startChild runs the tandem binary with args, adding env to its
// environment. watch sees each stdout line until it returns true, which
// makes the child ready. ctx ending stops the child (SIGTERM, then
// SIGKILL after stopWithin).
func startChild(ctx context.Context, sp *Subprocess, name, logDir string, env []string, watch func(string) bool,
	args ...string) (*child, error) {
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the log dir %s: %w", logDir, err)
	}
	logPath := filepath.Join(logDir, name+".stderr.log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s's log: %w", name, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(cctx, sp.Binary, args...)
	cmd.Env = append(append(os.Environ(), sp.Env...), env...)
	cmd.Stderr = log
	c := &child{name: name, cmd: cmd, logPath: logPath, log: log, cancel: cancel,
		ready: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stdout = &lineWatcher{watch: watch, ready: c.ready}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopWithin
	if err := cmd.Start(); err != nil {
		cancel()
		log.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, sp.Binary, err)
	}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// waitReady waits for the child's ready line; on failure it stops the
// child.
func (c *child) waitReady(ctx context.Context) error {
	deadline := time.NewTimer(readyWithin)
	defer deadline.Stop()
	select {
	case <-c.ready:
		return nil
	case <-c.exited:
		c.stop()
		return c.failed(fmt.Errorf("%s exited before it was ready: %v", c.name, c.err))
	case <-deadline.C:
		c.stop()
		return c.failed(fmt.Errorf("%s did not say it was serving within %v", c.name, readyWithin))
	case <-ctx.Done():
		c.stop()
		return ctx.Err()
	}
}

// failed adds where the child's log is to err.
func (c *child) failed(err error) error {
	return fmt.Errorf("%w (stderr of %s: %s)", err, c.name, c.logPath)
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// alive reports an error if the child has exited.
func (c *child) alive() error {
	select {
	case <-c.exited:
		c.stop()
		return c.failed(fmt.Errorf("%s (pid %d) exited: %v", c.name, c.pid(), c.err))
	default:
		return nil
	}
}

// stop ends the child (SIGTERM, then SIGKILL) and waits until it is gone.
func (c *child) stop() {
	c.cancel()
	<-c.exited
	c.log.Close()
}

// lineWatcher is a child's stdout: it hands lines to watch until watch
// says the child is ready, then discards everything.
type lineWatcher struct {
	mu    sync.Mutex
	buf   []byte
	watch func(string) bool
	ready chan struct{}
	done  bool
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		if w.watch(line) {
			w.done, w.buf = true, nil
			close(w.ready)
			break
		}
	}
	return len(p), nil
}

// secret is a random token of prefix and 32 hex digits.
func secret(prefix string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a token: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procCPU is the user and system CPU time process pid has used, from
// /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of pid %d: %w", pid, err)
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing parenthesis, where field 3 (state) starts.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("pid %d: unreadable /proc stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("pid %d: short /proc stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("pid %d: /proc stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// procMemMB reads key (VmHWM: the peak resident set; VmRSS: now) of
// process pid from /proc/<pid>/status, in MB.
func procMemMB(pid int, key string) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("reading the memory of pid %d: %w", pid, err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("pid %d: %s %q: %w", pid, key, v, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("pid %d: no %s in /proc status", pid, key)
}
