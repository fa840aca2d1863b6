package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
)

// Each engine has its own numbered migrations, migrations/sqlite and
// migrations/postgres, with the same numbers and names: a migration is
// written for SQLite and translated for PostgreSQL (TestMigrationsMatch).
// The whole directory is embedded so that a file left at its top, where
// migrations lived before there were two engines, is refused rather than
// skipped.
//
//go:embed migrations
var migrationFS embed.FS

// migration is one numbered file under migrations/<engine>/: NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order and rejects
// misnamed or duplicate files, which would otherwise be skipped silently.
func loadMigrations(d *dialect) ([]migration, error) {
	top, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	for _, e := range top {
		if !e.IsDir() {
			return nil, fmt.Errorf("migration file %s: migrations live in migrations/sqlite and migrations/postgres, one for each engine", e.Name())
		}
	}
	dir := "migrations/" + d.name
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".sql")
		num, name, ok2 := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || !ok2 || err != nil || version <= 0 || name == "" {
			return nil, fmt.Errorf("migration file %s: name must be NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFS, dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: version, name: name, sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migration version %d appears twice", ms[i].version)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no embedded migrations")
	}
	return ms, nil
}

// migrate applies tandem's pending migrations, each in its own transaction
// together with its schema_migrations row, after refusing a database whose
// schema is newer than this binary's.
func migrate(ctx context.Context, db *sql.DB, d *dialect) error {
	ms, err := loadMigrations(d)
	if err != nil {
		return err
	}
	// In a transaction of the store's: on PostgreSQL, two replicas
	// starting at once must not both create the table.
	tx, err := beginTx(ctx, db, d)
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := db.QueryRowContext(ctx,
		"SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if latest := ms[len(ms)-1].version; current > latest {
		return fmt.Errorf("%w: the database is at schema version %d, this tandem knows up to %d; upgrade tandem to open it",
			ErrSchemaTooNew, current, latest)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, d, m); err != nil {
			return err
		}
	}
	return nil
}

// applyMigration applies m unless it is recorded already. The check runs
// inside the store's transaction (BEGIN IMMEDIATE, or the writer lock on
// PostgreSQL) so that two processes opening the same database at once
// cannot both apply it.
func applyMigration(ctx context.Context, db *sql.DB, d *dialect, m migration) error {
	tx, err := beginTx(ctx, db, d)
	if err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx,
		"SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx,
		"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, formatTime(time.Now())); err != nil {
		return fmt.Errorf("migration %04d_%s: record: %w", m.version, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %04d_%s: commit: %w", m.version, m.name, err)
	}
	return nil
}

// migrateRiver brings River's own tables (river_job, river_leader, …) up to
// the latest version the store's River driver ships.
func migrateRiver(ctx context.Context, driver riverdriver.Driver[*sql.Tx]) error {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{
		// The store never prints; River's default logger writes to stdout.
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}
