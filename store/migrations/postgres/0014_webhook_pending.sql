-- 0014 on PostgreSQL: sqlite/0014_webhook_pending.sql translated (see 0001).

CREATE TABLE webhook_pending (
    token      TEXT PRIMARY KEY,
    project    TEXT NOT NULL,
    secret     BYTEA,
    created_at TEXT COLLATE "C" NOT NULL
);
