-- 0006: syncs an admin resolved. A failing sync is retried until it
-- succeeds; resolving one stops that, with the admin's reason, shown in
-- the item's history (never a silent drop). A resolved sync is finished
-- for ordering and for the queue, whatever stage it stopped at.

ALTER TABLE sync_events ADD COLUMN resolution TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_events ADD COLUMN resolved_at TEXT;

-- The open syncs (neither Synchronized nor resolved): the queue, the
-- errors and the connections' counts read only these, however many
-- finished syncs the node keeps.
CREATE INDEX sync_events_open ON sync_events (connection_id, created_at)
    WHERE stage != 'synchronized' AND resolved_at IS NULL;
