// Package formats owns the one entry point that compiles a schema of any
// format into a schema.Version: Compile hands the text to its format's
// adapter (jsonschema, avro, protobuf) with the decode limits the gateway
// runs with. Everything that compiles a schema to validate records with
// calls it: the composition root (the config's schemas and the registry's
// versions), the offline validator, the tests. It sits above the adapters,
// which sit above package schema's seams, so the imports point inward.
package formats
