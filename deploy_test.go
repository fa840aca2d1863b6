package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The systemd unit README.md ships starts `tandem serve` with flags that
// exist (a renamed flag would leave every team's service failing to
// start), and systemd-analyze, where the machine has it, finds nothing
// wrong with it.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join("deploy", "tandem.service"))
	if err != nil {
		t.Fatal(err)
	}
	exec1 := regexp.MustCompile(`(?m)^ExecStart=(\S+) serve (.*)$`).FindSubmatch(unit)
	if exec1 == nil {
		t.Fatal("deploy/tandem.service has no ExecStart=… serve line")
	}
	serveCmd := newServeCmd()
	for _, arg := range strings.Fields(string(exec1[2])) {
		if !strings.HasPrefix(arg, "--") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if serveCmd.Flags().Lookup(name) == nil {
			t.Errorf("deploy/tandem.service starts serve with --%s, which serve doesn't have", name)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit's flags were checked, not the unit")
	}
	// verify wants the ExecStart binary to exist: this test's own
	// executable stands in for /usr/local/bin/tandem.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tandem.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, exec1[1], []byte(self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	// verify exits 0 on an unknown key or a bad value and only says so:
	// any word from it is a finding.
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify deploy/tandem.service: %v\n%s", err, out)
	}
}
