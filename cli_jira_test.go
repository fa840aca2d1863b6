package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jirasandbox "github.com/tandem-sync/tandem/connectors/jira/sandbox"
)

// startJiraSandbox serves a Jira sandbox (demo seed) for site and returns
// its URL, e-mail and token.
func startJiraSandbox(t *testing.T, site string) (url, email, token string) {
	t.Helper()
	sb, err := jirasandbox.New(jirasandbox.WithSite(site), jirasandbox.WithToken(site+"-token"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return srv.URL, sb.Email(), sb.Token()
}

// TestJiraNodeFromTheCommandLine: an Asana node and a Jira node (serve
// --tracker jira, credentials from the environment), connected; a Jira bug
// synced by its key reaches Asana, and both sides say what became of its
// type.
func TestJiraNodeFromTheCommandLine(t *testing.T) {
	acmeAsana := startSandbox(t, "Acme")
	jiraURL, email, token := startJiraSandbox(t, "Globex")
	acme, acmeToken := startServe(t, "--name", "Acme", "--data", t.TempDir(), "--asana-url", acmeAsana, "--asana-token", "Acme-pat")
	t.Setenv("JIRA_URL", jiraURL)
	t.Setenv("JIRA_EMAIL", email)
	t.Setenv("JIRA_TOKEN", token)
	globex, globexToken := startServe(t, "--name", "Globex", "--data", t.TempDir(), "--tracker", "jira")

	if out, err := run(t, "connect", "--node", globex, "--admin-token", globexToken, "--to", acme, "--dest-token", acmeToken,
		"--dest-project", "Company", "--project", "KAN"); err != nil {
		t.Fatalf("connect: %v\n%s", err, out)
	}
	out, err := run(t, "connections", "--node", acme, "--admin-token", acmeToken)
	if err != nil || !strings.Contains(out, "Company ↔ Kanban") {
		t.Errorf("Acme's connections: %v\n%s", err, out)
	}
	// KAN-2 is the demo's bug with a comment and a file; its link works
	// as well as its key.
	out, err = run(t, "exalate", jiraURL+"/browse/kan-2", "--node", globex, "--admin-token", globexToken)
	if err != nil {
		t.Fatalf("exalate: %v\n%s", err, out)
	}
	for _, want := range []string{"✓ Synchronized", "Side A: KAN-2  " + jiraURL + "/browse/KAN-2", `is a "task": Acme's Asana has no type "Bug", so it got the default type`} {
		if !strings.Contains(out, want) {
			t.Errorf("exalate's report lacks %q:\n%s", want, out)
		}
	}
	out, err = run(t, "status", "KAN-2", "--node", globex, "--admin-token", globexToken)
	if err != nil || !strings.HasPrefix(out, "KAN-2: Synchronized") {
		t.Errorf("status by key on Globex: %v\n%s", err, out)
	}
	var gid string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "Side B: "); ok {
			gid = strings.Fields(rest)[0]
		}
	}
	out, err = run(t, "status", gid, "--node", acme, "--admin-token", acmeToken)
	if err != nil || !strings.Contains(out, "Type: Bug on the other side") {
		t.Errorf("status of the bug's Asana twin (%s): %v\n%s", gid, err, out)
	}
}

