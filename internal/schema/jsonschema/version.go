package jsonschema

import (
	"fmt"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// CompileVersion compiles a JSON Schema document into version of subject,
// whose validator decodes payloads within lim (zero values take the
// defaults: depth 64, duplicate keys refused). formats.Compile is the
// gateway's entry point to it.
func CompileVersion(subject string, version int, src []byte, lim Limits) (*schema.Version, error) {
	s, err := Compile(fmt.Sprintf("%s-v%d.json", subject, version), src)
	if err != nil {
		return nil, fmt.Errorf("compiling JSON schema for subject %s version %d: %w", subject, version, err)
	}
	return &schema.Version{
		Subject:   subject,
		Version:   version,
		Format:    schema.FormatJSON,
		Validator: &validator{s: s, lim: lim},
	}, nil
}

// validator is the schema.Validator of a JSON Schema version.
type validator struct {
	s   *Schema
	lim Limits
}

var _ schema.Layered = (*validator)(nil)

func (j *validator) Check(payload []byte, dst []record.Violation) (any, []record.Violation) {
	return j.s.Check(payload, j.lim, dst)
}

func (j *validator) Decode(payload []byte, dst []record.Violation) (any, []record.Violation, bool) {
	v, bad, ok := Decode(payload, j.lim)
	if !ok {
		return nil, append(dst, bad), false
	}
	return v, dst, true
}

func (j *validator) CheckDecoded(decoded any, dst []record.Violation) []record.Violation {
	return j.s.Validate(decoded, dst)
}

var _ schema.DecodeSharer = (*validator)(nil)

// DecodesLike implements schema.DecodeSharer: another JSON Schema version
// with the same decoder limits.
func (j *validator) DecodesLike(other schema.Validator) bool {
	o, ok := other.(*validator)
	return ok && o.lim == j.lim
}
