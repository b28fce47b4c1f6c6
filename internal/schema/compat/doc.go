// Package compat owns schema compatibility: whether a new version of a
// subject's schema may be registered next to the versions already there,
// under the subject's compatibility mode (BACKWARD, FORWARD, FULL, their
// _TRANSITIVE forms, NONE), with every change between them explained.
//
// It is pure and offline: schemas in, a Result out. Check picks the
// versions a mode compares with and the directions it reads in, and hands
// each pair to a format: jsoncompat for JSON Schema (a port of Confluent
// Schema Registry's diff, which its conformance cases hold to Confluent's
// verdicts) and avrocompat for Avro (the specification's schema
// resolution, agreeing with the Avro library the gateway decodes with) and
// protocompat for Protobuf (a basic wire-level check after Confluent's
// rules).
// The registry service and the "schema diff" command are its callers.
package compat
