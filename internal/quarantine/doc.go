// Package quarantine owns where quarantined records live: the metadata store
// (one row per record: where it came from, why it failed, where its payload
// is) and the payload store (the bytes as received, plus headers, written one
// segment per batch). Drivers live in sub-packages (metadata: sqlite,
// postgres; payloads: fs, s3) and all pass the conformance suite in
// quarantinetest.
//
// Every write is keyed by the record's quarantine id (record.ID), so a
// redelivered batch never duplicates a row.
package quarantine
