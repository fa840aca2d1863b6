package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when the requested row does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when creating a row that already exists.
var ErrExists = errors.New("already exists")

// ErrSchemaTooNew is returned by Open for a database that a newer tandem has
// migrated: this binary does not know its schema and must not write to it.
var ErrSchemaTooNew = errors.New("database schema is newer than this tandem")

// fileMode keeps the node's state (hashed tokens, encrypted keys, the queue)
// private to the user running the node.
const fileMode os.FileMode = 0o600

// Store is the node's database: a SQLite file or a PostgreSQL database.
// It is safe for concurrent use.
type Store struct {
	db *sql.DB
	// path is the SQLite file, or the PostgreSQL URL without its
	// password: what messages name.
	path    string
	dialect *dialect
	// listener is the pgx pool River listens on (PostgreSQL only).
	listener *pgxpool.Pool
	// locks are the locks replicas share (PostgreSQL only; locks.go).
	locks *Locks
}

// Open opens the node's database, brings its schema up to date (tandem's
// migrations, then River's) and returns it. path is a SQLite file, created
// if needed, or a postgres:// URL (IsDatabaseURL) of an existing database.
// A database migrated by a newer tandem is refused with ErrSchemaTooNew.
func Open(ctx context.Context, path string) (*Store, error) {
	if IsDatabaseURL(path) {
		return openPostgresStore(ctx, path)
	}
	if err := prepareFile(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// SQLite has one writer; a single connection turns contention into
	// queueing in database/sql instead of SQLITE_BUSY, as River's SQLite
	// driver recommends.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path, dialect: sqliteDialect}
	if err := s.init(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// openPostgresStore opens and migrates a PostgreSQL database.
func openPostgresStore(ctx context.Context, spec string) (*Store, error) {
	name := RedactURL(spec)
	db, listener, err := openPostgres(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	s := &Store{db: db, path: name, dialect: postgresDialect, listener: listener}
	if s.locks, err = openLocks(spec, s); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	if err := s.init(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// init checks that the connection settings took effect and migrates.
func (s *Store) init(ctx context.Context) error {
	if s.dialect.postgres() {
		return s.migrate(ctx) // openPostgres connected already
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("open database %s: %w", s.path, err)
	}
	// SQLite silently keeps another journal mode where WAL is unavailable
	// (some network file systems); durability assumptions rest on WAL.
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open database %s: journal mode is %q, want wal", s.path, mode)
	}
	return s.migrate(ctx)
}

// migrate applies tandem's migrations, then River's. On PostgreSQL it
// holds a session-level advisory lock meanwhile: replicas starting at once
// on one database migrate one after the other (River's migrations, run in
// two sessions at once, fail on the types they both create), the later
// ones finding nothing left to do.
func (s *Store) migrate(ctx context.Context) error {
	if s.dialect.postgres() {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrate database %s: %w", s.path, err)
		}
		// Closed, not returned to the pool: its session, and the lock
		// with it, ends.
		defer discard(conn)
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(?)`, roleKey("migrate")); err != nil {
			return fmt.Errorf("migrate database %s: waiting for another replica's migration: %w", s.path, err)
		}
	}
	if err := migrate(ctx, s.db, s.dialect); err != nil {
		return fmt.Errorf("migrate database %s: %w", s.path, err)
	}
	if err := migrateRiver(ctx, s.riverDriver()); err != nil {
		return fmt.Errorf("migrate database %s: %w", s.path, err)
	}
	return nil
}

// prepareFile creates the database file with mode 0600 before SQLite does
// (SQLite would honour the umask, typically giving 0644) and tightens the mode
// of an existing file and its WAL companions, which SQLite creates with the
// main file's mode.
func prepareFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create directory for database %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, fileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("set mode of database file %s: %w", p, err)
		}
	}
	return nil
}

// stmtCacheSize is how many prepared statements the connection keeps, keyed
// by query text (go-sqlite3's _stmt_cache_size; off by default). Every query
// the store and River's driver run is fixed text with placeholders, so
// after the first sync each one is prepared once per connection instead of
// on every call: sqlite3_prepare_v2 was 18% of the engine's CPU. The store
// has a few dozen queries and River a few dozen more; 256 keeps them all,
// least recently used out first.
const stmtCacheSize = 256

// dsn builds the go-sqlite3 URI for path. Characters that end or escape the
// path in a URI are percent-encoded so that any file name works.
func dsn(path string) string {
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped +
		"?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=10000&_synchronous=FULL&_txlock=immediate" +
		"&_stmt_cache_size=" + strconv.Itoa(stmtCacheSize)
}

// Close closes the database. River clients built on it must be stopped first.
func (s *Store) Close() error {
	if s.listener != nil {
		s.listener.Close()
	}
	if s.locks != nil {
		s.locks.close()
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", s.path, err)
	}
	return nil
}

// DB returns the underlying pool for callers that need raw access, such as
// River's driver. On SQLite it has a single connection; see the package
// documentation. On PostgreSQL its statements may use ? placeholders too.
func (s *Store) DB() *sql.DB { return s.db }

// InTx runs fn in one write transaction (BEGIN IMMEDIATE on SQLite, the
// writer lock on PostgreSQL), committing if fn returns nil and rolling back
// otherwise. fn must use only tx: on SQLite the pool's one connection is
// held by tx until fn returns.
func (s *Store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	// Deferred so that a panic in fn still returns the pool's only
	// connection; after Commit it is a no-op.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// beginTx begins one of the store's transactions (see InTx).
func (s *Store) beginTx(ctx context.Context) (*sql.Tx, error) {
	return beginTx(ctx, s.db, s.dialect)
}

func beginTx(ctx context.Context, db *sql.DB, d *dialect) (*sql.Tx, error) {
	tx, err := db.BeginTx(ctx, d.writeTx)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return tx, nil
}

// inTx runs fn in tx when the caller passed one, otherwise in a transaction of
// its own. Methods taking a *sql.Tx use it so that nil means "on its own".
func (s *Store) inTx(ctx context.Context, tx *sql.Tx, fn func(tx *sql.Tx) error) error {
	if tx != nil {
		return fn(tx)
	}
	return s.InTx(ctx, fn)
}

// IntegrityCheck runs PRAGMA integrity_check and returns an error carrying
// SQLite's findings unless the database is intact. PostgreSQL keeps its own
// pages whole (WAL, checksums); there it checks that the database answers.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	if s.dialect.postgres() {
		if err := s.db.PingContext(ctx); err != nil {
			return fmt.Errorf("integrity check of %s: %w", s.path, err)
		}
		return nil
	}
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check of %s: %w", s.path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("integrity check of %s: %w", s.path, err)
		}
		problems = append(problems, line)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check of %s: %w", s.path, err)
	}
	if len(problems) == 1 && problems[0] == "ok" {
		return nil
	}
	return fmt.Errorf("integrity check of %s failed: %s", s.path, strings.Join(problems, "; "))
}

// timeLayout is RFC 3339 with all nine fractional digits and a literal Z.
// RFC3339Nano drops trailing zeros, which breaks ordering of the text ("…05Z"
// sorts after "…05.5Z"); a fixed width keeps text order equal to time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// formatTime renders t for storage in UTC; the zero time reads back as zero.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTime reads a stored time; "" (a NULL column) is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// execOne runs an UPDATE or DELETE that must touch exactly one row, turning
// "no row" into ErrNotFound.
func execOne(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
