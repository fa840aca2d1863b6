package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/store/pgtest"
)

// openTest opens a fresh store in a temporary directory, closed at cleanup.
func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "tandem.db"))
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

func checkMode(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("mode of %s = %o, want 600", filepath.Base(path), got)
	}
}

func TestOpenFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "tandem.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	// A write makes sure the WAL file exists while the store is open.
	if err := s.CreateConnection(t.Context(), nil, testConnection("c1")); err != nil {
		t.Fatal(err)
	}
	checkMode(t, path)
	checkMode(t, path+"-wal")
	checkMode(t, path+"-shm")
}

func TestOpenTightensLooseMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tandem.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // past the umask
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	checkMode(t, path)
}

func TestOpenOddFileName(t *testing.T) {
	// '?' and '#' would end the path in the sqlite URI if not escaped.
	path := filepath.Join(t.TempDir(), "a?b#c%d.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "a?b#c%d.db") {
			t.Errorf("stray file %q", e.Name())
		}
	}
}

func TestPragmas(t *testing.T) {
	s := openTest(t)
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"synchronous":  "2", // FULL
		"busy_timeout": "10000",
	} {
		var got string
		if err := s.DB().QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
	if got := s.DB().Stats().MaxOpenConnections; got != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", got)
	}
}

func TestReopenAppliesNothingTwice(t *testing.T) { onEngines(t, testReopenAppliesNothingTwice) }

