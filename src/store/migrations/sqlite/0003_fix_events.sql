-- The write path's events: a fix applied (or its apply failed), approved, or asked to be approved.
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt: the new one is created, every
-- event copied with its id, the old one dropped and the new one renamed into its place. The
-- migrator runs this in one transaction, so a store is either migrated whole or not at all.
CREATE TABLE events_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN (
                    'verified', 'unverified', 'note',
                    'applied', 'apply_failed', 'approved', 'approval_requested'
                )),
    actor       TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    note        TEXT    NOT NULL,
    evidence    TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL
);

INSERT INTO events_new (id, task_id, kind, actor, at, note, evidence, fingerprint)
    SELECT id, task_id, kind, actor, at, note, evidence, fingerprint FROM events ORDER BY id;

-- Ids must keep growing past every id ever handed out, not only past the ones copied: carry the
-- old table's AUTOINCREMENT counter over (the rename below moves it to the name "events").
DELETE FROM sqlite_sequence WHERE name = 'events_new';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'events_new', seq FROM sqlite_sequence WHERE name = 'events';

-- The append-only triggers would refuse nothing here (DROP TABLE fires no DELETE trigger), but
-- they go with the table anyway; dropping them first says so.
DROP TRIGGER events_are_never_updated;
DROP TRIGGER events_are_never_deleted;
DROP INDEX events_by_task;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;

CREATE INDEX events_by_task ON events (task_id, id);

CREATE TRIGGER events_are_never_updated BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'remtrack events are append-only');
END;

CREATE TRIGGER events_are_never_deleted BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'remtrack events are append-only');
END;
