package bench

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSubprocessFailureNamesTheLog checks a child that dies at start
// fails the run with the path of its stderr log, and the log is kept.
func TestBenchSubprocessFailureNamesTheLog(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to play a failing tandem")
	}
	script := t.TempDir() + "/tandem"
	if err := os.WriteFile(script, []byte("#!"+sh+"\necho 'no such command' >&2\nexit 3\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := Quick()
	cfg.Sections = []int{3}
	cfg.Subprocess = &Subprocess{Binary: script}
	_, err = Run(context.Background(), cfg)
	if err == nil {
		t.Fatal("Run succeeded with children that exit at once")
	}
	msg := err.Error()
	i := strings.Index(msg, "stderr of Acme-sandbox: ")
	if i < 0 {
		t.Fatalf("the error names no log: %v", err)
	}
	path := strings.TrimSpace(msg[i+len("stderr of Acme-sandbox: "):])
	path = path[:strings.IndexByte(path, ')')]
	log, rerr := os.ReadFile(path)
	if rerr != nil || !strings.Contains(string(log), "no such command") {
		t.Errorf("the log %s: %q, %v; want the child's stderr", path, log, rerr)
	}
	if !strings.Contains(msg, "kept in ") {
		t.Errorf("the error doesn't say the dir is kept: %v", err)
	}
	if dir, ok := strings.CutPrefix(msg[strings.Index(msg, "kept in "):], "kept in "); ok {
		os.RemoveAll(dir)
	}
}

func TestBenchEndpointTemplate(t *testing.T) {
	for in, want := range map[string]string{
		"/tasks/1200000000001/stories": "/tasks/{gid}/stories",
		"/attachments":                 "/attachments",
		"/projects/42/tasks":           "/projects/{gid}/tasks",
	} {
		if got := endpointTemplate(in); got != want {
			t.Errorf("endpointTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}