func testReopenAppliesNothingTwice(t *testing.T, e testEngine) {
	ctx := t.Context()
	path := e.empty(t)
	count := func(s *Store, table string) int {
		t.Helper()
		var n int
		if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		return n
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		t.Fatal(err)
	}
	tandem, river := count(s, "schema_migrations"), count(s, "river_migration")
	if tandem != len(ms) || river == 0 {
		t.Fatalf("after first open: %d tandem migrations (want %d), %d river migrations", tandem, len(ms), river)
	}
	if err := s.CreateConnection(ctx, nil, testConnection("kept")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if got := count(s, "schema_migrations"); got != tandem {
		t.Errorf("tandem migrations after reopen = %d, want %d", got, tandem)
	}
	if got := count(s, "river_migration"); got != river {
		t.Errorf("river migrations after reopen = %d, want %d", got, river)
	}
	if _, err := s.Connection(ctx, "kept"); err != nil {
		t.Errorf("data lost across reopen: %v", err)
	}
}

func TestNewerSchemaRefused(t *testing.T) { onEngines(t, testNewerSchemaRefused) }

func testNewerSchemaRefused(t *testing.T, e testEngine) {
	ctx := t.Context()
	path := e.spec(t)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// What a future tandem would leave behind.
	if _, err := s.DB().ExecContext(ctx,
		"INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', ?)",
		formatTime(time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of newer schema: err = %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{"9999", "newer", "upgrade tandem"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestIntegrityCheck(t *testing.T) { onEngines(t, testIntegrityCheck) }

func testIntegrityCheck(t *testing.T, e testEngine) {
	s := e.open(t)
	if err := s.IntegrityCheck(t.Context()); err != nil {
		t.Fatalf("IntegrityCheck: %v", err)
	}
}

func TestInTxRollsBack(t *testing.T) { onEngines(t, testInTxRollsBack) }

func testInTxRollsBack(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.CreateConnection(ctx, tx, testConnection("gone")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx err = %v, want boom", err)
	}
	if _, err := s.Connection(ctx, "gone"); !errors.Is(err, ErrNotFound) {
		t.Errorf("connection after rollback: err = %v, want ErrNotFound", err)
	}
}

func TestConcurrentWriters(t *testing.T) { onEngines(t, testConcurrentWriters) }

func testConcurrentWriters(t *testing.T, e testEngine) {
	spec := e.spec(t)
	s := e.openAt(t, spec)
	ctx := t.Context()
	if err := s.CreateConnection(ctx, nil, testConnection("c")); err != nil {
		t.Fatal(err)
	}
	// A second Store on the same database stands for a second process: its
	// writers meet the first's in SQLite's lock (or PostgreSQL's), not in
	// database/sql's pool.
	other, err := Open(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	const workers = 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		st := s
		if i%2 == 1 {
			st = other
		}
		wg.Go(func() {
			for j := range 5 {
				fresh, err := st.SeenNonce(ctx, "c", fmt.Sprintf("n-%d-%d", i, j), time.Now().Add(time.Minute))
				if err != nil {
					errs <- err
					return
				}
				if !fresh {
					errs <- fmt.Errorf("nonce n-%d-%d not fresh", i, j)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM nonces").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != workers*5 {
		t.Errorf("nonces stored = %d, want %d", n, workers*5)
	}
}

func TestConcurrentReadModifyWrite(t *testing.T) { onEngines(t, testConcurrentReadModifyWrite) }

func testConcurrentReadModifyWrite(t *testing.T, e testEngine) {
	spec := e.spec(t)
	s := e.openAt(t, spec)
	ctx := t.Context()
	if _, err := s.DB().ExecContext(ctx, "CREATE TABLE test_counter (n INTEGER NOT NULL); INSERT INTO test_counter VALUES (0)"); err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	// Read then write in one transaction from two "processes": with a
	// deferred BEGIN the second upgrade to writer fails with SQLITE_BUSY;
	// BEGIN IMMEDIATE makes the busy timeout queue them instead. On
	// PostgreSQL, read committed would lose updates; the writer lock
	// queues them.
	const workers, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		st := []*Store{s, other}[i%2]
		wg.Go(func() {
			for range rounds {
				err := st.InTx(ctx, func(tx *sql.Tx) error {
					var n int
					if err := tx.QueryRowContext(ctx, "SELECT n FROM test_counter").Scan(&n); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, "UPDATE test_counter SET n = ?", n+1)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := s.DB().QueryRowContext(ctx, "SELECT n FROM test_counter").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != workers*rounds {
		t.Errorf("counter = %d, want %d", n, workers*rounds)
	}
}

func TestTimeFormatOrders(t *testing.T) {
	a := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	b := a.Add(500 * time.Millisecond)
	if !(formatTime(a) < formatTime(b)) {
		t.Errorf("%s does not sort before %s", formatTime(a), formatTime(b))
	}
	local := b.In(time.FixedZone("X", 3600))
	got, err := parseTime(formatTime(local))
	if err != nil || !got.Equal(b) || got.Location() != time.UTC {
		t.Errorf("round trip of %v = %v, %v", local, got, err)
	}
}

func TestInTxPanicReleasesConnection(t *testing.T) { onEngines(t, testInTxPanicReleasesConnection) }

func testInTxPanicReleasesConnection(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	func() {
		defer func() { _ = recover() }()
		_ = s.InTx(ctx, func(tx *sql.Tx) error {
			if err := s.CreateConnection(ctx, tx, testConnection("p")); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	// With one connection, a transaction left open would block this forever;
	// the context deadline turns that into a failure.
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.Connection(ctx2, "p"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after panic: err = %v, want ErrNotFound (rolled back, connection free)", err)
	}
}

// TestPostgresPoolKeepsIdleConnections: connections a burst opened are
// kept for the next one, not closed as soon as they go idle (a new
// PostgreSQL connection is a server process, SCRAM and every statement
// prepared again). With 4 kept idle of 16, a burst of 16 closed 12.
func TestPostgresPoolKeepsIdleConnections(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.SkipMessage)
	}
	t.Parallel()
	s := testEngines[1].open(t)
	ctx := t.Context()
	for round := range 2 {
		conns := make([]*sql.Conn, postgresPoolSize)
		for i := range conns {
			c, err := s.DB().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns[i] = c
		}
		for _, c := range conns {
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		}
		st := s.DB().Stats()
		if st.MaxIdleClosed != 0 || st.Idle != postgresPoolSize {
			t.Fatalf("after burst %d of %d connections: %d idle, %d closed for being idle beyond the pool's keep, want %d and 0",
				round+1, postgresPoolSize, st.Idle, st.MaxIdleClosed, postgresPoolSize)
		}
	}
}

// TestPostgresWriterLock: the store's transactions hold the writer lock
// from their first statement (taken with BEGIN, in one round trip);
// other transactions on the pool (River's) do not; and a transaction whose
// context ends while it waits for the lock fails without leaving the pool
// a connection stuck in a transaction.
func TestPostgresWriterLock(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.SkipMessage)
	}
	t.Parallel()
	s := testEngines[1].open(t)
	ctx := t.Context()
	free := func() bool {
		t.Helper()
		var got bool
		if err := s.DB().QueryRowContext(ctx, "SELECT pg_try_advisory_xact_lock(?)", writerLockKey).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if err := s.InTx(ctx, func(*sql.Tx) error {
		if free() {
			t.Error("the writer lock is free inside InTx")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !free() {
		t.Error("a transaction begun without the store's options holds the writer lock")
	}
	_ = tx.Rollback()

	// One transaction holds the lock; another waits for it and gives up.
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(*sql.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	waitCtx, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- s.InTx(waitCtx, func(*sql.Tx) error { return nil }) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'BEGIN; SELECT pg_advisory_xact_lock%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second transaction never waited for the writer lock")
		}
		runtime.Gosched()
	}
	cancel()
	if err := <-gaveUp; err == nil {
		t.Error("a transaction whose context ended while waiting for the writer lock succeeded")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Every connection the pool hands out afterwards is usable and
	// outside any transaction.
	for i := range 2 * postgresPoolSize {
		if err := s.InTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "SELECT ?::int", i)
			return err
		}); err != nil {
			t.Fatalf("transaction %d after the one that gave up: %v", i, err)
		}
	}
}
