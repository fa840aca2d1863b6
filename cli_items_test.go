package main

import (
	"strings"
	"testing"
)

// TestItemOpsFromTheCommandLine: status lists an item's recent syncs with
// their rules version, unexalate parts the pair, link joins it again.
func TestItemOpsFromTheCommandLine(t *testing.T) {
	acmeAsana, acme, acmeToken, globex, globexToken := serveTwo(t, "--poll", "100ms")
	if out, err := run(t, "connect", "--node", acme, "--admin-token", acmeToken, "--to", globex, "--dest-token", globexToken,
		"--dest-project", "Test", "--project", "Company"); err != nil {
		t.Fatalf("connect: %v\n%s", err, out)
	}
	tasks := seededTasks(t, acmeAsana)
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
