package avro

import (
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/twmb/avro"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
)

// Encoding is how a payload encodes an Avro datum.
type Encoding uint8

// Encodings.
const (
	// Binary is Avro's binary encoding, what Kafka producers write.
	Binary Encoding = iota
	// JSON is Avro's JSON encoding: a JSON document shaped by the schema,
	// unions either bare or as {"type": value}.
	JSON
)

func (e Encoding) String() string {
	if e == JSON {
		return "json"
	}
	return "binary"
}

// Options configure Compile and Parse.
type Options struct {
	// Encoding is the payloads' encoding. Default Binary.
	Encoding Encoding
	// JSONLimits bound the JSON decoder when Encoding is JSON; zero values
	// take jsonschema's defaults (depth 64, duplicate keys refused).
	JSONLimits jsonschema.Limits
}

// Validator checks payloads against one Avro schema. It is safe for
// concurrent use.
type Validator struct {
	sch  *avro.Schema
	opts Options
	fp   uint64 // CRC-64-AVRO fingerprint of the canonical form

	// resolved caches Resolve's work per writer fingerprint: a registry
	// hands the same few writer schemas over and over.
	mu       sync.Mutex
	resolved map[uint64]resolution
}

type resolution struct {
	v   *Validator
	err error
}

// maxResolved bounds the resolution cache; past it, resolutions are
// computed on each call.
const maxResolved = 256

var _ schema.Validator = (*Validator)(nil)

// Parse compiles an Avro schema (its JSON text). Names must follow Avro's
// strict rules; named types must be defined within src.
func Parse(src []byte, opts Options) (*Validator, error) {
	sch, err := avro.Parse(string(src))
	if err != nil {
		return nil, err
	}
	return newValidator(sch, opts), nil
}

func newValidator(sch *avro.Schema, opts Options) *Validator {
	return &Validator{
		sch:  sch,
		opts: opts,
		fp:   binary.BigEndian.Uint64(sch.Fingerprint(avro.NewRabin())),
	}
}

// Compile compiles an Avro schema into a Version of subject.
func Compile(subject string, version int, src []byte, opts Options) (*schema.Version, error) {
	v, err := Parse(src, opts)
	if err != nil {
		return nil, fmt.Errorf("compiling Avro schema for subject %s version %d: %w", subject, version, err)
	}
	return &schema.Version{Subject: subject, Version: version, Format: schema.FormatAvro, Validator: v}, nil
}

// Schema returns the compiled schema.
func (v *Validator) Schema() *avro.Schema { return v.sch }

// Check decodes payload with the schema, appending a violation to dst when
// it does not decode, and returns the decoded value (nil when decoding
// failed).
func (v *Validator) Check(payload []byte, dst []record.Violation) (any, []record.Violation) {
	if v.opts.Encoding == JSON {
		return v.checkJSON(payload, dst)
	}
	var out any
	rest, err := v.sch.Decode(payload, &out)
	if err != nil {
		return nil, append(dst, decodeViolation(err))
	}
	if len(rest) > 0 {
		return nil, append(dst, record.Violation{
			Type:    record.DecodeError,
			Message: fmt.Sprintf("%d bytes left over after the record", len(rest)),
		})
	}
	return out, dst
}

// Resolve returns a validator for payloads written with writer that decodes
// them into v's schema (Avro schema resolution: fields added since take
// their defaults, removed fields are skipped, int widens to long...). An
// incompatible writer is an error, a *ResolveError naming the field. The
// result is cached per writer schema.
func (v *Validator) Resolve(writer *Validator) (*Validator, error) {
	if writer.fp == v.fp {
		return v, nil
	}
	v.mu.Lock()
	r, ok := v.resolved[writer.fp]
	v.mu.Unlock()
	if ok {
		return r.v, r.err
	}
	res, err := avro.Resolve(writer.sch, v.sch)
	if err != nil {
		r.err = resolveError(err)
	} else {
		r.v = newValidator(res, Options{Encoding: v.opts.Encoding, JSONLimits: v.opts.JSONLimits})
	}
	v.mu.Lock()
	if v.resolved == nil {
		v.resolved = make(map[uint64]resolution)
	}
	if len(v.resolved) < maxResolved {
		v.resolved[writer.fp] = r
	}
	v.mu.Unlock()
	return r.v, r.err
}

// CheckWithWriter is Check for a payload written with another schema,
// writer, typically the one a record's schema id names. A writer that is
// not an Avro schema, or cannot be resolved to v's schema, is a
// SCHEMA_VIOLATION at the field where the two disagree.
func (v *Validator) CheckWithWriter(writer schema.Validator, payload []byte, dst []record.Violation) (any, []record.Violation) {
	w, ok := writer.(*Validator)
	if !ok {
		return nil, append(dst, record.Violation{
			Type:    record.SchemaViolation,
			Keyword: "resolution",
			Message: fmt.Sprintf("the record was written with a %T schema, not Avro", writer),
		})
	}
	r, err := v.Resolve(w)
	if err != nil {
		var field string
		if re := (*ResolveError)(nil); errors.As(err, &re) {
			field = re.Field
		}
		return nil, append(dst, record.Violation{
			Type:    record.SchemaViolation,
			Field:   field,
			Keyword: "resolution",
			Message: err.Error(),
		})
	}
	return r.Check(payload, dst)
}

