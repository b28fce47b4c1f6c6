-- One row per quarantined record, keyed by its quarantine id (record.ID), so
-- a replayed batch inserts nothing new (ON CONFLICT (id) DO NOTHING).
--
-- Times are INTEGER nanoseconds since the Unix epoch, UTC: they sort and
-- compare as numbers, and keep the full precision of a Go time.Time.
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
) STRICT;

-- List pages newest first by (quarantined_at, id); each filter has an index
-- ending in the same two columns, so a filtered page is an index range scan
-- with no sort.
CREATE INDEX entries_by_time       ON entries (quarantined_at, id);
CREATE INDEX entries_by_error_type ON entries (error_type, quarantined_at, id);
CREATE INDEX entries_by_field      ON entries (error_field, quarantined_at, id);
CREATE INDEX entries_by_topic      ON entries (source_topic, quarantined_at, id);
CREATE INDEX entries_by_subject    ON entries (subject, quarantined_at, id);
CREATE INDEX entries_by_status     ON entries (status, quarantined_at, id);
