-- 0013 on PostgreSQL: sqlite/0013_node_key.sql translated (see 0001).

CREATE TABLE node_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key        BYTEA NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);
