-- 0011: the tracker times a node knows of its own items, per connection,
-- so change detection can tell its own writes and what it has read
-- already without reading the item again (issue 17, the minimum calls).
--
-- kind 'write': the time (the tracker's clock) a write of the sync
--     returned: the modified_at of a create or update, the created_at of
--     a comment or file it added. An event at one of these times, by the
--     node's own account, is the node's own write: an echo.
-- kind 'read':  the modified_at of the item as the node last read it
--     whole to send it: every change up to then was looked at. A
--     reconcile skips an item whose modified_at is not newer.
-- kind 'deferred': the modified_at of a read that left a comment or file
--     unsent because an incoming write of unknown outcome may have made
--     it; until a read without one, every change to the item is read.
-- A few of the latest of each kind are kept per item.

CREATE TABLE seen_times (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    local_id      TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('write', 'read', 'deferred')),
    -- RFC 3339 with nanoseconds, UTC, so text order is time order.
    at            TEXT NOT NULL,
    PRIMARY KEY (connection_id, local_id, kind, at)
) WITHOUT ROWID;
