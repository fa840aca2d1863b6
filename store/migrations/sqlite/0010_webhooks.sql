-- 0010: the node's webhook subscriptions, one per tracker project with a
-- connection (shared by every connection on it, as change detection is).
--
-- project:    the tracker project the webhook watches.
-- token:      the unguessable id in the delivery URL (/api/v1/hooks/{token}).
-- tracker_id: the tracker's id of the webhook (an Asana gid).
-- secret:     the handshake's X-Hook-Secret, sealed with the node key.
-- created_at: when it was established.

CREATE TABLE webhooks (
    project    TEXT PRIMARY KEY,
    token      TEXT NOT NULL UNIQUE,
    tracker_id TEXT NOT NULL,
    secret     BLOB NOT NULL,
    created_at TEXT NOT NULL
);
