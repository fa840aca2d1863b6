-- 0014: webhooks being established, so that the tracker's handshake may
-- reach any replica of a node (PostgreSQL: replicas behind one URL). The
-- leader, which subscribes, inserts a row before its subscribe call; the
-- replica the handshake reaches, while the row has no secret, stores the
-- secret in it and echoes it; the leader reads it when the call returns
-- (the tracker answers the call only after the echo) and deletes the row.
-- On SQLite one process subscribes and takes the handshake, and this
-- table stays empty.
--
-- token:      the unguessable id in the webhook's URL (/api/v1/hooks/{token}).
-- project:    the tracker project being subscribed to.
-- secret:     the handshake's X-Hook-Secret, sealed with the node key;
--             NULL until the handshake came, and taken only once.
-- created_at: when the leader began subscribing; a row far older is one a
--             leader that died mid-subscribe left, and is deleted.

CREATE TABLE webhook_pending (
    token      TEXT PRIMARY KEY,
    project    TEXT NOT NULL,
    secret     BLOB,
    created_at TEXT NOT NULL
);
