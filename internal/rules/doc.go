// Package rules owns the business-rules layer of validation (PRODUCT.md §4,
// layer 3): CEL expressions, named and with a message, that a record must
// satisfy once it has passed its schema.
//
// A rule sees the decoded record as the variable message (dynamically typed,
// as in Confluent Data Contracts) and the current time as now (a timestamp).
// Rules are compiled and type-checked once, by Compile, which refuses a rule
// that does not parse, does not type-check or cannot return a bool, naming
// the rule. Each evaluation is bounded by a cost limit (Options.CostLimit), so
// a hostile or careless rule ends with a violation instead of hanging the
// pipeline; a rule that fails at run time (a missing field, a malformed
// timestamp, the cost limit) is a violation of that rule, never a Go error or
// a crash.
//
// # Values
//
// Decoded JSON arrives as map[string]any, []any, json.Number, string, bool
// and nil. Maps and lists are wrapped lazily, so a rule pays only for the
// fields it reads. A json.Number becomes a CEL int when its value is a whole
// number that a float64 holds exactly (|n| <= 2^53) or is written as an
// integer that fits in int64, and a CEL double otherwise: 42 and 4.2e1 are
// int 42, 12.5 is double 12.5. Comparisons across int and double work
// (message.amount > 0 holds for 3 and 0.5 alike); arithmetic does not mix
// them in CEL, so a rule doing sums over a "number" field should convert
// first: double(message.price) * 1.2.
//
// Decoded Avro values (int32, int64, float32, float64, string, []byte,
// time.Time for timestamp logical types, *big.Rat for decimals) map to int,
// int, double, double, string, bytes, timestamp and double. Decoded
// Protobuf messages (package schema/protobuf) arrive as map[string]any of
// int64, uint64, float64, string, []byte, bool, time.Time, time.Duration,
// []any and nested maps, which CEL's own adapter reads.
package rules
