-- 0009: per-connection counters, kept by triggers in the same statement
-- (so the same transaction) as every write to twins, sync_events and
-- stage_log, so the connections list and a connection's statistics read
-- one row per connection instead of counting its whole history.
--
-- synced_items: twins whose two sides both still exist.
-- last_sync:    the latest stage_log entry at synchronized (NULL: none).
-- open:         events neither synchronized nor resolved (the queue).
-- events_out, events_in: events by direction.
-- synchronized: events that reached synchronized.
-- failing:      open events whose last attempt failed (error != '').

CREATE TABLE connection_counters (
    connection_id TEXT PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    synced_items  INTEGER NOT NULL DEFAULT 0,
    last_sync     TEXT,
    open          INTEGER NOT NULL DEFAULT 0,
    events_out    INTEGER NOT NULL DEFAULT 0,
    events_in     INTEGER NOT NULL DEFAULT 0,
    synchronized  INTEGER NOT NULL DEFAULT 0,
    failing       INTEGER NOT NULL DEFAULT 0
);

-- Backfill: an existing node's numbers stay what the full count gave.
INSERT INTO connection_counters (connection_id, synced_items, last_sync, open, events_out, events_in, synchronized, failing)
SELECT c.id,
    (SELECT count(*) FROM twins t WHERE t.connection_id = c.id AND NOT t.local_deleted AND NOT t.remote_deleted),
    (SELECT max(l.at) FROM stage_log l WHERE l.connection_id = c.id AND l.stage = 'synchronized'),
    (SELECT count(*) FROM sync_events e WHERE e.connection_id = c.id AND e.stage != 'synchronized' AND e.resolved_at IS NULL),
    (SELECT count(*) FROM sync_events e WHERE e.connection_id = c.id AND e.direction = 'out'),
    (SELECT count(*) FROM sync_events e WHERE e.connection_id = c.id AND e.direction = 'in'),
    (SELECT count(*) FROM sync_events e WHERE e.connection_id = c.id AND e.stage = 'synchronized'),
    (SELECT count(*) FROM sync_events e WHERE e.connection_id = c.id AND e.stage != 'synchronized'
        AND e.resolved_at IS NULL AND e.error != '')
FROM connections c;

CREATE TRIGGER connection_counters_new AFTER INSERT ON connections BEGIN
    INSERT OR IGNORE INTO connection_counters (connection_id) VALUES (NEW.id);
END;

-- Twins. An upsert that updates fires the UPDATE trigger; a deleted
-- connection's twins go by cascade, with its counters.
CREATE TRIGGER connection_counters_twin_insert AFTER INSERT ON twins BEGIN
    UPDATE connection_counters SET synced_items = synced_items + (NOT NEW.local_deleted AND NOT NEW.remote_deleted)
        WHERE connection_id = NEW.connection_id;
END;

CREATE TRIGGER connection_counters_twin_update AFTER UPDATE ON twins BEGIN
    UPDATE connection_counters SET synced_items = synced_items - (NOT OLD.local_deleted AND NOT OLD.remote_deleted)
        WHERE connection_id = OLD.connection_id;
    UPDATE connection_counters SET synced_items = synced_items + (NOT NEW.local_deleted AND NOT NEW.remote_deleted)
        WHERE connection_id = NEW.connection_id;
END;

CREATE TRIGGER connection_counters_twin_delete AFTER DELETE ON twins BEGIN
    UPDATE connection_counters SET synced_items = synced_items - (NOT OLD.local_deleted AND NOT OLD.remote_deleted)
        WHERE connection_id = OLD.connection_id;
END;

-- Events: each counter moves by what the row adds (NEW) less what it
-- took (OLD).
CREATE TRIGGER connection_counters_event_insert AFTER INSERT ON sync_events BEGIN
    UPDATE connection_counters SET
        open = open + (NEW.stage != 'synchronized' AND NEW.resolved_at IS NULL),
        events_out = events_out + (NEW.direction = 'out'),
        events_in = events_in + (NEW.direction = 'in'),
        synchronized = synchronized + (NEW.stage = 'synchronized'),
        failing = failing + (NEW.stage != 'synchronized' AND NEW.resolved_at IS NULL AND NEW.error != '')
        WHERE connection_id = NEW.connection_id;
END;

CREATE TRIGGER connection_counters_event_update AFTER UPDATE OF connection_id, direction, stage, error, resolved_at ON sync_events BEGIN
    UPDATE connection_counters SET
        open = open - (OLD.stage != 'synchronized' AND OLD.resolved_at IS NULL),
        events_out = events_out - (OLD.direction = 'out'),
        events_in = events_in - (OLD.direction = 'in'),
        synchronized = synchronized - (OLD.stage = 'synchronized'),
        failing = failing - (OLD.stage != 'synchronized' AND OLD.resolved_at IS NULL AND OLD.error != '')
        WHERE connection_id = OLD.connection_id;
    UPDATE connection_counters SET
        open = open + (NEW.stage != 'synchronized' AND NEW.resolved_at IS NULL),
        events_out = events_out + (NEW.direction = 'out'),
        events_in = events_in + (NEW.direction = 'in'),
        synchronized = synchronized + (NEW.stage = 'synchronized'),
        failing = failing + (NEW.stage != 'synchronized' AND NEW.resolved_at IS NULL AND NEW.error != '')
        WHERE connection_id = NEW.connection_id;
END;

CREATE TRIGGER connection_counters_event_delete AFTER DELETE ON sync_events BEGIN
    UPDATE connection_counters SET
        open = open - (OLD.stage != 'synchronized' AND OLD.resolved_at IS NULL),
        events_out = events_out - (OLD.direction = 'out'),
        events_in = events_in - (OLD.direction = 'in'),
        synchronized = synchronized - (OLD.stage = 'synchronized'),
        failing = failing - (OLD.stage != 'synchronized' AND OLD.resolved_at IS NULL AND OLD.error != '')
        WHERE connection_id = OLD.connection_id;
END;

-- The last sync only moves forward: stage_log entries are never removed
-- but with their event, and events are never removed but with their
-- connection. Times are stored fixed-width, so text order is time order.
CREATE TRIGGER connection_counters_synchronized AFTER INSERT ON stage_log WHEN NEW.stage = 'synchronized' BEGIN
    UPDATE connection_counters SET last_sync = NEW.at
        WHERE connection_id = NEW.connection_id AND (last_sync IS NULL OR last_sync < NEW.at);
END;

-- A connection's statistics read its latest events by last update
-- (StageMarks, RecentEvents): with this index, without sorting its
-- whole history.
CREATE INDEX sync_events_updated ON sync_events (connection_id, updated_at);
