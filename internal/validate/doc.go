// Package validate is the validation engine: for one record it resolves the
// schema, enforces the size limit, runs the schema's decode and schema
// layers, and, when those pass, the version's business rules, producing a
// Verdict. It is pure: no I/O beyond what the Resolver does, no goroutines,
// so it is fuzzed and benchmarked in isolation.
package validate
