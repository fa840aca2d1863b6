-- 0011 on PostgreSQL: sqlite/0011_seen_times.sql translated (see 0001);
-- a PostgreSQL table has no rowid to leave out.

CREATE TABLE seen_times (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    local_id      TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('write', 'read', 'deferred')),
    at            TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (connection_id, local_id, kind, at)
);
