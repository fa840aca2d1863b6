-- 0015: Bulk Exalates as durable work. A bulk is a job any replica may run
-- (River's tandem_bulk): it lists the connection's project and starts a
-- sync per item, recording each item it started in the transaction that
-- stores the item's sync, so a bulk run again after its replica died (or
-- the node restarted) resumes past the items it started, and an admin
-- request answers as soon as the bulk is queued.
--
-- bulks:
--   state:       'listing' until every item is started, then 'listed';
--                'failed' when the listing failed for good (error says why).
--   error:       the last try's error while listing; why it failed.
--   job_id:      the River job (tandem_bulk) that runs it: a bulk asked for
--                again whose job is gone (finished, discarded) gets a new one.
--   created_at:  when it was asked for; finished_at when it stopped listing.
-- bulk_items: the items a bulk started, seq in the order it started them;
--   listed_at:   the item's modification time in the listing it was started
--                from ('' when the listing had none), so a resumed run still
--                follows up on an item edited after it was listed.

CREATE TABLE bulks (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('listing', 'listed', 'failed')),
    error         TEXT NOT NULL DEFAULT '',
    job_id        BIGINT NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    finished_at   TEXT,
    PRIMARY KEY (connection_id, id)
);

CREATE TABLE bulk_items (
    connection_id TEXT NOT NULL,
    bulk_id       TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    event_id      TEXT NOT NULL,
    listed_at     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, bulk_id, entity_id),
    FOREIGN KEY (connection_id, bulk_id) REFERENCES bulks (connection_id, id) ON DELETE CASCADE
);

CREATE INDEX bulk_items_seq ON bulk_items (connection_id, bulk_id, seq);
