package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/store/pgtest"
)

// TestServeDatabaseErrors: a --database (or TANDEM_DATABASE) the node
// cannot use stops serve with one line that says what is wrong and where
// it was given, never with the URL's password, on the terminal or in the
// log.
func TestServeDatabaseErrors(t *testing.T) {
	asanaURL := startSandbox(t, "Acme")
	// A port nothing listens on: taken, then freed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	const secret = "s3cret-Passw0rd"
	for _, c := range []struct {
		name, flag, env string
		want            []string
	}{
		{"server down", "postgres://tandem:" + secret + "@" + closed + "/tandem", "",
			[]string{"--database: ", "cannot reach the PostgreSQL server at " + closed, "postgres://tandem:xxxxx@" + closed}},
		{"unreadable URL, from the environment", "", "postgres://tandem:" + secret + "@localhost:99999/tandem",
			[]string{"TANDEM_DATABASE ", "postgres://tandem:xxxxx@localhost:99999/tandem", "postgres://USER:PASSWORD@HOST:PORT/DATABASE"}},
		{"another engine's URL", "mysql://tandem:" + secret + "@localhost/tandem", "",
			[]string{"--database: not a database this node can use: write a PostgreSQL URL as postgres://"}},
		{"a PostgreSQL URL mistyped", "postgres:/tandem:" + secret + "@localhost/tandem", "",
			[]string{"--database: not a database this node can use"}},
		{"password in the query", "postgres://tandem@" + closed + "/tandem?password=" + secret, "",
			[]string{"--database: ", "password=xxxxx"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("TANDEM_DATABASE", c.env)
			dir := t.TempDir()
			args := []string{"serve", "--name", "Acme", "--data", dir, "--listen", "127.0.0.1:0",
				"--asana-url", asanaURL, "--asana-token", "Acme-pat"}
			if c.flag != "" {
				args = append(args, "--database", c.flag)
			}
			out, err := run(t, args...)
			if err == nil {
				t.Fatalf("serve started on %s; output:\n%s", c.name, out)
			}
			msg := shown(err.Error())
			t.Logf("tandem: %s", msg)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the error does not say %q", w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("the error spans lines")
			}
			logged, _ := os.ReadFile(filepath.Join(dir, logFileName))
			for what, text := range map[string]string{"error": msg, "output": out, "log": string(logged)} {
				if strings.Contains(text, secret) {
					t.Errorf("the %s shows the password", what)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "tandem.db")); err == nil {
				t.Errorf("serve made a SQLite file though a database was given")
			}
		})
	}
}

// TestServeOnPostgreSQL runs `tandem serve --database postgres://…`: the
// node keeps its state in PostgreSQL (no SQLite file under --data), says
// so without the password, and starts again on the same database with
// the same instance. It skips without a test server (pgtest).
func TestServeOnPostgreSQL(t *testing.T) {
	db := pgtest.URL(t)
	asanaURL := startSandbox(t, "Acme")
	dir := t.TempDir()
	args := []string{"--name", "Acme", "--data", dir, "--asana-url", asanaURL, "--asana-token", "Acme-pat",
		"--database", db}
	url, token, out := serveRecorded(t, args...)
	if url == "" || token == "" {
		t.Fatal("no node")
	}
	if !strings.Contains(out.String(), "Database: postgres://") {
		t.Errorf("serve does not say which database:\n%s", out.String())
	}
	logged, _ := os.ReadFile(filepath.Join(dir, logFileName))
	if pw := password(db); pw != "" && (strings.Contains(out.String(), pw) || strings.Contains(string(logged), pw)) {
		t.Errorf("serve printed or logged the database's password")
	}
	if _, err := os.Stat(filepath.Join(dir, "tandem.db")); err == nil {
		t.Errorf("serve made a SQLite file under --data though --database named PostgreSQL")
	}
}

// password is a URL's password, "" if none.
func password(spec string) string {
	i, j := strings.Index(spec, "://"), strings.LastIndex(spec, "@")
	if i < 0 || j < i {
		return ""
	}
	_, pw, _ := strings.Cut(spec[i+3:j], ":")
	return pw
}
