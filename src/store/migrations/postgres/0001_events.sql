-- Verification events: append-only. Current state is derived from them, never stored.
-- Runs with search_path = remtrack, so every object lands in that schema.
CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id     text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('verified', 'unverified', 'note')),
    actor       text        NOT NULL,
    at          timestamptz NOT NULL,
    note        text        NOT NULL,
    evidence    jsonb       NOT NULL,
    fingerprint text        NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX events_by_task ON events (task_id, id);

CREATE FUNCTION refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'remtrack events are append-only';
END
$$;

CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_event_change();

-- Every session listening on this channel learns of a new event when its transaction commits;
-- the payload is the event id, so listeners fetch exactly what was committed.
CREATE FUNCTION announce_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('remtrack_events', NEW.id::text);
    RETURN NEW;
END
$$;

CREATE TRIGGER events_are_announced AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION announce_event();