// ResolveError says why a writer schema cannot be read as the reader schema.
type ResolveError struct {
	// Field is the JSON pointer of the field where they disagree, "" for
	// the record itself.
	Field string
	// Reason is what disagrees, e.g. "reader int vs writer string:
	// incompatible types".
	Reason string
}

func (e *ResolveError) Error() string {
	at := e.Field
	if at == "" {
		at = "the record"
	}
	return fmt.Sprintf("the writer schema cannot be read as the reader schema at %s: %s", at, e.Reason)
}

func resolveError(err error) error {
	var ce *avro.CompatibilityError
	if !errors.As(err, &ce) {
		return &ResolveError{Reason: trimPrefix(err.Error())}
	}
	return &ResolveError{
		Field:  pointer(ce.Path),
		Reason: fmt.Sprintf("reader %s vs writer %s: %s", ce.ReaderType, ce.WriterType, ce.Detail),
	}
}

// decodeViolation describes a binary decode failure: where (the field path
// twmb/avro reports, dotted) and what.
func decodeViolation(err error) record.Violation {
	v := record.Violation{Type: record.DecodeError}
	var se *avro.SemanticError
	if errors.As(err, &se) {
		v.Field = pointer(se.Field)
		if se.Err != nil {
			err = se.Err
		}
	}
	var sb *avro.ShortBufferError
	switch {
	case errors.As(err, &sb) && sb.Need > 0:
		v.Message = fmt.Sprintf("the record is cut short: %s needs %d bytes, only %d remain", typeName(sb.Type), sb.Need, sb.Have)
	case errors.As(err, &sb):
		v.Message = fmt.Sprintf("the record is cut short: no bytes left for %s", typeName(sb.Type))
	default:
		v.Message = "invalid Avro: " + varintNames.Replace(trimPrefix(err.Error()))
	}
	return v
}

// varintNames renames twmb/avro's internal varint readers in messages.
var varintNames = strings.NewReplacer("uvarlong", "varint", "uvarint", "varint")

// typeName names what twmb/avro was reading in Avro's terms.
func typeName(t string) string {
	switch t {
	case "uvarint", "uvarlong", "varint", "varlong":
		return "a varint (a length, count, int, long or union index)"
	case "uint32":
		return "a float"
	case "uint64":
		return "a double"
	}
	return "a " + t
}

// trimPrefix drops the library's "avro: " and "avro json: " prefixes,
// repeated at each level of wrapping.
func trimPrefix(s string) string {
	for {
		t := strings.TrimPrefix(strings.TrimPrefix(s, "avro json: "), "avro: ")
		if t == s {
			return s
		}
		s = t
	}
}

// pointer turns a dotted field path (address.zip) into a JSON pointer
// (/address/zip). Avro names cannot hold '/' or '~', so nothing needs
// escaping.
func pointer(dotted string) string {
	if dotted == "" {
		return ""
	}
	return "/" + strings.ReplaceAll(dotted, ".", "/")
}

// checkJSON checks a payload in Avro's JSON encoding: strict JSON first,
// then the schema.
func (v *Validator) checkJSON(payload []byte, dst []record.Violation) (any, []record.Violation) {
	if _, bad, ok := jsonschema.Decode(payload, v.opts.JSONLimits); !ok {
		return nil, append(dst, bad)
	}
	var out any
	if err := v.sch.DecodeJSON(payload, &out); err != nil {
		return nil, append(dst, jsonViolation(err))
	}
	return out, dst
}

var (
	missingField = regexp.MustCompile(`missing required field "([^"]*)"`)
	unknownEnum  = regexp.MustCompile(`unknown enum symbol`)
)

// jsonViolation classifies an error of DecodeJSON on a payload that is
// valid JSON: a missing field, an unknown enum symbol, or a value of the
// wrong type.
func jsonViolation(err error) record.Violation {
	v := record.Violation{Type: record.TypeMismatch, Keyword: "type"}
	var se *avro.SemanticError
	if errors.As(err, &se) {
		v.Field = pointer(se.Field)
		if se.Err != nil {
			err = se.Err
		}
	}
	msg := trimPrefix(err.Error())
	switch {
	case missingField.MatchString(msg):
		v.Type, v.Keyword = record.MissingField, "required"
		v.Field += "/" + missingField.FindStringSubmatch(msg)[1]
	case unknownEnum.MatchString(msg):
		v.Type, v.Keyword = record.EnumViolation, "enum"
	}
	v.Message = msg
	return v
}
