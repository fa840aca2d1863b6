package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// The store speaks two SQL dialects, SQLite's and PostgreSQL's, with one
// set of queries. What differs between them is here, and in the
// migrations (migrations/sqlite and migrations/postgres); see the package
// documentation.

// dialect is what the store does differently on each engine.
type dialect struct {
	// name is the engine's name and its migrations' directory.
	name string
	// writeTx, if not nil, are the options every transaction the store
	// begins (InTx, migrations) is begun with.
	writeTx *sql.TxOptions
}

var (
	sqliteDialect = &dialect{name: "sqlite"}
	// On PostgreSQL every transaction the store begins first takes one
	// transaction-level advisory lock, so the store's transactions run one
	// at a time as SQLite's BEGIN IMMEDIATE makes them: every
	// read-then-write in one transaction keeps the guarantee it has on
	// SQLite, across connections and processes. Statements outside a
	// transaction, and River's own transactions, do not take it. The
	// isolation level writerTxLevel asks rebindConn.BeginTx for it, in
	// the same round trip as BEGIN.
	postgresDialect = &dialect{name: "postgres", writeTx: &sql.TxOptions{Isolation: writerTxLevel}}
)

// writerTxLevel is no isolation level of database/sql's: passed to BeginTx
// on the store's PostgreSQL pool, it begins a read committed transaction
// holding the writer lock (beginWriterQuery).
const writerTxLevel sql.IsolationLevel = 1 << 20

// beginWriterQuery begins a transaction and takes the writer lock in one
// statement string, one round trip to the server where BEGIN and the lock
// apart were two: the store begins about fifteen transactions per synced
// task.
var beginWriterQuery = "BEGIN; SELECT pg_advisory_xact_lock(" + strconv.FormatInt(writerLockKey, 10) + ")"

// writerLockKey is the advisory lock the store's PostgreSQL transactions
// take (an arbitrary constant: "tandem" in ASCII).
const writerLockKey int64 = 0x74616e64656d

func (d *dialect) postgres() bool { return d == postgresDialect }

// IsDatabaseURL says whether spec names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsDatabaseURL(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// RedactURL is a PostgreSQL URL fit for messages and logs: its password,
// in the user part or the query, replaced by xxxxx.
func RedactURL(spec string) string {
	u, err := url.Parse(spec)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// postgresPoolSize bounds the store's connections to PostgreSQL. The pool
// keeps as many idle as it may open: a connection closed because more were
// idle than kept had to be opened again at the next burst of syncs, and on
// PostgreSQL that is a new server process, a SCRAM exchange and every
// statement prepared anew, paid in both processes (issue 18's profile: 3%
// of a node's CPU in connecting alone). Idle ones still go after
// postgresIdleTime, so a replica done with a burst gives its sessions back.
const (
	postgresPoolSize = 16
	postgresIdleTime = 5 * time.Minute
)

// openPostgres opens the pool the store's queries use (pgx through
// database/sql, with the store's ? placeholders rewritten) and the pgx
// pool River listens for notifications on.
func openPostgres(ctx context.Context, spec string) (*sql.DB, *pgxpool.Pool, error) {
	cfg, err := parseURL(spec)
	if err != nil {
		return nil, nil, err
	}
	db := sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(postgresPoolSize)
	db.SetMaxIdleConns(postgresPoolSize)
	db.SetConnMaxIdleTime(postgresIdleTime)
	// Connect now, so that a server down, a password refused or a
	// database missing is said at once, in words (connectError).
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, nil, connectError(err, cfg)
	}
	pcfg, err := pgxpool.ParseConfig(spec)
	if err != nil {
		_ = db.Close()
		return nil, nil, ErrBadURL
	}
	// River hijacks one connection per client for LISTEN; see
	// riverdatabasesql.NewWithPgxListener.
	pcfg.MinConns = 0
	pcfg.MaxConns = 2
	listener, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		_ = db.Close()
		return nil, nil, connectError(err, cfg)
	}
	return db, listener, nil
}

// riverDriver is River's driver for this store: riversqlite on SQLite;
// on PostgreSQL riverdatabasesql, which runs on the same *sql.DB and
// *sql.Tx as the store (so jobs are inserted in the store's transactions
// and River's client stays a river.Client[*sql.Tx] on both engines), with
// a pgx pool for LISTEN/NOTIFY.
func (s *Store) riverDriver() riverdriver.Driver[*sql.Tx] {
	if s.dialect.postgres() {
		return riverdatabasesql.NewWithPgxListener(s.db, s.listener)
	}
	return riversqlite.New(s.db)
}

// isDuplicate reports whether err is a primary key or unique violation.
func isDuplicate(err error) bool {
	return isConstraint(err, sqlite3.ErrConstraintPrimaryKey) ||
		isConstraint(err, sqlite3.ErrConstraintUnique) ||
		pgCode(err) == "23505" // unique_violation
}

// isForeignKey reports whether err is a foreign key violation.
func isForeignKey(err error) bool {
	return isConstraint(err, sqlite3.ErrConstraintForeignKey) ||
		pgCode(err) == "23503" // foreign_key_violation
}

// isConstraint reports whether err is an SQLite constraint violation with the
// given extended code (such as sqlite3.ErrConstraintPrimaryKey).
func isConstraint(err error, code sqlite3.ErrNoExtended) bool {
	var serr sqlite3.Error
	return errors.As(err, &serr) && serr.ExtendedCode == code
}

