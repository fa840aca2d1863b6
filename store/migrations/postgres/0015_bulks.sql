-- 0015 on PostgreSQL: sqlite/0015_bulks.sql translated (see 0001).

CREATE TABLE bulks (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('listing', 'listed', 'failed')),
    error         TEXT NOT NULL DEFAULT '',
    job_id        BIGINT NOT NULL DEFAULT 0,
    created_at    TEXT COLLATE "C" NOT NULL,
    finished_at   TEXT COLLATE "C",
    PRIMARY KEY (connection_id, id)
);

CREATE TABLE bulk_items (
    connection_id TEXT NOT NULL,
    bulk_id       TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    event_id      TEXT NOT NULL,
    listed_at     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, bulk_id, entity_id),
    FOREIGN KEY (connection_id, bulk_id) REFERENCES bulks (connection_id, id) ON DELETE CASCADE
);

CREATE INDEX bulk_items_seq ON bulk_items (connection_id, bulk_id, seq);
