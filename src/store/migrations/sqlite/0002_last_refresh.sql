-- The last verdicts seen for a plan against a target, so a tracker that starts while the
-- database is down can show them, marked old. A cache replaced in place; events stay append-only.
CREATE TABLE IF NOT EXISTS last_refresh (
    plan_fingerprint TEXT NOT NULL,
    target           TEXT NOT NULL,
    checked_at       TEXT NOT NULL,
    verdicts         TEXT NOT NULL,
    PRIMARY KEY (plan_fingerprint, target)
);
