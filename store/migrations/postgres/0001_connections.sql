-- 0001 on PostgreSQL: what sqlite/0001_connections.sql makes, in
-- PostgreSQL's types. The translation rules, for every migration here:
-- BLOB is BYTEA; the INTEGER 0/1 flags are BOOLEAN (the store passes and
-- scans Go bools); times stay fixed-width RFC 3339 text, COLLATE "C" so
-- that text order is time order whatever the database's locale; and the
-- tables the store orders by SQLite's implicit rowid (connections,
-- sync_events, nonces) get a rowid column of their own, an identity, so
-- that the queries are the same on both engines.

CREATE TABLE instance (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    tracker    TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE admin_tokens (
    hash       BYTEA PRIMARY KEY,
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE connections (
    rowid               BIGINT GENERATED ALWAYS AS IDENTITY,
    id                  TEXT PRIMARY KEY,
    remote_id           TEXT NOT NULL DEFAULT '',
    name                TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('initiator', 'acceptor')),
    mode                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'active', 'deactivated', 'error')),
    status_reason       TEXT NOT NULL DEFAULT '',
    local_project       TEXT NOT NULL DEFAULT '',
    local_project_name  TEXT NOT NULL DEFAULT '',
    remote_url          TEXT NOT NULL DEFAULT '',
    remote_name         TEXT NOT NULL DEFAULT '',
    remote_instance_id  TEXT NOT NULL DEFAULT '',
    remote_tracker      TEXT NOT NULL DEFAULT '',
    remote_project_name TEXT NOT NULL DEFAULT '',
    local               BOOLEAN NOT NULL DEFAULT FALSE,
    key_cipher          BYTEA,
    trigger_new_tasks   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          TEXT COLLATE "C" NOT NULL,
    updated_at          TEXT COLLATE "C" NOT NULL
);

CREATE INDEX connections_created_at ON connections (created_at);

CREATE TABLE invitations (
    connection_id        TEXT PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    secret_hash          BYTEA NOT NULL,
    expires_at           TEXT COLLATE "C" NOT NULL,
    redeemed_at          TEXT COLLATE "C",
    accept_nonce         BYTEA,
    acceptor_instance_id TEXT NOT NULL DEFAULT ''
);

CREATE TABLE nonces (
    rowid         BIGINT GENERATED ALWAYS AS IDENTITY,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    nonce         TEXT NOT NULL,
    expires_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (connection_id, nonce)
);

CREATE INDEX nonces_expires_at ON nonces (expires_at);
