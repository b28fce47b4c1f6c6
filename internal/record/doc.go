// Package record holds the leaf domain types of DataQuarantine: the record as
// consumed from Kafka, the violations validation finds in it, the verdict that
// routes it, and the error types that classify violations. It imports nothing
// from the rest of the module; every other package depends on it.
package record
