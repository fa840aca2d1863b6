-- 0005 on PostgreSQL: sqlite/0005_item_ops.sql translated (see 0001).

ALTER TABLE sync_events ADD COLUMN rules_version TEXT NOT NULL DEFAULT '';

CREATE TABLE unexalated (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    entity_id     TEXT NOT NULL,
    remote_key    TEXT NOT NULL DEFAULT '',
    at            TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (connection_id, entity_id)
);
