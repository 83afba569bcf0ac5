-- The write path's events: a fix applied (or its apply failed), approved, or asked to be approved.
-- The kind's CHECK came from 0001 unnamed, so PostgreSQL named it events_kind_check; it is
-- replaced under the same name. Existing rows all satisfy the wider check.
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind IN (
    'verified', 'unverified', 'note',
    'applied', 'apply_failed', 'approved', 'approval_requested'
));
