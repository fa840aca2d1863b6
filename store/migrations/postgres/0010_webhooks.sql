-- 0010 on PostgreSQL: sqlite/0010_webhooks.sql translated (see 0001).

CREATE TABLE webhooks (
    project    TEXT PRIMARY KEY,
    token      TEXT NOT NULL UNIQUE,
    tracker_id TEXT NOT NULL,
    secret     BYTEA NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);
