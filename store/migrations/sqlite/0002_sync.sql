-- 0002: what the sync pipeline records. A twin links an entity here with
-- its twin on the other side of a connection; item_links do the same for
-- comments and attachments. sync_events are the syncs themselves, one per
-- sync of one entity, and stage_log every stage each went through.

CREATE TABLE twins (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    local_id      TEXT NOT NULL,
    remote_id     TEXT NOT NULL,
    local_key     TEXT NOT NULL DEFAULT '',
    local_url     TEXT NOT NULL DEFAULT '',
    remote_key    TEXT NOT NULL DEFAULT '',
    remote_url    TEXT NOT NULL DEFAULT '',
    -- JSON object: field name → fingerprint of this side's value when it
    -- was last synced (sent or applied). A value that still matches was
    -- not changed by a user since, so it is never sent back (no echo).
    fields        TEXT NOT NULL DEFAULT '{}',
    -- Set when the entity here, or its twin on the other side, was
    -- deleted: deletes are recorded and shown, never propagated.
    local_deleted  INTEGER NOT NULL DEFAULT 0,
    remote_deleted INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (connection_id, local_id),
    UNIQUE (connection_id, remote_id)
);

CREATE TABLE item_links (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('comment', 'attachment')),
    local_id      TEXT NOT NULL,
    remote_id     TEXT NOT NULL,
    -- The local entity the item belongs to.
    entity_id     TEXT NOT NULL,
    -- Fingerprint of the local item's content when last synced (a comment's
    -- body, an attachment's sha256).
    fingerprint   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, kind, local_id),
    UNIQUE (connection_id, kind, remote_id)
);

CREATE TABLE sync_events (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    direction     TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    -- The local entity; '' for an incoming event not applied yet.
    entity_id     TEXT NOT NULL DEFAULT '',
    stage         TEXT NOT NULL,
    error         TEXT NOT NULL DEFAULT '',
    next_retry_at TEXT,
    -- The replica sent (out) or received (in), and what applying it gave.
    payload       BLOB,
    result        BLOB,
    local_key     TEXT NOT NULL DEFAULT '',
    local_url     TEXT NOT NULL DEFAULT '',
    remote_key    TEXT NOT NULL DEFAULT '',
    remote_url    TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (connection_id, id)
);

CREATE INDEX sync_events_entity ON sync_events (connection_id, entity_id, created_at);
CREATE INDEX sync_events_created ON sync_events (created_at);

CREATE TABLE stage_log (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    stage         TEXT NOT NULL,
    error         TEXT NOT NULL DEFAULT '',
    at            TEXT NOT NULL,
    FOREIGN KEY (connection_id, event_id) REFERENCES sync_events (connection_id, id) ON DELETE CASCADE
);

CREATE INDEX stage_log_event ON stage_log (connection_id, event_id, seq);

-- Where change detection on a connection's project goes on from (an
-- Events API sync token on Asana), and when it last looked.
CREATE TABLE detect_cursors (
    connection_id TEXT PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    cursor        TEXT NOT NULL DEFAULT '',
    checked_at    TEXT NOT NULL
);

-- A write to the tracker about to happen for an item from the other side
-- (kind task, comment or attachment). Trackers like Asana take no
-- idempotency key, so a write that failed after reaching the tracker may
-- have happened: a retry finding this row looks for the result before
-- writing again. The row goes away in the transaction that records the
-- link.
CREATE TABLE pending_writes (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    remote_id     TEXT NOT NULL,
    -- The local entity written to; '' for the create of a task.
    entity_id     TEXT NOT NULL DEFAULT '',
    started_at    TEXT NOT NULL,
    PRIMARY KEY (connection_id, kind, remote_id)
);
