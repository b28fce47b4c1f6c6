-- +goose Up

-- One row per quarantined record, keyed by its quarantine id (record.ID) so
-- that a replayed batch inserts nothing new (ON CONFLICT DO NOTHING).
--
-- Partitioned by day (RANGE on partition_day), so retention drops whole
-- partitions instead of deleting rows. The partitions are created by the
-- store (ahead of time, and on demand for a day that has none), never by a
-- migration; there is deliberately no DEFAULT partition, which would make
-- creating a day's partition later fail once it held rows of that day.
--
-- Why partition_day is the day of the Kafka record's timestamp, not of
-- quarantined_at: PostgreSQL enforces a unique constraint on a partitioned
-- table only per partition, so the primary key must contain the partition
-- key, and ON CONFLICT catches a redelivered record only if it lands in the
-- same partition as the first delivery. quarantined_at differs on
-- redelivery (it would put the replay in another day's partition whenever
-- the two straddle midnight, and store the record twice); the record's own
-- timestamp is fixed for a given (topic, partition, offset), as is its id.
-- Only a record without a timestamp (Entry.Timestamp zero) falls back to the
-- day of quarantined_at: such a record, redelivered on another UTC day, is
-- stored twice (Get returns the first). Consequence for retention: a day
-- partition holds the records *produced* that day, so a record whose
-- timestamp is older than the retention age when it is quarantined lives
-- only until the next retention run.
--
-- Times are bigint nanoseconds since the Unix epoch, UTC, as in the SQLite
-- store: exact (timestamptz keeps only microseconds), and they sort and
-- compare as numbers. partition_day is the UTC date of record_timestamp, or
-- of quarantined_at when record_timestamp is NULL.
CREATE TABLE quarantine_entries (
    id               text COLLATE "C" NOT NULL,  -- byte order, as every driver sorts ids
    partition_day    date   NOT NULL,
    source_topic     text   NOT NULL,
    source_partition integer NOT NULL,
    source_offset    bigint NOT NULL,
    key              bytea,            -- NULL: the record had no key
    record_timestamp bigint,           -- the Kafka timestamp; NULL: none
    quarantined_at   bigint NOT NULL,
    subject          text   NOT NULL,
    schema_version   bigint NOT NULL,
    error_type       text   NOT NULL,  -- the primary (first) violation's
    -- The field is a JSON pointer built from the payload's own keys, which
    -- may hold U+0000, which no PostgreSQL text value can: so bytes.
    error_field      bytea  NOT NULL,
    errors           text   NOT NULL,  -- JSON array of every violation (not jsonb: it refuses \u0000)
    payload_segment  text   NOT NULL,
    payload_offset   bigint NOT NULL,
    payload_length   bigint NOT NULL,
    payload_size     bigint NOT NULL,
    status           text   NOT NULL,
    PRIMARY KEY (id, partition_day)
) PARTITION BY RANGE (partition_day);

-- List pages newest first by (quarantined_at, id); each filter has an index
-- ending in the same two columns, so a filtered page is a backward index
-- scan per partition, merged in order (Merge Append), with no sort. The
-- indexes are declared on the parent and so exist on every partition.
CREATE INDEX quarantine_entries_by_time       ON quarantine_entries (quarantined_at, id);
CREATE INDEX quarantine_entries_by_error_type ON quarantine_entries (error_type, quarantined_at, id);
CREATE INDEX quarantine_entries_by_field      ON quarantine_entries (error_field, quarantined_at, id);
CREATE INDEX quarantine_entries_by_topic      ON quarantine_entries (source_topic, quarantined_at, id);
CREATE INDEX quarantine_entries_by_subject    ON quarantine_entries (subject, quarantined_at, id);
CREATE INDEX quarantine_entries_by_status     ON quarantine_entries (status, quarantined_at, id);

-- +goose Down
DROP TABLE quarantine_entries;
