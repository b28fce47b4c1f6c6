-- +goose Up

-- Reprocessing (PRODUCT.md §7): the record lifecycle columns, the audit log
-- and the reprocess jobs. The new columns have defaults (no table rewrite:
-- constant defaults are metadata-only since PostgreSQL 11), and Insert, the
-- hot path, writes none of them.
ALTER TABLE quarantine_entries
    ADD COLUMN status_changed_at bigint,                    -- NULL: never changed
    ADD COLUMN status_actor      text   NOT NULL DEFAULT '',
    ADD COLUMN status_reason     text   NOT NULL DEFAULT '',
    ADD COLUMN job               text   NOT NULL DEFAULT '', -- last job that claimed it
    ADD COLUMN claimed_from      text   NOT NULL DEFAULT '', -- status before the claim
    ADD COLUMN replay_count      bigint NOT NULL DEFAULT 0,
    ADD COLUMN corrected         bytea;                     -- NULL: no correction

-- A resumed job finds what it holds in reprocessing.
CREATE INDEX quarantine_entries_by_job ON quarantine_entries (job) WHERE job <> '';

-- The audit trail (audit.Log), newest first by id.
CREATE TABLE audit_events (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      bigint NOT NULL,          -- Unix nanoseconds
    actor   text   NOT NULL,
    role    text   NOT NULL,
    action  text   NOT NULL,
    target  text COLLATE "C" NOT NULL,
    reason  text   NOT NULL,
    details text                      -- JSON object (not jsonb: it refuses \u0000); NULL: none
);
CREATE INDEX audit_events_by_target ON audit_events (target, id);
CREATE INDEX audit_events_by_at     ON audit_events (at, id);

-- Reprocess jobs (quarantine.JobStore).
CREATE TABLE reprocess_jobs (
    id         text   NOT NULL PRIMARY KEY,
    state      text   NOT NULL,
    filter     text   NOT NULL,  -- JSON, owned by package reprocess
    target     text   NOT NULL,
    reason     text   NOT NULL,
    actor      text   NOT NULL,
    role       text   NOT NULL,
    matched    bigint NOT NULL DEFAULT 0,
    passed     bigint NOT NULL DEFAULT 0,
    failed     bigint NOT NULL DEFAULT 0,
    skipped    bigint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    error      text   NOT NULL DEFAULT '',
    owner      text   NOT NULL DEFAULT '',  -- the process running it
    lease_until bigint NOT NULL DEFAULT 0   -- owner's lease; after it, any process may take over
);
CREATE INDEX reprocess_jobs_by_state ON reprocess_jobs (state, created_at);

-- +goose Down
DROP TABLE reprocess_jobs;
DROP TABLE audit_events;
ALTER TABLE quarantine_entries
    DROP COLUMN status_changed_at, DROP COLUMN status_actor, DROP COLUMN status_reason,
    DROP COLUMN job, DROP COLUMN claimed_from, DROP COLUMN replay_count, DROP COLUMN corrected;
