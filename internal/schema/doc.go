// Package schema owns the seams between schema formats and the rest of
// the gateway, and nothing format-specific: a Format, the Validator each
// format's adapter implements (JSON Schema in jsonschema, Avro in avro,
// Protobuf in protobuf) with its optional abilities (Layered,
// WriterChecker, MessageChecker), the Version a compiled schema is, the
// Resolver and IDResolver interfaces the validation engine asks, their
// errors, and Static and Fixed, the resolvers of the config file's
// bindings and of the offline validator. A Version carries its compiled
// business rules with it, so any resolver (the registry's too) hands back
// both together.
//
// Sub-packages: the adapters; format, the one Compile entry point over
// them; wire (Confluent wire-format headers); compat (compatibility
// checking between versions).
package schema
