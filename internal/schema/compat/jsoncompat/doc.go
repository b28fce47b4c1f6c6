// Package jsoncompat owns the comparison of two JSON Schema documents: which
// changes lie between a schema documents were written with and a schema
// they will be read with, and whether each keeps every document the first
// accepts acceptable to the second.
//
// It is a port of Confluent Schema Registry's JSON Schema diff
// (json-schema-provider's SchemaDiff and its Difference types), so that a
// registry built on it gives the verdicts Confluent's users expect; the
// conformance test runs Confluent's own evolution cases against it. The
// port keeps Confluent's model rather than reasoning about sets of
// documents:
//
//   - a document is loaded (load.go) into the shape Confluent's loaders give
//     it: drafts 4 to 7 as everit reads them (load_classic.go), 2019-09 and
//     2020-12 as json-sKema reads them and Confluent's SchemaTranslator
//     turns them into everit's model (load_modern.go). Keywords of several
//     kinds in one schema object become a synthetic allOf, type arrays an
//     anyOf, $ref a reference followed within the document (ref.go; other
//     documents are refused);
//   - the diff (diff.go, object.go, array.go, combined.go) walks both models
//     together and names each change at a JSON pointer, with Confluent's
//     rules for content models (an open object may already hold any
//     property), combined schemas (subschemas paired by a maximum bipartite
//     matching) and the rest;
//   - difference.go holds the names, which ones are compatible (strict and
//     lenient, as Confluent), and an explanation of each;
//   - summary.go says each change in its user's terms, from the old version
//     to the new one, at the place in the documents (Difference.Field) and
//     in the schema as written (Difference.SchemaPath, without the loader's
//     synthetic allOf and anyOf, which Confluent's Path keeps); a failed
//     matching of subschemas carries the changes inside them
//     (Difference.Because), which Confluent reports only as the mismatch.
//     This never changes a verdict: explaining spends a budget of its own.
//
// Where Confluent is blind, so is this package: it does not compare
// "contains", "propertyNames", "format", if/then/else, nor a "required"
// name that has no property schema. Where Confluent's code is wrong in a way
// that cannot matter to its users' expectations (a multipleOf of 0.5
// divides by zero, the exclusiveMaximum decrease reads the wrong bound) the
// port does what was meant. Comparison work is bounded: a pair of schemas
// too expensive to compare is reported as SCHEMA_TOO_COMPLEX, incompatible.
package jsoncompat
