package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tandem-sync/tandem/store/pgtest"
)

// testEngine is one of the engines the store's behaviour is tested on.
// Tests of what the store does (not of how SQLite keeps its file) run on
// each: onEngines(t, testX) runs testX as the subtests sqlite and
// postgres; the postgres one skips without a test server (pgtest).
type testEngine struct {
	name string
	// empty returns what Open takes for a fresh, empty database: a file
	// in a temporary directory, or a new PostgreSQL database's URL.
	empty func(t testing.TB) string
	// spec returns what Open takes for a fresh database, maybe migrated
	// already (on PostgreSQL, a copy of one that was: migrating anew,
	// River's migrations above all, takes a second a database).
	spec func(t testing.TB) string
}

var testEngines = []testEngine{
	{name: "sqlite", empty: sqliteFile, spec: sqliteFile},
	{name: "postgres", empty: pgtest.URL, spec: migratedPostgres},
}

func sqliteFile(t testing.TB) string { return filepath.Join(t.TempDir(), "tandem.db") }

func migratedPostgres(t testing.TB) string {
	return pgtest.Template(t, "store", func(ctx context.Context, url string) error {
		s, err := Open(ctx, url)
		if err != nil {
			return err
		}
		return s.Close()
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

// onEngines runs fn once per engine, as a subtest named after it. It
// marks the test parallel: each run has a database of its own, and on
// PostgreSQL most of a test's time is waiting for the server.
func onEngines(t *testing.T, fn func(t *testing.T, e testEngine)) {
	t.Helper()
	t.Parallel()
	for _, e := range testEngines {
		t.Run(e.name, func(t *testing.T) { fn(t, e) })
	}
}

// open opens a store on a fresh database of this engine, closed at
// cleanup.
func (e testEngine) open(t testing.TB) *Store {
	t.Helper()
	return e.openAt(t, e.spec(t))
}

// openAt opens a store on spec (from e.spec), closed at cleanup.
func (e testEngine) openAt(t testing.TB, spec string) *Store {
	t.Helper()
	s, err := Open(t.Context(), spec)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}
