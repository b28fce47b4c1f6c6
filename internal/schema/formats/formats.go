package formats

import (
	"errors"
	"fmt"

	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/avro"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

// ErrUnknown is a format Compile has no adapter for.
var ErrUnknown = errors.New("unknown schema format")

// Options configure Compile.
type Options struct {
	// Limits bound the decoding of payloads: the nesting depth and
	// duplicate keys of JSON (JSON Schema, and Avro's JSON encoding), and
	// Protobuf's message nesting (MaxDepth). Zero values take the
	// adapters' defaults (depth 64, duplicate keys refused).
	Limits jsonschema.Limits
	// Message is the Protobuf message type (pkg.Msg) of payloads without
	// message indexes. Default "": the schema's first top-level message.
	// Other formats ignore it.
	Message string
}

// Compile compiles src, a schema in format f, as version of subject.
func Compile(f schema.Format, subject string, version int, src []byte, opts Options) (*schema.Version, error) {
	switch f {
	case schema.FormatJSON:
		return jsonschema.CompileVersion(subject, version, src, opts.Limits)
	case schema.FormatAvro:
		return avro.Compile(subject, version, src, avro.Options{JSONLimits: opts.Limits})
	case schema.FormatProtobuf:
		return protobuf.Compile(subject, version, src, protobuf.Options{MaxDepth: opts.Limits.MaxDepth, Message: opts.Message})
	}
	return nil, fmt.Errorf("%w %q (want %s, %s or %s)", ErrUnknown, string(f), schema.FormatJSON, schema.FormatAvro, schema.FormatProtobuf)
}
