package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestHelpNamesEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"sandbox", "--help"}, {"sandbox", "asana", "--help"}, {"demo", "--help"}, {"console", "--help"}} {
		var out bytes.Buffer
		root := newRootCmd(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%v printed no usage:\n%s", args, out.String())
		}
	}
	var out bytes.Buffer
	root := newRootCmd(&out)
	root.SetArgs([]string{"sandbox", "asana", "--help"})
	_ = root.Execute()
	for _, flag := range []string{"--listen", "--seed", "--workspace", "--token", "--rate-limit", "--latency", "--fault-rate"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("sandbox asana --help does not mention %s", flag)
		}
	}
}

func TestBadFlagsGiveOneClearLine(t *testing.T) {
	t.Setenv("TANDEM_ADMIN_TOKEN", "")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sandbox", "asana", "--seed", "full"}, `unknown seed "full"`},
		{[]string{"sandbox", "asana", "--fault-rate", "2"}, "--fault-rate"},
		{[]string{"sandbox", "asana", "--rate-limit", "-5"}, "--rate-limit"},
		{[]string{"sandbox", "asana", "--listen", "256.0.0.1:1"}, "--listen"},
		{[]string{"sandbox", "asana", "--extra-projects", "-1"}, "--extra-projects -1 is negative"},
		{[]string{"sandbox", "asana", "--webhook-heartbeat", "0s"}, "--webhook-heartbeat 0s must be positive"},
		{[]string{"demo", "--poll", "0s"}, "--poll"},
		{[]string{"serve", "--poll-max", "0s"}, "--poll-max 0s must be positive"},
		{[]string{"serve", "--poll", "5s", "--poll-max", "1s"}, "--poll-max 1s is shorter than --poll 5s"},
		{[]string{"demo", "--data", "."}, "is not empty"},
		{[]string{"console", "--node", "http://127.0.0.1:1", "--admin-token", "x"}, "can't be reached"},
		{[]string{"console", "--node", "http://127.0.0.1:1"}, "admin token is required"},
		{[]string{"invite", "--node", "http://127.0.0.1:1", "--no-url", "--project", "P", "--mode", "fancy"}, `unknown mode "fancy": the modes are basic, script`},
		{[]string{"connect", "--node", "http://127.0.0.1:1", "--to", "http://127.0.0.1:2", "--project", "P", "--mode", "fancy"}, `unknown mode "fancy": the modes are basic, script`},
	} {
		root := newRootCmd(io.Discard)
		root.SetArgs(tt.args)
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err = %v, want one line mentioning %q", tt.args, err, tt.want)
		}
	}
}

// TestSandboxServesWhatItPrints runs `tandem sandbox asana --seed demo` and
// does what a user would with its output: list the Company tasks with the
// printed token.
func TestSandboxServesWhatItPrints(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	root := newRootCmd(pw)
	root.SetArgs([]string{"sandbox", "asana", "--seed", "demo", "--listen", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() {
		done <- root.ExecuteContext(ctx)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sandbox stopped with %v", err)
		}
	}()

	lines := bufio.NewScanner(pr)
	var token, companyTasks string
	curl := regexp.MustCompile(`'(http://[^']+/projects/\d+/tasks)'\s+# Company`)
	for lines.Scan() && (token == "" || companyTasks == "") {
		line := lines.Text()
		if v, ok := strings.CutPrefix(line, "Token: "); ok {
			token = v
		}
		if m := curl.FindStringSubmatch(line); m != nil {
			companyTasks = m[1]
		}
	}
	go io.Copy(io.Discard, pr) // keep the command's later output flowing
	if token == "" || companyTasks == "" {
		t.Fatalf("the output named no token (%q) or no Company tasks URL (%q)", token, companyTasks)
	}

	req, _ := http.NewRequest(http.MethodGet, companyTasks, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data []struct{ GID, Name string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, decode %v", resp.StatusCode, err)
	}
	if len(body.Data) < 10 {
		t.Errorf("listed %d Company tasks, want about a dozen", len(body.Data))
	}
}
