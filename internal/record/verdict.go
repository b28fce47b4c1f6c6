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
	// Shadow holds the verdicts of the versions the record was also
	// evaluated against in shadow (candidates that decide nothing), when it
	// was; empty otherwise. They never route the record.
	Shadow []ShadowVerdict
}

// ShadowVerdict is a candidate version's verdict on a record it was
// evaluated against in shadow.
type ShadowVerdict struct {
	Subject    string
	Version    int
	Violations []Violation
}

// Valid reports whether the candidate accepted the record.
func (s *ShadowVerdict) Valid() bool { return len(s.Violations) == 0 }

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

// Reset clears v for reuse, keeping the violations' backing arrays.
func (v *Verdict) Reset() {
	v.Subject, v.Version, v.FallbackFrom = "", 0, 0
	v.Violations = v.Violations[:0]
	v.Shadow = v.Shadow[:0]
}

// AddShadow appends an empty verdict of subject's version to v.Shadow,
// reusing the storage of earlier ones, and returns it to be filled.
func (v *Verdict) AddShadow(subject string, version int) *ShadowVerdict {
	n := len(v.Shadow)
	if n < cap(v.Shadow) {
		v.Shadow = v.Shadow[:n+1]
	} else {
		v.Shadow = append(v.Shadow, ShadowVerdict{})
	}
	s := &v.Shadow[n]
	s.Subject, s.Version, s.Violations = subject, version, s.Violations[:0]
	return s
}
