package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
)

// TestConnectionByIDOrName: two connections between the same two nodes
// get names of their own (Acme_to_Globex, Acme_to_Globex_2, trap 3 of
// issue 14), and each works where its id does.
func TestConnectionByIDOrName(t *testing.T) {
	acmeAsana, acme, acmeToken, globex, globexToken := serveTwo(t, "--poll", "100ms")
	onAcme := []string{"--node", acme, "--admin-token", acmeToken}
	for _, pair := range [][2]string{{"Company", "Test"}, {"Test", "Company"}} {
		if out, err := run(t, append([]string{"connect", "--to", globex, "--dest-token", globexToken,
			"--project", pair[0], "--dest-project", pair[1]}, onAcme...)...); err != nil {
			t.Fatalf("connect %v: %v\n%s", pair, err, out)
		}
	}
	out, err := run(t, append([]string{"connections", "--json"}, onAcme...)...)
	if err != nil {
		t.Fatal(err)
	}
	var cs []engine.Connection
	if err := json.Unmarshal([]byte(out), &cs); err != nil || len(cs) != 2 {
		t.Fatalf("connections: %v %s", err, out)
	}
	company, test := cs[1], cs[0] // newest first
	if company.Name != "Acme_to_Globex" || test.Name != "Acme_to_Globex_2" || company.LocalProjectName != "Company" {
		t.Fatalf("the two connections are %s (%s) and %s (%s), want Acme_to_Globex (Company) and Acme_to_Globex_2",
			company.Name, company.LocalProjectName, test.Name, test.LocalProjectName)
	}

	client, err := asana.New(asana.Config{BaseURL: acmeAsana, Token: "Acme-pat", RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ws, _ := client.Workspaces(ctx)
	ps, _ := client.Projects(ctx, ws[0].GID)
	var task string
	for _, p := range ps {
		if p.Name == "Company" {
			tasks, err := client.ProjectTasks(ctx, p.GID, asana.TaskQuery{})
			if err != nil || len(tasks) == 0 {
				t.Fatalf("seeded tasks of Company: %v %v", tasks, err)
			}
			task = tasks[0].GID
		}
	}

	// By id.
	if out, err := run(t, append([]string{"exalate", task, "--connection", company.ID}, onAcme...)...); err != nil ||
		!strings.Contains(out, "Synchronized") {
		t.Fatalf("exalate --connection <id>: %v\n%s", err, out)
	}
	// By the other connection's name: it syncs another project.
	if _, err := run(t, append([]string{"exalate", task, "--connection", "Acme_to_Globex_2"}, onAcme...)...); err == nil ||
		!strings.Contains(err.Error(), "syncs project Test") {
		t.Errorf("exalate on the connection of another project: err = %v, want it refused as such", err)
	}
	if out, err := run(t, append([]string{"connections", "deactivate", "Acme_to_Globex_2"}, onAcme...)...); err != nil ||
		!strings.Contains(out, "Connection Acme_to_Globex_2 is now Deactivated") {
		t.Errorf("deactivate by name: %v\n%s", err, out)
	}

	// An unknown name or id.
	for _, args := range [][]string{
		{"exalate", task, "--connection", "Nope"},
		{"status", task, "--connection", "Nope"},
		{"connections", "trigger", "Nope", "on"},
	} {
		_, err := run(t, append(args, onAcme...)...)
		if err == nil || !strings.Contains(err.Error(), `no connection "Nope" on Acme`) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err = %v, want one line saying there is no such connection", args, err)
		}
	}

	// By name, as by id.
	if out, err := run(t, append([]string{"status", task, "--connection", "Acme_to_Globex"}, onAcme...)...); err != nil ||
		!strings.HasPrefix(out, task+": Synchronized") {
		t.Errorf("status --connection <name>: %v\n%s", err, out)
	}
	if out, err := run(t, append([]string{"connections", "trigger", "Acme_to_Globex", "on"}, onAcme...)...); err != nil ||
		!strings.Contains(out, "Trigger of Acme_to_Globex is on") {
		t.Errorf("trigger <name> on: %v\n%s", err, out)
	}
	// A name matches case and all; a near miss says which name was meant.
	if _, err := run(t, append([]string{"status", task, "--connection", "acme_to_globex"}, onAcme...)...); err == nil ||
		!strings.Contains(err.Error(), "did you mean Acme_to_Globex") {
		t.Errorf("a name in the wrong case: err = %v, want the right name suggested", err)
	}
}

// The help of every command that takes an item or a connection says what
// either tracker's reference looks like, and that a connection may be
// named.
func TestRefHelpNamesBothTrackers(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"exalate", "--help"}, []string{"Asana", "task gid", "Jira issue key (such as KAN-19)", "issue link", "by id or name"}},
		{[]string{"status", "--help"}, []string{"Asana", "task gid", "Jira issue key (such as KAN-19)", "issue link", "by id or name"}},
		{[]string{"connections", "--help"}, []string{"by its id or by its name", "Names are unique on a node"}},
		{[]string{"connections", "activate", "--help"}, []string{"activate ID|NAME"}},
		{[]string{"connections", "deactivate", "--help"}, []string{"deactivate ID|NAME"}},
		{[]string{"connections", "trigger", "--help"}, []string{"trigger ID|NAME on|off"}},
		{[]string{"connections", "delete", "--help"}, []string{"delete ID|NAME"}},
	} {
		out, err := run(t, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		flat := strings.Join(strings.Fields(out), " ")
		for _, w := range tc.want {
			if !strings.Contains(flat, w) {
				t.Errorf("%v does not say %q:\n%s", tc.args, w, out)
			}
		}
	}
}
