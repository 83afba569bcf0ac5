-- Verification events: append-only. Current state is derived from them, never stored.
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('verified', 'unverified', 'note')),
    actor       TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    note        TEXT    NOT NULL,
    evidence    TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL
);

CREATE INDEX IF NOT EXISTS events_by_task ON events (task_id, id);

CREATE TRIGGER IF NOT EXISTS events_are_never_updated BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'remtrack events are append-only');
END;

CREATE TRIGGER IF NOT EXISTS events_are_never_deleted BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'remtrack events are append-only');
END;
