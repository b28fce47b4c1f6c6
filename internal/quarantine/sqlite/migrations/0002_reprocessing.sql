-- Reprocessing (PRODUCT.md §7): the record lifecycle columns, the audit log
-- and the reprocess jobs. New columns have defaults, so Insert (the hot
-- path) is unchanged and writes none of them.
ALTER TABLE entries ADD COLUMN status_changed_at INTEGER;           -- NULL: never changed
ALTER TABLE entries ADD COLUMN status_actor      TEXT NOT NULL DEFAULT '';
ALTER TABLE entries ADD COLUMN status_reason     TEXT NOT NULL DEFAULT '';
ALTER TABLE entries ADD COLUMN job               TEXT NOT NULL DEFAULT '';  -- last job that claimed it
ALTER TABLE entries ADD COLUMN claimed_from      TEXT NOT NULL DEFAULT '';  -- status before the claim
ALTER TABLE entries ADD COLUMN replay_count      INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN corrected         BLOB;              -- NULL: no correction

-- A resumed job finds what it holds in reprocessing.
CREATE INDEX entries_by_job ON entries (job) WHERE job <> '';

-- The audit trail (audit.Log), newest first by id.
CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused
    at      INTEGER NOT NULL,                   -- Unix nanoseconds
    actor   TEXT    NOT NULL,
    role    TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    reason  TEXT    NOT NULL,
    details TEXT                                -- JSON object, NULL: none
) STRICT;
CREATE INDEX audit_events_by_target ON audit_events (target, id);
CREATE INDEX audit_events_by_at     ON audit_events (at, id);

-- Reprocess jobs (quarantine.JobStore).
CREATE TABLE reprocess_jobs (
    id         TEXT    NOT NULL PRIMARY KEY,
    state      TEXT    NOT NULL,
    filter     TEXT    NOT NULL,  -- JSON, owned by package reprocess
    target     TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    matched    INTEGER NOT NULL DEFAULT 0,
    passed     INTEGER NOT NULL DEFAULT 0,
    failed     INTEGER NOT NULL DEFAULT 0,
    skipped    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    error      TEXT    NOT NULL DEFAULT '',
    owner      TEXT    NOT NULL DEFAULT '',  -- the process running it
    lease_until INTEGER NOT NULL DEFAULT 0   -- owner's lease; after it, any process may take over
) STRICT;
CREATE INDEX reprocess_jobs_by_state ON reprocess_jobs (state, created_at);
