package shadow

import (
	"errors"
	"time"
)

// SubjectReport is a subject's shadow evaluation as the API and the UI show
// it: the registry's view (which versions are in shadow) with this
// gateway's counts.
type SubjectReport struct {
	Subject string
	// Enforced is the subject's newest enforced version, 0 when none.
	Enforced int
	// Sample is the share of records evaluated (shadow.sample).
	Sample float64
	// Window is the span of each version's Recent counts.
	Window time.Duration
	// Versions are the subject's versions in shadow, newest first, each
	// with what this gateway counted (zero counts before its first record).
	Versions []Report
	// Registered are the versions in state registered, newest first: the
	// ones that could be put in shadow.
	Registered []int
}

// Errors of the shadow controls (API, UI) that callers branch on.
var (
	// ErrNotFound: no such subject or version.
	ErrNotFound = errors.New("not found")
	// ErrWrongState: the version is not in the rollout state the change
	// starts from (a promotion of a version not in shadow).
	ErrWrongState = errors.New("wrong rollout state")
	// ErrNotPermitted: the registry refuses the change (a subject in
	// read-only mode).
	ErrNotPermitted = errors.New("not permitted")
)
