package main

import (
	"net/http/httptest"
	"strings"
	"testing"

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
	} {
		_, err := run(t, append([]string{"sandbox", "jira", "--listen", "127.0.0.1:0"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("sandbox jira %v: %v, want %q", c.args, err, c.want)
		}
	}
}
