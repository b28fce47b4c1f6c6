package validate

import (
	"context"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// ValidateShadow is ValidateContext, then evaluates rec against each version its
// topic's subject has in shadow (Options.Shadows), appending their verdicts
// to v.Shadow: what each candidate would decide if it alone were enforced
// (no fallback; a record that names its schema is checked as it would be
// then). v's own verdict, which routes the record, is Validate's. A
// candidate that decodes like the enforced version checks the value it
// decoded, so the shadow costs the candidate's schema and rules layers, not
// a second decode.
func (e *Engine) ValidateShadow(ctx context.Context, rec *record.Record, v *record.Verdict) error {
	sv, decoded, named, err := e.validate(ctx, rec, v)
	if err != nil || e.shadows == nil {
		return err
	}
	for _, c := range e.shadows.Shadows(rec.Topic) {
		s := v.AddShadow(c.Subject, c.Version)
		switch {
		case decoded != nil && decodesAlike(sv, c):
			s.Violations = e.checkDecoded(c, decoded, s.Violations)
			continue
		case named && !readsWriters(sv, c):
			// A record naming its schema is checked against that version,
			// whichever is enforced: the candidate's verdict is the one
			// just given, without resolving and decoding it again.
			s.Violations = append(s.Violations, v.Violations...)
			continue
		}
		scratch := record.Verdict{Violations: s.Violations}
		if _, _, err := e.judge(ctx, rec, c, &scratch, false); err != nil {
			return err
		}
		s.Violations = scratch.Violations
	}
	return nil
}

// readsWriters reports whether enforcing b instead of a could change the
// verdict on a record that names its schema: only a version that reads
// the writer's data into its own (Avro's schema resolution,
// schema.WriterChecker) judges such a record by itself, and a format
// change parses the wire header otherwise.
func readsWriters(a, b *schema.Version) bool {
	if a == nil || a.Format != b.Format {
		return true
	}
	_, resolves := b.Validator.(schema.WriterChecker)
	return resolves
}

// checkDecoded is check on a value already decoded by a version that
// decodes like sv.
func (e *Engine) checkDecoded(sv *schema.Version, decoded any, dst []record.Violation) []record.Violation {
	dst = sv.Validator.(schema.Layered).CheckDecoded(decoded, dst)
	if len(dst) == 0 && sv.Rules.Len() > 0 {
		dst = sv.Rules.Eval(decoded, e.now(), dst)
	}
	return dst
}

// decodesAlike reports whether a value a decoded can be checked by b.
func decodesAlike(a, b *schema.Version) bool {
	if a == nil || a.Format != b.Format {
		return false
	}
	s, ok := a.Validator.(schema.DecodeSharer)
	_, layered := b.Validator.(schema.Layered)
	return ok && layered && s.DecodesLike(b.Validator)
}
