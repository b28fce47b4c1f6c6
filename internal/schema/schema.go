package schema

import (
	"context"
	"errors"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
)

// Format is a schema language. The strings match Confluent Schema Registry's
// schemaType values.
type Format string

// Schema formats.
const (
	FormatJSON Format = "JSON"
	FormatAvro Format = "AVRO"
	// FormatProtobuf is a .proto schema; records are Protobuf binary.
	FormatProtobuf Format = "PROTOBUF"
)

// Validator is one compiled schema version of some format. It owns both the
// decode layer and the schema layer for its format, since decoding is
// format-specific (Avro cannot even be decoded without its schema).
//
// Implementations are safe for concurrent use.
type Validator interface {
	// Check decodes payload and validates it, appending one violation per
	// problem to dst. It returns the decoded value (nil when decoding
	// failed) for the rules layer.
	Check(payload []byte, dst []record.Violation) (decoded any, violations []record.Violation)
}

// Version is one version of a subject, compiled and ready to validate.
type Version struct {
	Subject   string
	Version   int
	Format    Format
	Validator Validator
	// Rules are the business rules records of this version must satisfy
	// once they pass Validator; nil when there are none. They belong to the
	// version, as in Confluent Data Contracts: a new schema version may
	// bring new rules.
	Rules *rules.Set
	// Fallback are older versions tried in order when this one rejects a
	// record (a gradual rollout: v2 enforced, v1 still accepted); the first
	// that accepts it decides. Nil when none. A resolver sets it on its
	// own copy of the version, never on a shared one.
	Fallback []*Version
}

// Resolver finds the schema a record must satisfy.
type Resolver interface {
	// Resolve returns the version the record on topic must be validated
	// against. A missing binding or subject is ErrNotFound (wrapped in a
	// *NotFoundError naming what is missing): data, not an outage. Any
	// other error is operational and must be retried.
	Resolve(topic string) (*Version, error)
}

// ShadowResolver names the candidate versions a topic's records are also
// evaluated against, in shadow: their verdicts are reported, never routed.
type ShadowResolver interface {
	// Shadows returns the versions of topic's subject in shadow, newest
	// first; nil when there are none. Their Fallback is nil: a candidate
	// is judged alone, as it would be once the versions before it are
	// deprecated.
	Shadows(topic string) []*Version
}

// ErrNotFound means no schema could be resolved for the record.
var ErrNotFound = errors.New("schema not found")

// NotFoundError says which subject (if any) was looked for.
type NotFoundError struct {
	Topic   string
	Subject string // "" when the topic has no binding at all
	// Detail replaces the default message when set.
	Detail string
}

func (e *NotFoundError) Error() string {
	if e.Detail != "" {
		return e.Detail
	}
	if e.Subject == "" {
		return "no schema subject is bound to topic " + e.Topic
	}
	return "subject " + e.Subject + " (bound to topic " + e.Topic + ") has no schema version"
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// IDResolver resolves the schema ids records name in a Confluent wire
// header (a magic-byte prefix or a __value_schema_id header).
type IDResolver interface {
	// Wire reports whether records of topic are read for a wire header;
	// when false their values are validated as they are.
	Wire(topic string) bool
	// ResolveID returns the version of topic's subject whose schema has the
	// registry id. An id that is unknown, not a version of the subject, or
	// no longer allowed (deleted; deprecated when so configured) is
	// ErrNotFound in a *NotFoundError saying which; any other error is
	// operational and must be retried. A lookup it makes runs under ctx.
	ResolveID(ctx context.Context, topic string, id int) (*Version, error)
	// ResolveGUID is ResolveID for a schema named by its GUID (the 0x01
	// wire header), in UUID form.
	ResolveGUID(ctx context.Context, topic string, guid string) (*Version, error)
}

// WriterChecker is a Validator that reads payloads written with another
// version's schema into its own (Avro schema resolution).
type WriterChecker interface {
	CheckWithWriter(writer Validator, payload []byte, dst []record.Violation) (decoded any, violations []record.Violation)
}

// MessageChecker is a Validator whose schema declares several message types
// (Protobuf): CheckMessage is Check for the type that the message indexes
// of a record's wire header select.
type MessageChecker interface {
	CheckMessage(indexes []int, payload []byte, dst []record.Violation) (decoded any, violations []record.Violation)
}

// Layered is a Validator whose decode and schema layers can run apart, so
// their time can be measured apart. Validators that decode and check in one
// pass (Avro binary) do not implement it.
type Layered interface {
	// Decode decodes payload; on failure it appends the violation to dst
	// and ok is false.
	Decode(payload []byte, dst []record.Violation) (decoded any, violations []record.Violation, ok bool)
	// CheckDecoded validates what Decode returned.
	CheckDecoded(decoded any, dst []record.Violation) []record.Violation
}

// DecodeSharer is a Validator that knows whether another one decodes
// payloads exactly as it does (same format, same decoder limits): a value
// it decoded can then be checked by the other (Layered.CheckDecoded)
// without decoding the payload again, as shadow evaluation does.
type DecodeSharer interface {
	DecodesLike(other Validator) bool
}
