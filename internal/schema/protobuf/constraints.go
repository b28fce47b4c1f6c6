package protobuf

import (
	"errors"
	"fmt"
	"strconv"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// newConstraints builds the protovalidate validator of file's messages and
// compiles every constraint at once, so that a bad one (an invalid regular
// expression, a CEL expression that does not compile) refuses the schema
// instead of failing on the first record.
func newConstraints(file protoreflect.FileDescriptor) (protovalidate.Validator, error) {
	var mds []protoreflect.MessageDescriptor
	var collect func(protoreflect.MessageDescriptors)
	collect = func(ms protoreflect.MessageDescriptors) {
		for i := range ms.Len() {
			if md := ms.Get(i); !md.IsMapEntry() {
				mds = append(mds, md)
				collect(md.Messages())
			}
		}
	}
	collect(file.Messages())
	pv, err := protovalidate.New(protovalidate.WithMessageDescriptors(mds...))
	if err != nil {
		return nil, fmt.Errorf("buf.validate constraints: %w", err)
	}
	for _, md := range mds {
		var ce *protovalidate.CompilationError
		if err := pv.Validate(dynamicpb.NewMessage(md)); errors.As(err, &ce) {
			return nil, fmt.Errorf("buf.validate constraints of %s: %w", md.FullName(), err)
		}
	}
	return pv, nil
}

// constraints appends msg's buf.validate violations to dst.
func (v *Validator) constraints(msg protoreflect.Message, dst []record.Violation) []record.Violation {
	err := v.pv.Validate(msg.Interface())
	if err == nil {
		return dst
	}
	var ve *protovalidate.ValidationError
	if !errors.As(err, &ve) {
		// A CEL constraint that fails at run time (a type error): the
		// record broke the schema's rule, however clumsily it says so.
		return append(dst, record.Violation{
			Type: record.SchemaViolation, Keyword: "protovalidate", Message: err.Error(),
		})
	}
	for _, pv := range ve.Violations {
		p := pv.Proto
		msg := p.GetMessage()
		if msg == "" {
			msg = "violates " + p.GetRuleId()
		}
		dst = append(dst, record.Violation{
			Type:    ruleType(p.GetRuleId(), p.GetRule()),
			Field:   pointer(p.GetField()),
			Keyword: p.GetRuleId(),
			Message: msg,
		})
	}
	return dst
}

// pointer turns a protovalidate field path into a JSON pointer:
// /address/zip, /items/0/sku, /labels/env.
func pointer(fp *validate.FieldPath) string {
	var b []byte
	for _, e := range fp.GetElements() {
		b = append(b, '/')
		b = append(b, escape(e.GetFieldName())...)
		switch e.WhichSubscript() {
		case validate.FieldPathElement_Index_case:
			b = strconv.AppendUint(append(b, '/'), e.GetIndex(), 10)
		case validate.FieldPathElement_BoolKey_case:
			b = strconv.AppendBool(append(b, '/'), e.GetBoolKey())
		case validate.FieldPathElement_IntKey_case:
			b = strconv.AppendInt(append(b, '/'), e.GetIntKey(), 10)
		case validate.FieldPathElement_UintKey_case:
			b = strconv.AppendUint(append(b, '/'), e.GetUintKey(), 10)
		case validate.FieldPathElement_StringKey_case:
			b = append(append(b, '/'), escape(e.GetStringKey())...)
		}
	}
	return string(b)
}

// ruleType classifies a violated rule by its path within buf.validate's
// rules (string.pattern is [string, pattern]): its last element names the
// rule, and a cel element marks a CEL constraint written in the schema.
// The rules of a message or oneof as a whole have no path: their id tells.
func ruleType(id string, rule *validate.FieldPath) record.ErrorType {
	els := rule.GetElements()
	if len(els) == 0 {
		switch id {
		case "required": // a required oneof
			return record.MissingField
		case "message.oneof":
			return record.SchemaViolation
		}
		return record.RuleViolation // a message's CEL constraint
	}
	for _, e := range els {
		if n := e.GetFieldName(); n == "cel" || n == "cel_expression" {
			return record.RuleViolation
		}
	}
	if t, ok := ruleTypes[els[len(els)-1].GetFieldName()]; ok {
		return t
	}
	return record.SchemaViolation
}

// ruleTypes maps buf.validate rule names to error types; rules not named
// here are SCHEMA_VIOLATION.
var ruleTypes = map[string]record.ErrorType{
	"required": record.MissingField,

	"pattern":      record.PatternMismatch,
	"prefix":       record.PatternMismatch,
	"suffix":       record.PatternMismatch,
	"contains":     record.PatternMismatch,
	"not_contains": record.PatternMismatch,

	"in":           record.EnumViolation,
	"not_in":       record.EnumViolation,
	"defined_only": record.EnumViolation,

	"const": record.ConstViolation,

	"gt":     record.RangeViolation,
	"gte":    record.RangeViolation,
	"lt":     record.RangeViolation,
	"lte":    record.RangeViolation,
	"gt_now": record.RangeViolation,
	"lt_now": record.RangeViolation,
	"within": record.RangeViolation,
	"finite": record.RangeViolation,

	"len":       record.LengthViolation,
	"min_len":   record.LengthViolation,
	"max_len":   record.LengthViolation,
	"len_bytes": record.LengthViolation,
	"min_bytes": record.LengthViolation,
	"max_bytes": record.LengthViolation,
	"min_items": record.LengthViolation,
	"max_items": record.LengthViolation,
	"min_pairs": record.LengthViolation,
	"max_pairs": record.LengthViolation,

	"email":               record.FormatViolation,
	"hostname":            record.FormatViolation,
	"ip":                  record.FormatViolation,
	"ipv4":                record.FormatViolation,
	"ipv6":                record.FormatViolation,
	"uri":                 record.FormatViolation,
	"uri_ref":             record.FormatViolation,
	"address":             record.FormatViolation,
	"uuid":                record.FormatViolation,
	"tuuid":               record.FormatViolation,
	"ulid":                record.FormatViolation,
	"ip_with_prefixlen":   record.FormatViolation,
	"ipv4_with_prefixlen": record.FormatViolation,
	"ipv6_with_prefixlen": record.FormatViolation,
	"ip_prefix":           record.FormatViolation,
	"ipv4_prefix":         record.FormatViolation,
	"ipv6_prefix":         record.FormatViolation,
	"host_and_port":       record.FormatViolation,
	"well_known_regex":    record.FormatViolation,
	"protobuf_fqn":        record.FormatViolation,
	"protobuf_dot_fqn":    record.FormatViolation,
}