// TestServeTrackerFlags: what serve needs for each tracker, each missing
// piece named in one line before anything starts.
func TestServeTrackerFlags(t *testing.T) {
	for _, env := range []string{"JIRA_URL", "JIRA_EMAIL", "JIRA_TOKEN", "ASANA_TOKEN"} {
		t.Setenv(env, "")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tracker", "gitlab"}, `--tracker "gitlab" is not supported; use asana or jira`},
		{[]string{"--tracker", "jira"}, "a Jira site is required: --jira-url"},
		{[]string{"--tracker", "jira", "--jira-url", "https://globex.atlassian.net"}, "the Jira account's e-mail is required"},
		{[]string{"--tracker", "jira", "--jira-url", "https://globex.atlassian.net", "--jira-email", "a@globex.com"}, "a Jira API token is required"},
		{[]string{"--tracker", "jira", "--jira-url", "globex", "--jira-email", "a@globex.com", "--jira-token", "x"}, `--jira-url "globex" is not a site URL`},
		{[]string{}, "an Asana token is required"},
		{[]string{"--jira-url", "https://globex.atlassian.net"}, "are for a Jira node: add --tracker jira"},
		{[]string{"--tracker", "jira", "--asana-token", "x"}, "are for an Asana node"},
	} {
		_, err := run(t, append([]string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("serve %v: %v, want one line with %q", c.args, err, c.want)
		}
	}
}

func TestSandboxJiraRefusesBadKnobs(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--time-zone", "Mars/Olympus"}, "is not a time zone"},
		{[]string{"--fault-rate", "2"}, "is not a share between 0 and 1"},
		{[]string{"--seed", "full"}, "unknown seed"},
		{[]string{"--search-lag", "-1s"}, "--search-lag -1s is negative"},
		{[]string{"--search-lag", "soon"}, "--search-lag"},
	} {
		_, err := run(t, append([]string{"sandbox", "jira", "--listen", "127.0.0.1:0"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("sandbox jira %v: %v, want %q", c.args, err, c.want)
		}
	}
}

// TestSandboxJiraSearchLag runs `tandem sandbox jira --search-lag` and
// checks the lag reaches the emulator: an issue created through the API is
// missing from JQL search at first and shows once the lag has passed, not
// before; without the flag it shows at once.
func TestSandboxJiraSearchLag(t *testing.T) {
	const lag = 2 * time.Second
	lagged := startJiraSandboxCmd(t, "--search-lag", lag.String())
	if !strings.Contains(lagged.banner, "Search lag: 2s") {
		t.Errorf("the banner does not state the lag:\n%s", lagged.banner)
	}
	before := time.Now()
	key := lagged.createIssue(t, "lagging")
	if lagged.found(t, key) && time.Since(before) < lag {
		t.Fatalf("%s was found by search at once, with --search-lag %v", key, lag)
	}
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !lagged.found(t, key) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed in search", key)
		}
		<-tick.C
	}
	if waited := time.Since(before); waited < lag {
		t.Errorf("%s showed in search after %v, before the lag of %v", key, waited, lag)
	}

	prompt := startJiraSandboxCmd(t)
	if key := prompt.createIssue(t, "prompt"); !prompt.found(t, key) {
		t.Errorf("without --search-lag, %s is not found by search at once", key)
	}
}

// jiraSandboxCmd is a `tandem sandbox jira` running in process.
type jiraSandboxCmd struct {
	base, email, token, banner string
	hc                         *http.Client
}

// startJiraSandboxCmd runs `tandem sandbox jira --seed empty` with extra
// flags until the test ends, and reads the site, e-mail and token it prints.
func startJiraSandboxCmd(t *testing.T, flags ...string) *jiraSandboxCmd {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	root := newRootCmd(pw)
	root.SetArgs(append([]string{"sandbox", "jira", "--seed", "empty", "--listen", "127.0.0.1:0"}, flags...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sandbox jira %v stopped with %v", flags, err)
		}
	})
	s := &jiraSandboxCmd{hc: &http.Client{Timeout: 10 * time.Second}}
	var banner strings.Builder
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		line := lines.Text()
		banner.WriteString(line + "\n")
		if rest, ok := strings.CutPrefix(line, "Jira sandbox "); ok {
			s.base = strings.TrimSuffix(rest[strings.LastIndex(rest, " ")+1:], "/rest/api/3")
		}
		if v, ok := strings.CutPrefix(line, "E-mail: "); ok {
			s.email = v
		}
		if v, ok := strings.CutPrefix(line, "Token: "); ok {
			s.token = v
		}
		if strings.HasPrefix(line, "Stop with") {
			break
		}
	}
	go io.Copy(io.Discard, pr) // keep the command's later output flowing
	s.banner = banner.String()
	if s.base == "" || s.email == "" || s.token == "" {
		t.Fatalf("sandbox jira %v printed no site, e-mail or token:\n%s", flags, s.banner)
	}
	return s
}

// call sends an authenticated JSON request and decodes the answer into out.
func (s *jiraSandboxCmd) call(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.base+"/rest/api/3"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(s.email, s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

func (s *jiraSandboxCmd) createIssue(t *testing.T, summary string) string {
	t.Helper()
	var made struct{ Key string }
	s.call(t, "POST", "/issue", map[string]any{"fields": map[string]any{
		"project": map[string]any{"key": "KAN"}, "issuetype": map[string]any{"name": "Task"}, "summary": summary}}, 201, &made)
	return made.Key
}

// found reports whether a JQL search of the project finds key.
func (s *jiraSandboxCmd) found(t *testing.T, key string) bool {
	t.Helper()
	var page struct{ Issues []struct{ Key string } }
	s.call(t, "GET", "/search/jql?fields=summary&jql="+url.QueryEscape("project = KAN"), nil, 200, &page)
	for _, is := range page.Issues {
		if is.Key == key {
			return true
		}
	}
	return false
}
