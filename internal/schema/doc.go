// Package schema owns schema formats and how a record finds its schema: the
// Validator interface each format implements (JSON Schema in jsonschema,
// Avro in avro, Protobuf in protobuf), the Resolver interface the validation
// engine asks, and Static, the resolver built from the config file's
// subjects and topic bindings. A Version carries its compiled business rules
// with it, so any resolver (the registry, later) hands back both together.
// Sub-packages: jsonschema, avro, wire (Confluent wire-format headers),
// compat (compatibility checking between versions).
package schema
