// Package dlqimport adopts existing dead-letter topics: it reads the records
// a Kafka Connect sink (errors.deadletterqueue), Confluent's DlqAction (a
// data-contract rule with onFailure DLQ) or another DataQuarantine gateway
// wrote to a dead-letter topic into the quarantine, one metadata row and one
// stored payload (value and headers, as in the dead-letter topic) per
// record, so they are browsable, searchable and reprocessable to their
// original topic like the gateway's own.
//
// # What it owns
//
// Convert turns one dead-letter record into its row and payload: the
// original topic, partition and offset and the reason come from the
// writer's headers (Kafka Connect's __connect.errors.*, Confluent's
// __rule.*, the gateway's dq.*), mapped to the gateway's error types; a
// record lacking them is still imported, with an error saying what was
// missing. Convert judges a record alone and never fails.
//
// Import reads a whole topic once, up to the end it had when the import
// started, in bounded batches (the dataquarantine dlq import command).
// NewFollower follows topics continuously in a consumer group (serve's
// topics.imports). Neither has a write path of its own: both hand their
// batches to pipeline.Ingester, the pipeline's write-retry-commit
// machinery.
//
// # Ids
//
// An imported record's id is record.ID of its original topic, partition and
// offset when its headers name all three (a Connect DLQ with context
// headers, another gateway's DLQ), so a record dead-lettered twice (a
// connector restarted over it) or already quarantined by this gateway is
// stored once; otherwise it is record.ID of the dead-letter record's own
// coordinates. Either way importing a topic again adds nothing.
package dlqimport
