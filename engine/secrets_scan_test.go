package engine_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
)

// TestSecretsStayOutOfLogsAndFiles runs what touches every secret — an
// invitation issued and redeemed, a connection made with the destination's
// admin token, refused tokens, a sync with comments and attachments — then
// looks for each secret, in every encoding it travels in, in both nodes'
// logs and in every file of their data dirs.
func TestSecretsStayOutOfLogsAndFiles(t *testing.T) {
	a, b := startNode(t, "Acme", &clock{}), startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := engine.ParseInvitation(code, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	connB, err := b.Accept(ctx, code, "Test")
	if err != nil {
		t.Fatal(err)
	}
	// Refused tokens are secrets too (a typo of the real one, often).
	const wrongToken = "tdm_admin_WRONG-but-still-secret-0123456789"
	if _, err := a.Connect(ctx, engine.ConnectRequest{To: b.url, DestToken: wrongToken, DestProject: "Company", Project: "Test"}); err == nil {
		t.Fatal("a wrong destination token was accepted")
	} else if strings.Contains(err.Error(), wrongToken) {
		t.Errorf("the error repeats the refused token: %v", err)
	}
	if _, _, err := a.DestinationProjects(ctx, b.url, wrongToken); err == nil || strings.Contains(err.Error(), wrongToken) {
		t.Errorf("DestinationProjects with a wrong token: %v", err)
	}
	connA2, err := a.Connect(ctx, engine.ConnectRequest{To: b.url, DestToken: b.token, DestProject: "Company", Project: "Test"})
	if err != nil {
		t.Fatal(err)
	}
	// A sync that moves comments and an attachment.
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if e, err := a.et().Get(ctx, id); err == nil && len(e.Attachments) > 0 && len(e.Comments) > 0 {
			exalate(t, a, id)
			break
		}
	}

	secrets := map[string][]byte{
		"Acme's Asana token":    []byte(a.sb.Token()),
		"Globex's Asana token":  []byte(b.sb.Token()),
		"Acme's admin token":    []byte(a.token),
		"Globex's admin token":  []byte(b.token),
		"a refused admin token": []byte(wrongToken),
		"the invitation secret": inv.Secret,
		"the invitation code":   []byte(code),
	}
	for _, c := range []struct {
		n  *testNode
		id string
	}{{a, connA.ID}, {b, connB.ID}, {a, connA2.ID}} {
		key, err := engine.ConnectionKeyForTest(ctx, c.n.Node, c.id)
		if err != nil || len(key) < 16 {
			t.Fatalf("the key of connection %s: %d bytes, %v", c.id, len(key), err)
		}
		secrets["the key of connection "+c.id+" on "+c.n.Info().Name] = key
	}

	leaks := func(data []byte) []string {
		var found []string
		for name, secret := range secrets {
			for _, form := range encodings(secret) {
				if bytes.Contains(data, form) {
					found = append(found, name)
				}
			}
		}
		return found
	}
	scan := func(where string, data []byte) {
		t.Helper()
		if found := leaks(data); len(found) > 0 {
			t.Errorf("%s holds, in clear: %v", where, found)
		}
	}
	// The scan finds what it looks for: a key in JSON's base64, a token as is.
	for name, secret := range secrets {
		control := []byte(`{"k":"` + base64.StdEncoding.EncodeToString(secret) + `"} ` + string(secret))
		if len(leaks(control)) == 0 {
			t.Fatalf("the scan misses %s", name)
		}
	}
	scanDir := func(n *testNode) {
		t.Helper()
		entries, err := os.ReadDir(n.dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			data, err := os.ReadFile(filepath.Join(n.dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			scan(n.Info().Name+"'s "+e.Name(), data)
		}
	}
	// While running (the WAL holds the latest writes), then stopped.
	for _, n := range []*testNode{a, b} {
		scanDir(n)
	}
	for _, n := range []*testNode{a, b} {
		scan(n.Info().Name+"'s log", []byte(n.log.String()))
		n.stop()
		scanDir(n)
		// The harness's dirs pre-exist with the umask's mode: the node
		// leaves a dir it did not create alone, and says so.
		checkModes(t, n.dir, n.log.String())
	}
	if !strings.Contains(a.log.String(), "level=") {
		t.Fatal("Acme logged nothing: the scan above proves nothing")
	}
}

// encodings are the forms a secret could leak in: as is, hex, and the
// base64 flavours JSON and URLs use.
func encodings(secret []byte) [][]byte {
	forms := [][]byte{secret,
		[]byte(hex.EncodeToString(secret)),
		[]byte(base64.StdEncoding.EncodeToString(secret)),
		[]byte(base64.RawURLEncoding.EncodeToString(secret)),
	}
	var out [][]byte
	for _, f := range forms {
		if len(f) >= 12 {
			out = append(out, f)
		}
	}
	return out
}

// checkModes wants every file of a data dir 0600, and the dir 0700 or,
// when it was looser before the node came, a warning in the log.
func checkModes(t *testing.T, dir, log string) {
	t.Helper()
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 && !strings.Contains(log, "the data dir is readable by others") {
		t.Errorf("data dir %s has mode %v, want 0700 or a warning", dir, st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	files := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		files++
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	if files == 0 {
		t.Errorf("no files in %s", dir)
	}
}

// TestNewDataDirIsPrivate: a data dir the node creates is 0700 and its
// files 0600.
func TestNewDataDirIsPrivate(t *testing.T) {
	sb, err := sandbox.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	client, err := asana.New(asana.Config{BaseURL: srv.URL + "/api/1.0", Token: sb.Token(), RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "new", "data")
	n, err := engine.Open(ctxFor(t), engine.Config{DataDir: dir, Name: "Acme", URL: "http://127.0.0.1:1", Tracker: asana.NewTracker(client, "")})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("a new data dir: %v, %v; want 0700", st.Mode().Perm(), err)
	}
	checkModes(t, dir, "")
}
