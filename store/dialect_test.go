package store

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/store/pgtest"
)

func TestRebind(t *testing.T) {
	for _, c := range []struct {
		query string
		nargs int
		want  string
	}{
		{"SELECT 1", 0, "SELECT 1"},
		{"SELECT a FROM t WHERE b = ? AND c = ?", 2, "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"INSERT INTO t VALUES (?, '?', \"?\", ?)", 2, "INSERT INTO t VALUES ($1, '?', \"?\", $2)"},
		{"SELECT 'it''s ?', ?", 1, "SELECT 'it''s ?', $1"},
		{"SELECT ? -- why?\n, ? /* and? */", 2, "SELECT $1 -- why?\n, $2 /* and? */"},
		{"SELECT $$ a ? $$, $tag$ ? $tag$, ?", 1, "SELECT $$ a ? $$, $tag$ ? $tag$, $1"},
		// Already PostgreSQL's (River's), with jsonb's ? operator: untouched.
		{"SELECT * FROM river_job WHERE id = $1 AND metadata ? 'x'", 1, "SELECT * FROM river_job WHERE id = $1 AND metadata ? 'x'"},
		// A ? that is not a placeholder (the count does not match): untouched.
		{"SELECT metadata ? 'x' FROM river_job", 0, "SELECT metadata ? 'x' FROM river_job"},
		{"SELECT ?, ?", -1, "SELECT $1, $2"},
	} {
		if got := rebind(c.query, c.nargs); got != c.want {
			t.Errorf("rebind(%q, %d) = %q, want %q", c.query, c.nargs, got, c.want)
		}
	}
}

// TestMigrationsMatch: each engine has the same migrations, by number and
// name; a migration added for one and not translated for the other fails
// here.
func TestMigrationsMatch(t *testing.T) {
	names := func(d *dialect) []string {
		ms, err := loadMigrations(d)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, fmt.Sprintf("%04d_%s", m.version, m.name))
		}
		return out
	}
	lite, pg := names(sqliteDialect), names(postgresDialect)
	if !slices.Equal(lite, pg) {
		t.Errorf("migrations differ:\nsqlite:   %v\npostgres: %v", lite, pg)
	}
}

// TestOpenOldLayoutDatabase: a node's database migrated when the
// migrations lived in migrations/ (one engine, schema version 9) opens as
// it is, with its data, and gets the later migrations.
func TestOpenOldLayoutDatabase(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tandem.db")
	f, err := os.Open("testdata/schema-0009-old-layout.db.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a database migrated by the old layout: %v", err)
	}
	defer s.Close()
	var applied []int
	rows, err := s.DB().QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		applied = append(applied, v)
	}
	rows.Close()
	ms, err := loadMigrations(sqliteDialect)
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, m := range ms {
		want = append(want, m.version)
	}
	if !slices.Equal(applied, want) {
		t.Errorf("schema versions %v, want %v", applied, want)
	}
	if _, err := s.Connection(ctx, "c-old"); err != nil {
		t.Errorf("the old connection: %v", err)
	}
	tw, err := s.Twin(ctx, nil, "c-old", "l1")
	if err != nil || tw.RemoteID != "r1" || tw.Fields["name"] != "x" {
		t.Errorf("the old twin: %+v, %v", tw, err)
	}
	c, err := s.EventCounts(ctx, "c-old")
	if err != nil || c.Out != 1 || c.Synchronized != 1 {
		t.Errorf("the old counters: %+v, %v", c, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// TestOpenPostgresKeepsThePasswordOutOfErrors: a database that cannot be
// reached, or a URL that does not parse, is an error naming the database
// without its password.
func TestOpenPostgresKeepsThePasswordOutOfErrors(t *testing.T) {
	for _, spec := range []string{
		"postgres://tandem:s3cret-pw@127.0.0.1:1/tandem?sslmode=disable&connect_timeout=5",
		"postgres://tandem:s3cret-pw@127.0.0.1:1/tandem?password=s3cret-pw&sslmode=disable",
		"postgres://tandem:s3cret-pw@127.0.0.1:notaport/tandem",
	} {
		_, err := Open(t.Context(), spec)
		if err == nil {
			t.Fatalf("Open(%s) succeeded", RedactURL(spec))
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// TestOpenPostgresSaysWhatToFix: each way a PostgreSQL database can't be
// used is one line naming the cause and what to do, wrapping
// ErrUnreachable (or ErrBadURL), never with the password. The cases the
// test server answers skip without one (pgtest).
func TestOpenPostgresSaysWhatToFix(t *testing.T) {
	type check struct {
		name, spec string
		want       []string
		is         error
	}
	checks := []check{
		{"server down", "postgres://tandem:s3cret-pw@127.0.0.1:1/tandem?sslmode=disable",
			[]string{"cannot reach the PostgreSQL server at 127.0.0.1:1", "connection refused", "check that it runs"}, ErrUnreachable},
		{"bad port", "postgres://tandem:s3cret-pw@localhost:99999/tandem",
			[]string{"postgres://USER:PASSWORD@HOST:PORT/DATABASE"}, ErrBadURL},
	}
	if pgtest.Available() {
		good, err := url.Parse(pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		wrongPassword := *good
		wrongPassword.User = url.UserPassword(good.User.Username(), "s3cret-pw")
		missing := *good
		missing.Path = "/no_such_db"
		checks = append(checks,
			check{"wrong password", wrongPassword.String(), []string{"refused the password of user", "check the URL's user and password"}, ErrUnreachable},
			check{"no such database", missing.String(), []string{`has no database "no_such_db"`, "createdb no_such_db"}, ErrUnreachable})
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(t.Context(), c.spec)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the error does not say %q", w)
				}
			}
			if !errors.Is(err, c.is) {
				t.Errorf("the error is not %v", c.is)
			}
			if strings.Contains(msg, "s3cret") || strings.Contains(msg, "\n") {
				t.Errorf("the error shows the password or spans lines")
			}
		})
	}
}

// TestRebindCached: a query run again is not rewritten again (no
// allocation), gives the same text, and the cache stops growing at its
// bound.
func TestRebindCached(t *testing.T) {
	var c rebindCache
	q := "SELECT a FROM t WHERE b = ? AND c = ?"
	if got := c.get(q, 2); got != "SELECT a FROM t WHERE b = $1 AND c = $2" {
		t.Fatalf("get = %q", got)
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = c.get(q, 2) }); allocs != 0 {
		t.Errorf("a cached query's rewrite allocated %v times a call", allocs)
	}
	if got := c.get(q, 1); got != q {
		t.Errorf("get with another count of arguments = %q, want the query unchanged", got)
	}
	for i := range rebindCacheSize + 10 {
		c.get(fmt.Sprintf("SELECT %d, ?", i), 1)
	}
	if n := c.n.Load(); n != rebindCacheSize {
		t.Errorf("cache holds %d queries, want its bound %d", n, rebindCacheSize)
	}
	if got := c.get("SELECT -1, ?", 1); got != "SELECT -1, $1" {
		t.Errorf("a query past the bound: %q", got)
	}
}
