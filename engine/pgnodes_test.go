package engine_test

import (
	"context"
	"os"
	"testing"

	"github.com/tandem-sync/tandem/store"
	"github.com/tandem-sync/tandem/store/pgtest"
)

// The engine's tests start nodes on SQLite files; with
// TANDEM_TEST_NODES=postgres and a test server (pgtest) each node gets a
// PostgreSQL database of its own instead, through Config.Database alone:
// the engine does not know which it runs on, and the same tests must
// pass on both. .ci/run runs the pair tests so.

// nodeDatabase is the database a new test node opens: "" (the SQLite file
// in its data dir) unless nodes run on PostgreSQL, then a fresh database,
// a copy of one already migrated, dropped when t ends.
func nodeDatabase(t *testing.T) string {
	t.Helper()
	if !pgtest.NodesOnPostgres() {
		return ""
	}
	return pgtest.Template(t, "node", func(ctx context.Context, url string) error {
		st, err := store.Open(ctx, url)
		if err != nil {
			return err
		}
		return st.Close()
	})
}

// parallelOnPostgres marks t parallel when the nodes run on PostgreSQL:
// the pair tests' subtests each have their own nodes, sandboxes and
// databases, and spend most of their time waiting, so on PostgreSQL (in
// .ci/run's tight budget) the pairs run at once. On SQLite they run one
// after the other as always.
func parallelOnPostgres(t *testing.T) {
	if pgtest.NodesOnPostgres() {
		t.Parallel()
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}
