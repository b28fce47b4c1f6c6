package record

// ErrorType classifies a violation. The strings are part of the product's
// contract: they appear in Kafka headers, metadata rows, metric labels and API
// filters, and must never change.
type ErrorType string

// The error types of PRODUCT.md §4.
const (
	ParseError      ErrorType = "PARSE_ERROR"
	DecodeError     ErrorType = "DECODE_ERROR"
	PayloadTooLarge ErrorType = "PAYLOAD_TOO_LARGE"
	SchemaNotFound  ErrorType = "SCHEMA_NOT_FOUND"
	MissingField    ErrorType = "MISSING_FIELD"
	TypeMismatch    ErrorType = "TYPE_MISMATCH"
	PatternMismatch ErrorType = "PATTERN_MISMATCH"
	EnumViolation   ErrorType = "ENUM_VIOLATION"
	ConstViolation  ErrorType = "CONST_VIOLATION"
	FormatViolation ErrorType = "FORMAT_VIOLATION"
	RangeViolation  ErrorType = "RANGE_VIOLATION"
	LengthViolation ErrorType = "LENGTH_VIOLATION"
	UnknownField    ErrorType = "UNKNOWN_FIELD"
	RuleViolation   ErrorType = "RULE_VIOLATION"
	SchemaViolation ErrorType = "SCHEMA_VIOLATION"
)

// ErrorTypes lists every error type, in the order of the specification.
var ErrorTypes = []ErrorType{
	ParseError, DecodeError, PayloadTooLarge, SchemaNotFound, MissingField,
	TypeMismatch, PatternMismatch, EnumViolation, ConstViolation, FormatViolation,
	RangeViolation, LengthViolation, UnknownField, RuleViolation, SchemaViolation,
}

// Known reports whether t is one of ErrorTypes.
func (t ErrorType) Known() bool {
	for _, k := range ErrorTypes {
		if k == t {
			return true
		}
	}
	return false
}