// pgCode is PostgreSQL's SQLSTATE for err, or "".
func pgCode(err error) string {
	var perr *pgconn.PgError
	if errors.As(err, &perr) {
		return perr.Code
	}
	return ""
}

// rebindConnector hands out pgx's database/sql connections with the
// store's ? placeholders rewritten to PostgreSQL's $1, $2…: the queries
// are written once, in the placeholders both SQLite and database/sql
// callers use, and the rewrite happens in this one place for every
// statement on the pool or in a transaction (the engine's tests' raw
// queries included).
type rebindConnector struct{ driver.Connector }

func (c rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(*stdlib.Conn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("pgx stdlib returned a %T", conn)
	}
	return rebindConn{pc}, nil
}

// rebindConn is pgx's connection with the rewrite: the embedded
// *stdlib.Conn keeps everything else (transactions, pings, session reset,
// and CheckNamedValue, which lets pgx encode any argument it knows).
type rebindConn struct{ *stdlib.Conn }

func (c rebindConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(rebinds.get(query, -1))
}

func (c rebindConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebinds.get(query, -1))
}

func (c rebindConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebinds.get(query, len(args)), args)
}

func (c rebindConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebinds.get(query, len(args)), args)
}

// rebindCache keeps each query's rewrite: the store's and River's queries
// are a few hundred fixed texts run again and again, and rewriting one
// anew (a scan and a copy of its text) on every call was 2% of a node's
// CPU on PostgreSQL. It stops adding at rebindCacheSize entries, so a
// caller splicing values into its queries cannot grow it without bound
// (those queries are rewritten on every call, as before).
type rebindCache struct {
	m sync.Map // rebindKey → string
	n atomic.Int64
}

type rebindKey struct {
	query string
	nargs int
}

const rebindCacheSize = 4096

var rebinds rebindCache

func (c *rebindCache) get(query string, nargs int) string {
	if !strings.Contains(query, "?") {
		return query
	}
	k := rebindKey{query, nargs}
	if v, ok := c.m.Load(k); ok {
		return v.(string)
	}
	out := rebind(query, nargs)
	if c.n.Load() < rebindCacheSize {
		if _, loaded := c.m.LoadOrStore(k, out); !loaded {
			c.n.Add(1)
		}
	}
	return out
}

// BeginTx begins a transaction; with writerTxLevel, one that holds the
// writer lock (beginWriterQuery), in the same round trip as BEGIN. Other
// options (River's transactions) go to pgx as they are.
func (c rebindConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if sql.IsolationLevel(opts.Isolation) != writerTxLevel {
		return c.Conn.BeginTx(ctx, opts)
	}
	if opts.ReadOnly {
		return nil, errors.New("the writer lock's transactions are read-write")
	}
	pc := c.Conn.Conn()
	if pc.IsClosed() {
		return nil, driver.ErrBadConn
	}
	// If the lock is not taken (the context ends while it waits), the
	// transaction BEGIN opened is left aborted and pgx returns no Tx:
	// the connection's next ResetSession finds it not idle and
	// database/sql drops it.
	tx, err := pc.BeginTx(ctx, pgx.TxOptions{BeginQuery: beginWriterQuery})
	if err != nil {
		return nil, err
	}
	return pgxTx{ctx: ctx, tx: tx}, nil
}

// pgxTx is a pgx transaction as database/sql's driver sees one (as pgx's
// stdlib wraps its own).
type pgxTx struct {
	ctx context.Context
	tx  pgx.Tx
}

func (t pgxTx) Commit() error   { return t.tx.Commit(t.ctx) }
func (t pgxTx) Rollback() error { return t.tx.Rollback(t.ctx) }

// rebind rewrites query's ? placeholders to $1, $2… and returns any other
// query unchanged: one already in PostgreSQL's form (a $n outside quotes,
// such as River's, whose jsonb ? operator must stay), or one whose ?
// outside quotes and comments do not number nargs (nargs < 0: any number,
// for Prepare). Quoted strings, quoted identifiers, dollar-quoted bodies
// and comments are copied as they are.
func rebind(query string, nargs int) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); {
		ch := query[i]
		switch {
		case ch == '\'' || ch == '"':
			j := i + 1
			for j < len(query) {
				if query[j] == ch {
					if j+1 < len(query) && query[j+1] == ch { // doubled: escaped
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(query))
			b.WriteString(query[i:end])
			i = end
		case ch == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j
		case ch == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			end := len(query)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(query[i:end])
			i = end
		case ch == '$':
			if i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9' {
				return query // PostgreSQL's placeholders already
			}
			// A dollar-quoted body: $tag$ … $tag$.
			k := i + 1
			for k < len(query) && (query[k] == '_' || isAlnum(query[k])) {
				k++
			}
			if k < len(query) && query[k] == '$' {
				tag := query[i : k+1]
				j := strings.Index(query[k+1:], tag)
				end := len(query)
				if j >= 0 {
					end = k + 1 + j + len(tag)
				}
				b.WriteString(query[i:end])
				i = end
				continue
			}
			b.WriteByte(ch)
			i++
		case ch == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			i++
		default:
			b.WriteByte(ch)
			i++
		}
	}
	if n == 0 || (nargs >= 0 && n != nargs) {
		return query
	}
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
