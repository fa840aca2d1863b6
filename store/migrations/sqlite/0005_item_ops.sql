-- 0005: item operations. The rules version each sync ran under (Basic
-- records "basic"; Script mode its published version), shown in an
-- item's history; and the items a user unexalated, per connection, so
-- change detection leaves them alone until a user exalates one again.

ALTER TABLE sync_events ADD COLUMN rules_version TEXT NOT NULL DEFAULT '';

CREATE TABLE unexalated (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    -- The local entity whose twin link was removed.
    entity_id     TEXT NOT NULL,
    -- The twin it had, for the item's history.
    remote_key    TEXT NOT NULL DEFAULT '',
    at            TEXT NOT NULL,
    PRIMARY KEY (connection_id, entity_id)
);
