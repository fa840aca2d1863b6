-- 0008 on PostgreSQL: sqlite/0008_scripts.sql translated (see 0001).

CREATE TABLE scripts (
    connection_id TEXT    NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL CHECK (version >= 0),
    outgoing      TEXT    NOT NULL,
    incoming      TEXT    NOT NULL,
    at            TEXT    COLLATE "C" NOT NULL,
    note          TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, version)
);
