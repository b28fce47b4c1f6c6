package record

// Violation is one reason a record is invalid. A failed validation is data,
// not an error: violations are routed, never returned as Go errors.
type Violation struct {
	Type ErrorType `json:"type"`
	// Field is a JSON pointer into the payload ("/user_id"); "" is the whole
	// payload.
	Field string `json:"field"`
	// Keyword is the schema keyword ("pattern", "required") or rule name
	// that was violated; "" when the payload could not be decoded at all.
	Keyword string `json:"keyword"`
	Message string `json:"message"`
}

// Verdict is the outcome of validating one record.
type Verdict struct {
	// Subject and Version name the schema the record was checked against;
	// Subject is "" when none could be resolved, Version 0 when unversioned.
	Subject string
	Version int
	// FallbackFrom is the enforced version that rejected the record before
	// the older Version accepted it (a rollout fallback); 0 when the
	// enforced version decided.
	FallbackFrom int
	Violations   []Violation
}

// Valid reports whether the record passed every layer.
func (v *Verdict) Valid() bool { return len(v.Violations) == 0 }

// Primary returns the violation that classifies the record (the first one),
// or the zero Violation for a valid record.
func (v *Verdict) Primary() Violation {
	if len(v.Violations) == 0 {
		return Violation{}
	}
	return v.Violations[0]
}

// Reset clears v for reuse, keeping the violations' backing array.
func (v *Verdict) Reset() {
	v.Subject, v.Version, v.FallbackFrom = "", 0, 0
	v.Violations = v.Violations[:0]
}
