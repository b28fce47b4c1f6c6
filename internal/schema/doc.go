// Package schema owns schema formats and how a record finds its schema: the
// Validator interface each format implements (JSON Schema now; Avro and
// Protobuf later), the Resolver interface the validation engine asks, and
// Static, the resolver built from the config file's subjects and topic
// bindings. The registry (a later issue) is another Resolver.
package schema
