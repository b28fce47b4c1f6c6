package validate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/wire"
)

// DefaultMaxBytes is the default payload size limit (1 MiB).
const DefaultMaxBytes = 1 << 20

// Options configure an Engine.
type Options struct {
	// Resolver finds each record's schema. Required.
	Resolver schema.Resolver
	// IDs resolves the schema ids records name in a Confluent wire header.
	// Default nil: values are validated as they are, never read for a
	// header.
	IDs schema.IDResolver
	// MaxBytes is the largest payload accepted; larger ones are
	// PAYLOAD_TOO_LARGE. Default DefaultMaxBytes.
	MaxBytes int
	// Now is the clock business rules read as now, called once per record
	// that reaches the rules layer. Default time.Now.
	Now func() time.Time
	// Layers receives the time each layer took (LayerDecode, LayerSchema,
	// LayerRules) on the records whose offset is a multiple of
	// LayerSampleEvery: timing every record would cost more than some
	// layers take. Default nil: not measured.
	Layers LayerObserver
	// LayerSampleEvery is how often a record is timed per layer. Default
	// DefaultLayerSampleEvery.
	LayerSampleEvery int
	// Shadows names the versions ValidateShadow evaluates records against
	// beside the enforced one. Default nil: ValidateShadow is Validate.
	Shadows schema.ShadowResolver
}

// The validation layers, as LayerObserver names them. A validator that
// decodes and checks in one pass (Avro binary, Protobuf) reports both as
// LayerSchema.
const (
	LayerDecode = "decode"
	LayerSchema = "schema"
	LayerRules  = "rules"
)

// DefaultLayerSampleEvery is the default Options.LayerSampleEvery.
const DefaultLayerSampleEvery = 16

// LayerObserver receives per-layer validation times.
type LayerObserver interface {
	ObserveLayer(layer string, d time.Duration)
}

// Engine validates records. It is safe for concurrent use.
type Engine struct {
	resolver schema.Resolver
	ids      schema.IDResolver
	maxBytes int
	now      func() time.Time
	layers   LayerObserver
	every    int64
	shadows  schema.ShadowResolver
}

