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
	sv, decoded, err := e.validate(ctx, rec, v)
	if err != nil || e.shadows == nil {
		return err
	}
	for _, c := range e.shadows.Shadows(rec.Topic) {
		s := v.AddShadow(c.Subject, c.Version)
		if decoded != nil && decodesAlike(sv, c) {
			s.Violations = e.checkDecoded(c, decoded, s.Violations)
			continue
		}
		scratch := record.Verdict{Violations: s.Violations}
		if _, err := e.judge(ctx, rec, c, &scratch, false); err != nil {
			return err
		}
		s.Violations = scratch.Violations
	}
	return nil
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
