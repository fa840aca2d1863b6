package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesCommands: over two served nodes, tandem upgrade moves a Basic
// connection to Script mode; rules show, export, import (a draft that does
// not compile refused at publish with its line), test (the replica and
// what the script printed), diff, publish and history work on it; and
// exalate runs the published version, which status shows.
func TestRulesCommands(t *testing.T) {
	acmeAsana, acme, acmeToken, globex, globexToken := serveTwo(t, "--poll", "100ms")
	if out, err := run(t, "connect", "--node", acme, "--admin-token", acmeToken, "--to", globex, "--dest-token", globexToken,
		"--dest-project", "Test", "--project", "Company"); err != nil {
		t.Fatalf("connect: %v\n%s", err, out)
	}
	conn := "Acme_to_Globex"
	flags := []string{"--node", acme, "--admin-token", acmeToken, "--connection", conn}
	cli := func(args ...string) (string, error) { return run(t, append(args, flags...)...) }

	if out, err := cli("rules", "show"); err != nil || !strings.Contains(out, "Basic mode") || !strings.Contains(out, "tandem upgrade") {
		t.Fatalf("rules show on Basic: %v\n%s", err, out)
	}
	if _, err := cli("rules", "edit"); err == nil || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("rules edit on Basic: %v, want a line saying to upgrade", err)
	}
	if _, err := run(t, "upgrade", "--node", acme, "--admin-token", acmeToken); err == nil || !strings.Contains(err.Error(), "--connection is required") {
		t.Errorf("upgrade without --connection: %v", err)
	}
	if out, err := cli("upgrade"); err != nil || !strings.Contains(out, "version 1") {
		t.Fatalf("upgrade: %v\n%s", err, out)
	}
	dir := t.TempDir()
	if out, err := cli("rules", "export", dir); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	outgoing, err := os.ReadFile(filepath.Join(dir, "outgoing.star"))
	if err != nil || !strings.Contains(string(outgoing), "def outgoing(item, replica):") {
		t.Fatalf("exported outgoing.star: %v\n%s", err, outgoing)
	}

	broken := string(outgoing) + "\nthis is not starlark\n"
	if err := os.WriteFile(filepath.Join(dir, "outgoing.star"), []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := cli("rules", "import", dir); err != nil || !strings.Contains(out, "does not compile") || !strings.Contains(out, "outgoing.star:") {
		t.Fatalf("import of a broken draft: %v\n%s", err, out)
	}
	if _, err := cli("rules", "publish"); err == nil || !strings.Contains(err.Error(), "can't be published") {
		t.Errorf("publish of a broken draft: %v, want refused", err)
	}

	printing := strings.Replace(string(outgoing), "def outgoing(item, replica):\n", "def outgoing(item, replica):\n    print(\"out:\", item.summary)\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "outgoing.star"), []byte(printing), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := cli("rules", "import", dir); err != nil || !strings.Contains(out, "the draft differs") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	gid := seededTasks(t, acmeAsana)[0].GID
	out, err := cli("rules", "test", gid)
	if err != nil || !strings.Contains(out, "nothing written") || !strings.Contains(out, "out: ") || !strings.Contains(out, `"summary"`) {
		t.Fatalf("rules test: %v\n%s", err, out)
	}
	if out, err := cli("rules", "diff"); err != nil || !strings.Contains(out, `+    print("out:", item.summary)`) {
		t.Fatalf("rules diff: %v\n%s", err, out)
	}
	if out, err := cli("rules", "publish", "--note", "print the summary"); err != nil || !strings.Contains(out, "version 2") {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	if out, err := cli("rules", "history"); err != nil || !strings.Contains(out, "v2") || !strings.Contains(out, "print the summary") || !strings.Contains(out, "(in force)") {
		t.Fatalf("history: %v\n%s", err, out)
	}
	acmeFlags := []string{"--node", acme, "--admin-token", acmeToken}
	if out, err := run(t, append([]string{"exalate", gid}, acmeFlags...)...); err != nil {
		t.Fatalf("exalate: %v\n%s", err, out)
	}
	if out, err := run(t, append([]string{"status", gid}, acmeFlags...)...); err != nil || !strings.Contains(out, "rules script v2") {
		t.Fatalf("status after exalate: %v\n%s", err, out)
	}
}