// New returns an Engine.
func New(opts Options) (*Engine, error) {
	if opts.Resolver == nil {
		return nil, errors.New("validate: Options.Resolver is required")
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LayerSampleEvery <= 0 {
		opts.LayerSampleEvery = DefaultLayerSampleEvery
	}
	return &Engine{
		resolver: opts.Resolver, ids: opts.IDs, maxBytes: opts.MaxBytes, now: opts.Now,
		layers: opts.Layers, every: int64(opts.LayerSampleEvery), shadows: opts.Shadows,
	}, nil
}

// Validate is ValidateContext for callers with no deadline of their own
// (offline validation, tests): registry lookups of schema ids are bounded
// by the resolver's own timeout only.
func (e *Engine) Validate(rec *record.Record, v *record.Verdict) error {
	return e.ValidateContext(context.Background(), rec, v)
}

// ValidateContext fills v (which it resets first) with the verdict on rec.
// A registry lookup of the schema id or GUID a record names runs under ctx
// (the batch's). The returned error is operational only (the resolver
// failed for a reason other than a missing schema, or ctx ended) and means
// "retry", never "invalid". A tombstone (nil value) is valid by
// definition: it carries no data to check.
func (e *Engine) ValidateContext(ctx context.Context, rec *record.Record, v *record.Verdict) error {
	_, _, _, err := e.validate(ctx, rec, v)
	return err
}

// validate is ValidateContext, also returning the version that judged rec
// (nil when none could be resolved) and the value its schema layer decoded
// (nil when the payload was not decoded, or named its schema).
func (e *Engine) validate(ctx context.Context, rec *record.Record, v *record.Verdict) (sv *schema.Version, decoded any, named bool, err error) {
	v.Reset()
	sv, err = e.resolver.Resolve(rec.Topic)
	if err != nil {
		var nf *schema.NotFoundError
		if !errors.As(err, &nf) {
			return nil, nil, false, fmt.Errorf("resolving schema for topic %s: %w", rec.Topic, err)
		}
		v.Subject = nf.Subject
		v.Violations = append(v.Violations, record.Violation{
			Type:    record.SchemaNotFound,
			Message: nf.Error(),
		})
		return nil, nil, false, nil
	}
	decoded, named, err = e.judge(ctx, rec, sv, v, true)
	return sv, decoded, named, err
}

// judge fills v with sv's verdict on rec, its fallbacks included, and
// returns the value sv decoded (see validate), or named when rec names its
// schema in a wire header (then checked against that version, nothing
// decoded is returned). timed lets the layers be timed (Options.Layers).
func (e *Engine) judge(ctx context.Context, rec *record.Record, sv *schema.Version, v *record.Verdict, timed bool) (decoded any, named bool, err error) {
	v.Subject, v.Version = sv.Subject, sv.Version
	if rec.Value == nil {
		return nil, false, nil
	}
	if len(rec.Value) > e.maxBytes {
		v.Violations = append(v.Violations, record.Violation{
			Type:    record.PayloadTooLarge,
			Keyword: "max_bytes",
			Message: fmt.Sprintf("payload is %d bytes, the limit is %d", len(rec.Value), e.maxBytes),
		})
		return nil, false, nil
	}
	if e.ids != nil && e.ids.Wire(rec.Topic) {
		// Protobuf records carry message indexes after the schema id.
		h, payload, ok, err := wire.Parse(rec.Value, rec.Headers, wire.Options{Protobuf: sv.Format == schema.FormatProtobuf})
		switch {
		case err != nil:
			v.Violations = append(v.Violations, record.Violation{
				Type: record.DecodeError, Keyword: "wire_header", Message: err.Error(),
			})
			return nil, false, nil
		case ok:
			return nil, true, e.validateWritten(ctx, rec.Topic, sv, h, payload, v)
		}
	}
	// Sampled by offset: no state shared by the goroutines validating a
	// batch, and an even spread over each partition.
	if timed && e.layers != nil && rec.Offset%e.every == 0 {
		decoded, v.Violations = e.checkTimed(sv, rec.Value, v.Violations)
	} else {
		decoded, v.Violations = e.check(sv, rec.Value, v.Violations)
	}
	if len(v.Violations) == 0 || len(sv.Fallback) == 0 {
		return decoded, false, nil
	}
	// A rollout fallback: an older version still accepted may take the
	// record. If none does, the errors stay those of the enforced version.
	var scratch []record.Violation
	for _, fb := range sv.Fallback {
		if _, scratch = e.check(fb, rec.Value, scratch[:0]); len(scratch) == 0 {
			v.Version, v.FallbackFrom = fb.Version, sv.Version
			v.Violations = v.Violations[:0]
			return decoded, false, nil
		}
	}
	return decoded, false, nil
}

// check runs sv's schema layer, then its rules on a record that passed it,
// appending violations to dst. It returns the decoded value too.
func (e *Engine) check(sv *schema.Version, value []byte, dst []record.Violation) (any, []record.Violation) {
	decoded, dst := sv.Validator.Check(value, dst)
	// Rules assume the shape the schema guarantees: on a record that broke
	// it they would only repeat its violations in a vaguer form.
	if len(dst) == 0 && sv.Rules.Len() > 0 {
		dst = sv.Rules.Eval(decoded, e.now(), dst)
	}
	return decoded, dst
}

// checkTimed is check, reporting each layer's time to e.layers.
func (e *Engine) checkTimed(sv *schema.Version, value []byte, dst []record.Violation) (any, []record.Violation) {
	start := time.Now()
	var decoded any
	if l, ok := sv.Validator.(schema.Layered); ok {
		var decodedOK bool
		decoded, dst, decodedOK = l.Decode(value, dst)
		now := time.Now()
		e.layers.ObserveLayer(LayerDecode, now.Sub(start))
		if !decodedOK {
			return nil, dst
		}
		start = now
		dst = l.CheckDecoded(decoded, dst)
	} else {
		decoded, dst = sv.Validator.Check(value, dst)
	}
	now := time.Now()
	e.layers.ObserveLayer(LayerSchema, now.Sub(start))
	if len(dst) == 0 && sv.Rules.Len() > 0 {
		dst = sv.Rules.Eval(decoded, e.now(), dst)
		e.layers.ObserveLayer(LayerRules, time.Since(now))
	}
	return decoded, dst
}

// validateWritten validates a record that names its schema (h): against
// that version, whatever its rollout state, with no fallback. An Avro
// payload is decoded with the schema it names and read into the enforced
// version's (schema resolution), so a writer the readers cannot read is
// caught at the field where they disagree. A Protobuf payload is decoded as
// the message type its header's message indexes select.
func (e *Engine) validateWritten(ctx context.Context, topic string, enforced *schema.Version, h wire.Header, payload []byte, v *record.Verdict) error {
	var writer *schema.Version
	var err error
	keyword, named := "schema_id", strconv.Itoa(h.ID)
	switch {
	case h.Magic == wire.MagicGUID:
		keyword, named = "schema_guid", h.GUID.String()
		writer, err = e.ids.ResolveGUID(ctx, topic, named)
	case h.ID < 1 || h.ID > wire.MaxRegistryID:
		// No registry assigns it: not worth a lookup.
		v.Violations = append(v.Violations, record.Violation{
			Type: record.SchemaNotFound, Keyword: keyword,
			Message: fmt.Sprintf("schema id %d is outside the ids a schema registry assigns (1 to %d): no schema has it", h.ID, wire.MaxRegistryID),
		})
		return nil
	default:
		writer, err = e.ids.ResolveID(ctx, topic, h.ID)
	}
	if err != nil {
		var nf *schema.NotFoundError
		if !errors.As(err, &nf) {
			return fmt.Errorf("resolving schema %s for topic %s: %w", named, topic, err)
		}
		v.Violations = append(v.Violations, record.Violation{
			Type: record.SchemaNotFound, Keyword: keyword, Message: nf.Error(),
		})
		return nil
	}
	v.Version = writer.Version
	var decoded any
	wc, resolves := enforced.Validator.(schema.WriterChecker)
	mc, indexed := writer.Validator.(schema.MessageChecker)
	switch {
	case resolves && writer.Format == enforced.Format:
		decoded, v.Violations = wc.CheckWithWriter(writer.Validator, payload, v.Violations)
	case indexed && h.MessageIndexes != nil:
		decoded, v.Violations = mc.CheckMessage(h.MessageIndexes, payload, v.Violations)
	default:
		decoded, v.Violations = writer.Validator.Check(payload, v.Violations)
	}
	if len(v.Violations) == 0 && writer.Rules.Len() > 0 {
		v.Violations = writer.Rules.Eval(decoded, e.now(), v.Violations)
	}
	return nil
}
