// Package validate is the validation engine: for one record it resolves the
// schema, enforces the size limit, and runs the schema's decode and schema
// layers (and, later, the business-rules layer), producing a Verdict. It is
// pure: no I/O beyond what the Resolver does, no goroutines, so it is fuzzed
// and benchmarked in isolation.
package validate
