// Package pgtest gives tests a fresh PostgreSQL database each, on the
// server TANDEM_TEST_DATABASE names, or skips them when it is unset: the
// PostgreSQL suites run in .ci/run (through .ci/postgres, which starts a
// throwaway server and sets the variable), while plain `go test ./...`
// stays self-contained.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Env is the variable naming the test server: a postgres:// URL of a
// database on it that the user may create databases from.
const Env = "TANDEM_TEST_DATABASE"

// SkipMessage is why a PostgreSQL test skips without a server.
const SkipMessage = Env + " is unset: the PostgreSQL suite runs in .ci/run " +
	"(or run `.ci/postgres go test ./store` to start a throwaway server and set it)"

// Available reports whether a test server is configured.
func Available() bool { return os.Getenv(Env) != "" }

// URL creates an empty database with a random name on the test server and
// returns its URL; the database is dropped when t ends. Without a server
// it skips t.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Skip(SkipMessage)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Not the URL itself: it may carry a password.
		t.Fatalf("%s must be a postgres:// URL", Env)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "tandem_test_" + hex.EncodeToString(b[:])

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("pgtest: open the test server: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a pool the test leaked must not keep the database.
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
