package schema

import (
	"fmt"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
)

// JSONOptions configure CompileJSON.
type JSONOptions struct {
	// Limits bound the JSON decoder; zero values take jsonschema's defaults
	// (depth 64, duplicate keys refused).
	Limits jsonschema.Limits
}

// CompileJSON compiles a JSON Schema document into a Version.
func CompileJSON(subject string, version int, src []byte, opts JSONOptions) (*Version, error) {
	s, err := jsonschema.Compile(fmt.Sprintf("%s-v%d.json", subject, version), src)
	if err != nil {
		return nil, fmt.Errorf("compiling JSON schema for subject %s version %d: %w", subject, version, err)
	}
	return &Version{
		Subject:   subject,
		Version:   version,
		Format:    FormatJSON,
		Validator: &jsonValidator{s: s, lim: opts.Limits},
	}, nil
}

type jsonValidator struct {
	s   *jsonschema.Schema
	lim jsonschema.Limits
}

func (j *jsonValidator) Check(payload []byte, dst []record.Violation) (any, []record.Violation) {
	return j.s.Check(payload, j.lim, dst)
}

var _ Layered = (*jsonValidator)(nil)

func (j *jsonValidator) Decode(payload []byte, dst []record.Violation) (any, []record.Violation, bool) {
	v, bad, ok := jsonschema.Decode(payload, j.lim)
	if !ok {
		return nil, append(dst, bad), false
	}
	return v, dst, true
}

func (j *jsonValidator) CheckDecoded(decoded any, dst []record.Violation) []record.Violation {
	return j.s.Validate(decoded, dst)
}

var _ DecodeSharer = (*jsonValidator)(nil)

// DecodesLike implements DecodeSharer: another JSON Schema version with
// the same decoder limits.
func (j *jsonValidator) DecodesLike(other Validator) bool {
	o, ok := other.(*jsonValidator)
	return ok && o.lim == j.lim
}
