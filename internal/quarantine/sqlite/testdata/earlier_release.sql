-- A database as the code of commit 0c6d3ad, the last to migrate with
-- sqlitemigrate, left it: migrations 1 and 2, two entries (one claimed by a
-- job), the job and an audit event; dumped with sqlite3 .dump.
-- TestEarlierReleaseDatabase opens it with today's code. Never edit it: a
-- database of a later release is another file.

PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE schema_version (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT;
INSERT INTO schema_version VALUES(1,'0001_entries',1796611100798160803);
INSERT INTO schema_version VALUES(2,'0002_reprocessing',1796611100805816498);
CREATE TABLE entries (
    id               TEXT    NOT NULL PRIMARY KEY,
    source_topic     TEXT    NOT NULL,
    source_partition INTEGER NOT NULL,
    source_offset    INTEGER NOT NULL,
    key              BLOB,              -- NULL: the record had no key
    record_timestamp INTEGER,           -- the Kafka timestamp; NULL: none
    quarantined_at   INTEGER NOT NULL,
    subject          TEXT    NOT NULL,
    schema_version   INTEGER NOT NULL,
    error_type       TEXT    NOT NULL,  -- the primary (first) violation's
    error_field      TEXT    NOT NULL,
    errors           TEXT    NOT NULL,  -- JSON array of every violation
    payload_segment  TEXT    NOT NULL,
    payload_offset   INTEGER NOT NULL,
    payload_length   INTEGER NOT NULL,
    payload_size     INTEGER NOT NULL,
    status           TEXT    NOT NULL
, status_changed_at INTEGER, status_actor      TEXT NOT NULL DEFAULT '', status_reason     TEXT NOT NULL DEFAULT '', job               TEXT NOT NULL DEFAULT '', claimed_from      TEXT NOT NULL DEFAULT '', replay_count      INTEGER NOT NULL DEFAULT 0, corrected         BLOB) STRICT;
INSERT INTO entries VALUES('7352c345d0666d79000000000000000000000029','raw-events',0,41,X'6b65792d3431',1793699999123456789,1793700000123456789,'raw-events-value',1,'MISSING_FIELD','/user_id','[{"type":"MISSING_FIELD","field":"/user_id","keyword":"required","message":"missing property ''user_id''"}]','seg-7352c345',8,42,33,'quarantined',NULL,'','','','',0,NULL);
INSERT INTO entries VALUES('7352c345d0666d7900000001000000000000002a','raw-events',1,42,X'6b65792d3432',1793700059123456789,1793700060123456789,'raw-events-value',1,'ENUM_VIOLATION','/event_type','[{"type":"MISSING_FIELD","field":"/user_id","keyword":"required","message":"missing property ''user_id''"}]','seg-7352c345',8,42,33,'reprocessing',NULL,'','','job-1','quarantined',0,NULL);
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
INSERT INTO audit_events VALUES(1,1793700000123456789,'alice','operator','reprocess.start','job-1','fixture',NULL);
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
INSERT INTO reprocess_jobs VALUES('job-1','running','{}','clean','','','',0,0,0,0,1793700000123456789,1793700000123456789,'','',0);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('audit_events',1);
CREATE INDEX entries_by_time       ON entries (quarantined_at, id);
CREATE INDEX entries_by_error_type ON entries (error_type, quarantined_at, id);
CREATE INDEX entries_by_field      ON entries (error_field, quarantined_at, id);
CREATE INDEX entries_by_topic      ON entries (source_topic, quarantined_at, id);
CREATE INDEX entries_by_subject    ON entries (subject, quarantined_at, id);
CREATE INDEX entries_by_status     ON entries (status, quarantined_at, id);
CREATE INDEX entries_by_job ON entries (job) WHERE job <> '';
CREATE INDEX audit_events_by_target ON audit_events (target, id);
CREATE INDEX audit_events_by_at     ON audit_events (at, id);
CREATE INDEX reprocess_jobs_by_state ON reprocess_jobs (state, created_at);
COMMIT;
