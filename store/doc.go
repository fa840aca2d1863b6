// Package store keeps a node's state in one SQLite file: embedded numbered
// migrations, typed queries per entity (instance, connections, invitations,
// nonces), and the River job queue on the same file.
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
// Times are stored as fixed-width RFC 3339 text in UTC (nanosecond digits
// always present) so that comparing the text in SQL compares the instants.
package store
