-- 0006 on PostgreSQL: sqlite/0006_resolved.sql translated (see 0001).

ALTER TABLE sync_events ADD COLUMN resolution TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_events ADD COLUMN resolved_at TEXT COLLATE "C";

CREATE INDEX sync_events_open ON sync_events (connection_id, created_at)
    WHERE stage != 'synchronized' AND resolved_at IS NULL;
