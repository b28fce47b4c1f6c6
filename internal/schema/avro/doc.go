// Package avro owns the decode and schema layers for Avro records
// (PRODUCT.md §4): a schema.Validator that decodes a payload with the
// subject's Avro schema, which for Avro is also the schema check, since
// Avro binary cannot be read at all without its schema.
//
// A payload that does not decode is one DECODE_ERROR whose field is the
// JSON pointer of the record field where the bytes stopped making sense
// (/address/zip), and bytes left over after the record are an error too. A
// record that decodes is returned as the natural Go value (map[string]any
// for records, []any, int32, int64, float32, float64, string, []byte,
// time.Time for timestamps...) for the rules layer.
//
// Records written with an older, compatible schema (the writer schema,
// which the registry names by id) are read through Avro schema resolution:
// Resolve and CheckWithWriter decode them into the subject's schema (the
// reader), filling added fields from their defaults.
//
// JSON payloads can be checked against an Avro schema too (Options.Encoding
// JSON, Avro's JSON encoding): they are parsed by the gateway's strict JSON
// decoder first (PARSE_ERROR), then read against the schema (MISSING_FIELD,
// ENUM_VIOLATION, TYPE_MISMATCH).
//
// Decoding is github.com/twmb/avro's.
package avro
