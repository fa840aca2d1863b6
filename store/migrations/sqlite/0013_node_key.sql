-- 0013: the node's master key, kept in the database where several
-- processes share it (PostgreSQL: `tandem serve` replicas with one
-- --database are one node and must seal and open secrets alike). On
-- SQLite the key stays in node.key beside the database file, so that a
-- copy of the file alone opens no secret, and this table stays empty.
--
-- id:         always 1: a node has one key.
-- key:        the 32-byte AES-256 key.
-- created_at: when the first replica to start stored it.

CREATE TABLE node_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key        BLOB NOT NULL,
    created_at TEXT NOT NULL
);
