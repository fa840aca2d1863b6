-- 0008: Script mode. A connection's scripts on this side, versioned: the
-- draft an admin edits is version 0; publishing copies it as the next
-- version, which is the one in force (the highest). Each side keeps its
-- own scripts and never sees the other's.

CREATE TABLE scripts (
    connection_id TEXT    NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL CHECK (version >= 0),
    outgoing      TEXT    NOT NULL,
    incoming      TEXT    NOT NULL,
    -- When the draft was last saved, or the version published.
    at            TEXT    NOT NULL,
    -- What the admin said of a published version ("" for none).
    note          TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, version)
);
