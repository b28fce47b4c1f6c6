// Package pipeline is the gateway's hot path: poll a batch from the input
// topics, validate every record, route valid ones to the clean topic and
// invalid ones to the DLQ (with dq.* headers), write the invalid ones'
// payloads and metadata rows, and only when every write is durable commit the
// batch's offsets. Operational failures are retried with back-off, never
// mistaken for bad data. Records judged elsewhere (imported from another
// tool's dead-letter topic) are written by an Ingester, with the same
// write-retry-commit machinery.
package pipeline
