// Package store keeps a node's state: embedded numbered migrations, typed
// queries per entity (instance, connections, invitations, nonces, twins,
// links, events, rules, stats), and the River job queue in the same
// database. The database is one SQLite file (the default) or a PostgreSQL
// database (Open with a postgres:// URL), for a node whose replicas share
// it (issue 18; the engine runs on it in a later step).
//
// # SQLite
//
// The file is opened with one connection (SQLite has one writer, and River's
// SQLite driver wants it), WAL, foreign keys, synchronous=FULL and BEGIN
// IMMEDIATE for every transaction, and keeps each query's prepared
// statement for the next call (go-sqlite3's statement cache, keyed by the
// query text: queries are fixed text with placeholders, never values
// spliced in, or the cache would fill with one-offs). Because the pool
// holds a single connection, code running inside a transaction (InTx, or a
// method given a *sql.Tx) must do all its database work through that
// transaction: a call that reaches for the pool instead waits for the
// connection the transaction holds and deadlocks until its context ends.
//
// # Two engines, one set of queries
//
// The queries are written once, in SQL both engines run, with ?
// placeholders, and run through database/sql on both: mattn/go-sqlite3 on
// SQLite, pgx (its stdlib driver) on PostgreSQL. What differs is kept in
// two places and nowhere else:
//
//   - dialect.go: on PostgreSQL the connections rewrite ? to $1, $2… (a
//     query already in $n form, such as River's, is left alone; each
//     query's rewrite is cached); every transaction the store begins takes
//     one advisory lock in the same round trip as its BEGIN, so the
//     store's transactions run one at a time as BEGIN IMMEDIATE makes them
//     on SQLite (a read-then-write in one transaction keeps its guarantee
//     across connections and processes); the pool keeps the connections
//     it opened (a new one costs a server process and re-preparing every
//     statement; pgx keeps each connection's prepared statements by
//     query text); constraint errors are classified
//     for both (isDuplicate, isForeignKey); and River's driver is chosen.
//   - the migrations: migrations/sqlite and migrations/postgres, the same
//     numbers and names (TestMigrationsMatch). A migration is written for
//     SQLite and translated: BLOB is BYTEA, the 0/1 flags are BOOLEAN,
//     times are TEXT COLLATE "C", tables ordered by SQLite's rowid get a
//     rowid identity column, triggers become PL/pgSQL functions. The
//     schema_migrations bookkeeping is the same on both, and an existing
//     node's SQLite database, migrated when the files lived in migrations/,
//     opens unchanged (TestOpenOldLayoutDatabase).
//
// One difference the code must mind: after a failed statement PostgreSQL
// aborts the transaction, where SQLite lets it go on; a transaction must
// not carry on past a store error (none does: an error ends InTx).
//
// # River
//
// On SQLite River runs on riversqlite; on PostgreSQL on riverdatabasesql
// (NewWithPgxListener), which works on the store's own *sql.DB and *sql.Tx,
// so the River client is a river.Client[*sql.Tx] on both engines and the
// engine inserts jobs with InsertTx in the store's transactions as before,
// unaware of the engine. Its notifications (LISTEN/NOTIFY: jobs fetched as
// soon as they are inserted, prompt leader election) would come through a
// small pgx pool of the store's, made for it; the client polls for now
// (see NewRiverClient). riverpgxv5 would need pgx.Tx transactions, a
// second code path through every query taking a transaction.
//
// # Replicas
//
// Several processes may work one PostgreSQL database as one node
// (Shared): replicas.go keeps what they share that is not data — the node
// key (NodeKey, inserted if absent, then read), roles one of them plays at
// a time (TryLead: a session-level advisory lock, freed by the server when
// the holder's session ends) and which River clients are alive
// (HoldReplica, RequeueOrphaned). Migrations run under a session lock, so
// replicas starting at once migrate one after the other.
//
// Times are stored as fixed-width RFC 3339 text in UTC (nanosecond digits
// always present) so that comparing the text in SQL compares the instants.
package store
