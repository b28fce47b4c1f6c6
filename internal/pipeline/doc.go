// Package pipeline is the gateway's hot path: poll a batch from the input
// topics, validate every record, route valid ones to the clean topic and
// invalid ones to the DLQ (with dq.* headers), write the invalid ones'
// payloads and metadata rows, and only when every write is durable commit the
// batch's offsets. Operational failures are retried with back-off, never
// mistaken for bad data. Records judged elsewhere (imported from another
// tool's dead-letter topic) are written by an Ingester, with the same
// write-retry-commit machinery.
//
// Beside that walk, a record may also be evaluated against its subject's
// versions in shadow, whose verdicts are counted at commit and never route
// it (shadow.go); and an input in observe mode forwards its invalid records
// to the clean topic, marked, instead of quarantining them (observe.go).
package pipeline
