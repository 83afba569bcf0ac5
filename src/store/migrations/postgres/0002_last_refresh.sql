-- The last verdicts seen for a plan against a target, so a tracker that starts while the
-- database is down can show them, marked old. A cache replaced in place; events stay append-only.
CREATE TABLE last_refresh (
    plan_fingerprint text        NOT NULL,
    target           text        NOT NULL,
    checked_at       timestamptz NOT NULL,
    verdicts         jsonb       NOT NULL,
    PRIMARY KEY (plan_fingerprint, target)
);
