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
	"fmt"
	"net/url"
	"os"
	"sync"
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

// NodesEnv, set to "postgres", has the tests that start whole nodes
// (engine's, the crash test) give each node a database of its own on the
// test server instead of a SQLite file:
//
//	.ci/postgres env TANDEM_TEST_NODES=postgres go test -run TestTrackerPairs ./engine
//
// Without it they run on SQLite as always, server or not, so that the
// store suite's run does not take every node test along; with it and no
// server they skip (SkipMessage).
const NodesEnv = "TANDEM_TEST_NODES"

// NodesOnPostgres reports whether NodesEnv asks for nodes on PostgreSQL.
func NodesOnPostgres() bool { return os.Getenv(NodesEnv) == "postgres" }

// URL creates an empty database with a random name on the test server and
// returns its URL; the database is dropped when t ends. Without a server
// it skips t.
func URL(t testing.TB) string {
	t.Helper()
	return create(t, "")
}

// templates are the databases Template prepared in this process, by key.
var templates sync.Map // key → *template

type template struct {
	once sync.Once
	name string
	err  error
}

// Template is URL for a database that starts as a copy of one prepare
// made: the first call with a key creates a database, runs prepare on its
// URL (migrations, say) and keeps it as the template of every later
// database with that key, which PostgreSQL copies much faster than prepare
// would run again. prepare must close its connections to the database
// before it returns. DropTemplates removes the templates.
func Template(t testing.TB, key string, prepare func(ctx context.Context, url string) error) string {
	t.Helper()
	base := server(t)
	v, _ := templates.LoadOrStore(key, &template{})
	tpl := v.(*template)
	tpl.once.Do(func() {
		tpl.name = randomName("tandem_tpl_")
		tpl.err = func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if err := execAdmin(ctx, base, "CREATE DATABASE "+tpl.name); err != nil {
				return err
			}
			return prepare(ctx, withDatabase(base, tpl.name))
		}()
	})
	if tpl.err != nil {
		t.Fatalf("pgtest: prepare template %s: %v", key, tpl.err)
	}
	return create(t, tpl.name)
}

// DropTemplates drops the databases Template made; a TestMain calls it
// after m.Run.
func DropTemplates() {
	base := os.Getenv(Env)
	if base == "" {
		return
	}
	templates.Range(func(_, v any) bool {
		tpl := v.(*template)
		if tpl.name != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_ = execAdmin(ctx, base, "DROP DATABASE IF EXISTS "+tpl.name+" WITH (FORCE)")
			cancel()
		}
		return true
	})
}

// server returns the test server's URL, or skips t.
func server(t testing.TB) string {
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
	return base
}

// create makes a database (from template, if not empty) dropped when t
// ends, and returns its URL.
func create(t testing.TB, template string) string {
	t.Helper()
	base := server(t)
	name := randomName("tandem_test_")
	q := "CREATE DATABASE " + name
	if template != "" {
		q += " TEMPLATE " + template
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := execAdmin(ctx, base, q); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a pool the test leaked must not keep the database.
		if err := execAdmin(ctx, base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return withDatabase(base, name)
}

// admin is the connection pool to the server's own database, shared by
// the tests of a process.
var admin struct {
	sync.Mutex
	db *sql.DB
}

func execAdmin(ctx context.Context, base, query string) error {
	admin.Lock()
	if admin.db == nil {
		db, err := sql.Open("pgx", base)
		if err != nil {
			admin.Unlock()
			return fmt.Errorf("open the test server: %w", err)
		}
		db.SetMaxIdleConns(2)
		admin.db = db
	}
	db := admin.db
	admin.Unlock()
	if _, err := db.ExecContext(ctx, query); err != nil {
		return fmt.Errorf("%s: %w", query, err)
	}
	return nil
}

func randomName(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func withDatabase(base, name string) string {
	u, _ := url.Parse(base) // server checked it
	u.Path = "/" + name
	return u.String()
}
