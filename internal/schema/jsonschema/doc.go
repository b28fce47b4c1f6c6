// Package jsonschema owns the first two validation layers for JSON payloads
// (PRODUCT.md §4): decoding untrusted bytes into a Go value, with the limits a
// gateway needs (nesting depth, duplicate keys, UTF-8, number size), and
// validating that value against a compiled JSON Schema (drafts 4, 6, 7,
// 2019-09 and 2020-12, formats asserted).
//
// It is the JSON Schema adapter of package schema: CompileVersion makes a
// schema.Version whose Validator runs both layers (and runs them apart, as
// schema.Layered, for the per-layer timings); formats.Compile is how the
// gateway calls it.
//
// Both layers report problems as record.Violation values, never as Go
// errors: a decode failure is one PARSE_ERROR, a schema failure is one
// violation per problem, each mapped to the product's error types with a JSON
// pointer to the offending field (violations.go). Go errors are kept for
// operational failures, such as a schema that does not compile.
//
// The schema layer wraps github.com/santhosh-tekuri/jsonschema/v6, which
// passes the official test suite and reports every error with its location.
// Around it, this package adds:
//
//   - decode.go: a hand-written decoder producing exactly the value shapes
//     the library validates (map[string]any, []any, json.Number, string,
//     bool, nil), about twice as fast as encoding/json for event-sized
//     payloads (bench_test.go);
//   - fastpath.go: a boolean evaluation of the compiled schema that accepts
//     valid records without the library's error bookkeeping, so that only
//     invalid records pay for it;
//   - formats.go: format checks that follow their RFCs where the library's
//     are lax or allocate;
//   - no network: a $ref outside the document is refused (ErrRemoteRef);
//   - cycle.go: a schema whose evaluation would never end (a reference
//     cycle on one value, ErrRefCycle) or take minutes (ErrTooExpensive) is
//     refused when compiled, not met on every record.
//
// conformance_test.go runs the official JSON Schema Test Suite from
// ../shared/conformance against all of it, as production configures it.
package jsonschema
