-- 0001: the node itself, its admin token, connections to other nodes, their
-- invitations and the nonces that stop replayed peer requests.
-- Times are fixed-width RFC 3339 UTC text (see timeLayout in store.go), so
-- text comparison orders them.

-- instance holds exactly one row: this node. The CHECK on singleton makes a
-- second row impossible rather than merely unexpected.
CREATE TABLE instance (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    tracker    TEXT NOT NULL,
    -- JSON object of tracker settings (asana_url, workspace gid); never a token.
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);

-- admin_tokens holds only hashes; rotation replaces the set.
CREATE TABLE admin_tokens (
    hash       BLOB PRIMARY KEY,
    created_at TEXT NOT NULL
);

CREATE TABLE connections (
    id                  TEXT PRIMARY KEY,
    -- The other side's id for this connection; '' while pending.
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
    local               INTEGER NOT NULL DEFAULT 0,
    -- The connection key, encrypted by the engine; NULL while pending.
    key_cipher          BLOB,
    trigger_new_tasks   INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

-- Connections are listed newest first.
CREATE INDEX connections_created_at ON connections (created_at);

-- One invitation per connection, issued by the initiator. Only the secret's
-- hash is kept; redeemed_at, accept_nonce and acceptor_instance_id record the
-- one redemption.
CREATE TABLE invitations (
    connection_id        TEXT PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    secret_hash          BLOB NOT NULL,
    expires_at           TEXT NOT NULL,
    redeemed_at          TEXT,
    accept_nonce         BLOB,
    acceptor_instance_id TEXT NOT NULL DEFAULT ''
);

-- Nonces of signed peer requests seen per connection until they expire. The
-- primary key's leading column also serves the cascade from connections.
CREATE TABLE nonces (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    nonce         TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    PRIMARY KEY (connection_id, nonce)
);

-- Expired nonces are purged oldest first.
CREATE INDEX nonces_expires_at ON nonces (expires_at);
