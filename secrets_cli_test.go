package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer collects a command's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveRecorded runs `tandem serve` with args until the test ends, keeping
// everything it prints, and returns the node's URL and the admin token.
func serveRecorded(t *testing.T, args ...string) (url, token string, out *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	out = &lockedBuffer{}
	root := newRootCmd(io.MultiWriter(pw, out))
	root.SetArgs(append([]string{"serve", "--listen", "127.0.0.1:0"}, args...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve %v stopped with %v", args, err)
		}
	})
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if u, ok := strings.CutPrefix(line, "tandem node "); ok {
			url = u[strings.LastIndex(u, " ")+1:]
		}
		if strings.HasPrefix(line, "tdm_admin_") {
			token = line
		}
		if strings.HasPrefix(line, "Stop with") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" || token == "" {
		t.Fatalf("serve %v printed no URL or token:\n%s", args, out.String())
	}
	return url, token, out
}

// TestCommandsKeepSecrets runs the admin's commands, good and bad, and
// looks for the secrets in what they print (stdout and the error main
// prints on stderr) and in the nodes' log files. The admin token is shown
// once, by serve at first start, and the invitation code by invite: there
// the user asked for them; nowhere else.
func TestCommandsKeepSecrets(t *testing.T) {
	acmeAsana, globexAsana := startSandbox(t, "Acme"), startSandbox(t, "Globex")
	acmeData, globexData := t.TempDir(), t.TempDir()
	acme, acmeToken, acmeOut := serveRecorded(t, "--name", "Acme", "--data", acmeData, "--asana-url", acmeAsana, "--asana-token", "Acme-pat")
	globex, globexToken, globexOut := serveRecorded(t, "--name", "Globex", "--data", globexData, "--asana-url", globexAsana, "--asana-token", "Globex-pat")
	const wrong = "tdm_admin_not-the-token-but-secret-still"
	secrets := map[string]string{"Acme's Asana token": "Acme-pat", "Globex's Asana token": "Globex-pat",
		"Acme's admin token": acmeToken, "Globex's admin token": globexToken, "a refused token": wrong}

	var printed []string // every command's output and error, labelled
	cmd := func(args ...string) string {
		t.Helper()
		out, err := run(t, args...)
		text := out
		if err != nil {
			text += "\ntandem: " + err.Error()
		}
		printed = append(printed, strings.Join(args[:1], " ")+": "+text)
		return out
	}
	as := func(node, token string) []string { return []string{"--node", node, "--admin-token", token} }

	out := cmd(append([]string{"invite", "--to", globex, "--project", "Company"}, as(acme, acmeToken)...)...)
	var code string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "tdm1.") {
			code = line
		}
	}
	if code == "" {
		t.Fatalf("invite printed no code:\n%s", out)
	}
	printed = printed[:len(printed)-1] // invite shows the code: asked for
	secrets["the invitation code"] = code
	cmd(append([]string{"accept", code, "--project", "Test"}, as(globex, globexToken)...)...)
	cmd(append([]string{"accept", code, "--project", "Test"}, as(globex, globexToken)...)...) // used
	cmd(append([]string{"connect", "--to", globex, "--dest-token", wrong, "--dest-project", "Company", "--project", "Test"}, as(acme, acmeToken)...)...)
	cmd(append([]string{"connect", "--to", globex, "--dest-token", globexToken, "--dest-project", "Company", "--project", "Test"}, as(acme, acmeToken)...)...)
	cmd(append([]string{"connections", "--json"}, as(acme, acmeToken)...)...)
	cmd(append([]string{"connections"}, as(acme, wrong)...)...)
	cmd(append([]string{"connections"}, as(globex, acmeToken)...)...)
	cmd(append([]string{"exalate", "not-a-task"}, as(acme, acmeToken)...)...)

	if len(printed) < 8 {
		t.Fatalf("only %d commands recorded", len(printed))
	}
	for _, p := range printed {
		for name, secret := range secrets {
			if strings.Contains(p, secret) {
				t.Errorf("%s printed %s:\n%s", p[:strings.Index(p, ":")], name, p)
			}
		}
	}
	// serve printed its own admin token once, and nothing else secret.
	for node, o := range map[string]string{"Acme": acmeOut.String(), "Globex": globexOut.String()} {
		own := map[string]string{"Acme": acmeToken, "Globex": globexToken}[node]
		for name, secret := range secrets {
			n := strings.Count(o, secret)
			if secret == own {
				// Once on its line, once in the export hint.
				if n != 2 {
					t.Errorf("%s's serve printed its admin token %d times", node, n)
				}
				continue
			}
			if n > 0 {
				t.Errorf("%s's serve printed %s", node, name)
			}
		}
	}
	for _, dir := range []string{acmeData, globexData} {
		log, err := os.ReadFile(filepath.Join(dir, logFileName))
		if err != nil || len(log) == 0 {
			t.Fatalf("the log in %s: %v", dir, err)
		}
		for name, secret := range secrets {
			if strings.Contains(string(log), secret) {
				t.Errorf("%s's log holds %s", dir, name)
			}
		}
	}
}
