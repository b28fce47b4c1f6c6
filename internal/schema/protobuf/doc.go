// Package protobuf owns the decode and schema layers for Protobuf records
// (PRODUCT.md §4): a schema.Validator that decodes a binary payload as a
// message type of the subject's .proto schema and checks the protovalidate
// constraints the schema declares.
//
// A schema is one .proto file, compiled in memory by
// github.com/bufbuild/protocompile. It may import the well-known types
// (google/protobuf/*.proto) and buf/validate/validate.proto; other imports
// (schema references) are refused. Which message a payload holds is chosen
// by the message indexes of its Confluent wire header (CheckMessage: [0] is
// the first top-level message, [1, 0] the first message nested in the
// second); without a header it is Options.Message, or the first top-level
// message.
//
// A payload that does not decode is one DECODE_ERROR whose field is the JSON
// pointer of the field where the bytes stopped making sense (/address/zip);
// a proto2 required field that is absent is MISSING_FIELD. A message that
// decodes is checked against its buf.validate constraints; each violation
// becomes one of ours at the field protovalidate names, with the rule id
// (string.pattern, int32.gte...) as keyword: required is MISSING_FIELD,
// pattern, prefix, suffix and contains are PATTERN_MISMATCH, in, not_in and
// enum.defined_only are ENUM_VIOLATION, const is CONST_VIOLATION, gt, gte,
// lt, lte (and the timestamp ones) are RANGE_VIOLATION, the length and size
// rules are LENGTH_VIOLATION, the string formats (email, uuid, ip...) are
// FORMAT_VIOLATION, a CEL constraint written in the schema is
// RULE_VIOLATION, and anything else is SCHEMA_VIOLATION.
//
// A message that passes is returned for the rules layer as map[string]any
// keyed by the .proto field names (as protojson with UseProtoNames, so a
// rule's message.user_id and a violation's /user_id agree). Fields without
// presence are always there, with their zero value when unset; fields with
// presence (messages, optional, oneof members) only when set, so has() works.
// Integers are int64 or uint64, floats float64, enums their value's name,
// bytes []byte, map keys strings, google.protobuf.Timestamp a time.Time,
// Duration a time.Duration, the wrappers their value, Struct, Value and
// ListValue their JSON shape.
package protobuf
