-- 0009 on PostgreSQL: sqlite/0009_connection_counters.sql translated (see
-- 0001). SQLite's triggers, whose bodies are statements, become PL/pgSQL
-- functions run by row triggers; the booleans SQLite adds as 0/1 are cast
-- to integers. As there, every counter moves in the statement (so the
-- transaction) of the write that moves it.

CREATE TABLE connection_counters (
    connection_id TEXT PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    synced_items  INTEGER NOT NULL DEFAULT 0,
    last_sync     TEXT COLLATE "C",
    open          INTEGER NOT NULL DEFAULT 0,
    events_out    INTEGER NOT NULL DEFAULT 0,
    events_in     INTEGER NOT NULL DEFAULT 0,
    synchronized  INTEGER NOT NULL DEFAULT 0,
    failing       INTEGER NOT NULL DEFAULT 0
);

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

CREATE FUNCTION connection_counters_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO connection_counters (connection_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER connection_counters_new AFTER INSERT ON connections
    FOR EACH ROW EXECUTE FUNCTION connection_counters_new();

-- Twins: an upsert that updates fires the UPDATE case; a deleted
-- connection's twins go by cascade, with its counters.
CREATE FUNCTION connection_counters_twin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE connection_counters SET synced_items = synced_items - (NOT OLD.local_deleted AND NOT OLD.remote_deleted)::int
            WHERE connection_id = OLD.connection_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE connection_counters SET synced_items = synced_items + (NOT NEW.local_deleted AND NOT NEW.remote_deleted)::int
            WHERE connection_id = NEW.connection_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER connection_counters_twin AFTER INSERT OR UPDATE OR DELETE ON twins
    FOR EACH ROW EXECUTE FUNCTION connection_counters_twin();

-- Events: each counter moves by what the row adds (NEW) less what it
-- took (OLD).
CREATE FUNCTION connection_counters_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE connection_counters SET
            open = open - (OLD.stage != 'synchronized' AND OLD.resolved_at IS NULL)::int,
            events_out = events_out - (OLD.direction = 'out')::int,
            events_in = events_in - (OLD.direction = 'in')::int,
            synchronized = synchronized - (OLD.stage = 'synchronized')::int,
            failing = failing - (OLD.stage != 'synchronized' AND OLD.resolved_at IS NULL AND OLD.error != '')::int
            WHERE connection_id = OLD.connection_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE connection_counters SET
            open = open + (NEW.stage != 'synchronized' AND NEW.resolved_at IS NULL)::int,
            events_out = events_out + (NEW.direction = 'out')::int,
            events_in = events_in + (NEW.direction = 'in')::int,
            synchronized = synchronized + (NEW.stage = 'synchronized')::int,
            failing = failing + (NEW.stage != 'synchronized' AND NEW.resolved_at IS NULL AND NEW.error != '')::int
            WHERE connection_id = NEW.connection_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER connection_counters_event
    AFTER INSERT OR UPDATE OF connection_id, direction, stage, error, resolved_at OR DELETE ON sync_events
    FOR EACH ROW EXECUTE FUNCTION connection_counters_event();

-- The last sync only moves forward (see the SQLite migration).
CREATE FUNCTION connection_counters_synchronized() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE connection_counters SET last_sync = NEW.at
        WHERE connection_id = NEW.connection_id AND (last_sync IS NULL OR last_sync < NEW.at);
    RETURN NULL;
END
$$;

CREATE TRIGGER connection_counters_synchronized AFTER INSERT ON stage_log
    FOR EACH ROW WHEN (NEW.stage = 'synchronized') EXECUTE FUNCTION connection_counters_synchronized();

CREATE INDEX sync_events_updated ON sync_events (connection_id, updated_at);
