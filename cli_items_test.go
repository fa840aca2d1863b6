package main

import (
	"context"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana"
)

// TestItemOpsFromTheCommandLine: status lists an item's recent syncs with
// their rules version, unexalate parts the pair, link joins it again.
func TestItemOpsFromTheCommandLine(t *testing.T) {
	acmeAsana, globexAsana := startSandbox(t, "Acme"), startSandbox(t, "Globex")
	acme, acmeToken := startServe(t, "--name", "Acme", "--data", t.TempDir(), "--asana-url", acmeAsana, "--asana-token", "Acme-pat", "--poll", "100ms")
	globex, globexToken := startServe(t, "--name", "Globex", "--data", t.TempDir(), "--asana-url", globexAsana, "--asana-token", "Globex-pat", "--poll", "100ms")
	if out, err := run(t, "connect", "--node", acme, "--admin-token", acmeToken, "--to", globex, "--dest-token", globexToken,
		"--dest-project", "Test", "--project", "Company"); err != nil {
		t.Fatalf("connect: %v\n%s", err, out)
	}
	client, err := asana.New(asana.Config{BaseURL: acmeAsana, Token: "Acme-pat", RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ws, _ := client.Workspaces(ctx)
	ps, _ := client.Projects(ctx, ws[0].GID)
	tasks, err := client.ProjectTasks(ctx, ps[0].GID, asana.TaskQuery{})
	if err != nil || len(tasks) == 0 {
		t.Fatalf("seeded tasks: %v %v", tasks, err)
	}
	acmeFlags := []string{"--node", acme, "--admin-token", acmeToken}
	gid := tasks[0].GID
	if out, err := run(t, append([]string{"exalate", gid}, acmeFlags...)...); err != nil {
		t.Fatalf("exalate: %v\n%s", err, out)
	}
	out, err := run(t, append([]string{"status", gid}, acmeFlags...)...)
	if err != nil || !strings.HasPrefix(out, gid+": Synchronized") || !strings.Contains(out, "Recent syncs on ") ||
		!strings.Contains(out, "sent") || !strings.Contains(out, "rules basic") || !strings.Contains(out, "Finalizing +") {
		t.Fatalf("status: %v\n%s", err, out)
	}
	remoteKey := ""
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "Side B: "); ok {
			remoteKey = strings.Fields(rest)[0]
		}
	}
	if remoteKey == "" {
		t.Fatalf("status shows no Side B:\n%s", out)
	}

	out, err = run(t, append([]string{"unexalate", gid}, acmeFlags...)...)
	if err != nil || !strings.Contains(out, "no longer sync; nothing was deleted") {
		t.Fatalf("unexalate: %v\n%s", err, out)
	}
	if _, err := run(t, append([]string{"unexalate", gid}, acmeFlags...)...); err == nil || !strings.Contains(err.Error(), "no twin") {
		t.Errorf("a second unexalate: %v, want a refusal saying the item has no twin", err)
	}
	out, err = run(t, append([]string{"status", gid}, acmeFlags...)...)
	if err != nil || !strings.Contains(out, "Unexalated at ") {
		t.Errorf("status after unexalate: %v\n%s", err, out)
	}

	if _, err := run(t, append([]string{"link", gid}, acmeFlags...)...); err == nil || !strings.Contains(err.Error(), "--to") {
		t.Errorf("link without --to: %v, want a line asking for it", err)
	}
	if _, err := run(t, append([]string{"link", gid, "--to", remoteKey, "--winner", "both"}, acmeFlags...)...); err == nil || !strings.Contains(err.Error(), "local or remote") {
		t.Errorf("link --winner both: %v", err)
	}
	out, err = run(t, append([]string{"link", gid, "--to", remoteKey, "--winner", "remote"}, acmeFlags...)...)
	if err != nil || !strings.Contains(out, "Linked "+gid+" ↔ "+remoteKey+"; "+remoteKey+"'s fields win") {
		t.Fatalf("link: %v\n%s", err, out)
	}
	if _, err := run(t, append([]string{"link", tasks[1].GID, "--to", remoteKey}, acmeFlags...)...); err == nil ||
		!strings.Contains(err.Error(), "already the twin") || strings.Contains(err.Error(), "\n") {
		t.Errorf("link to a twin: %v, want one line saying it is a twin already", err)
	}
}
