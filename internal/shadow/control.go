package shadow

import (
	"context"
	"time"
)

// Control reports what a subject's versions in shadow would change,
// promotes one to enforced when its report allows it, and puts versions in
// and out of shadow: what the REST API (package httpapi) and the browser
// (package web) ask of the gateway, declared once for both. The gateway's
// is the only implementation; its errors are this package's.
type Control interface {
	// ShadowReport returns subject's versions in shadow with this
	// gateway's counts over the last window; ErrNotFound when there is no
	// such subject.
	ShadowReport(ctx context.Context, subject string, window time.Duration) (SubjectReport, error)
	// Promote enforces version of subject when the guard allows its
	// report (a *RefusedError otherwise; ErrWrongState, ErrNotFound,
	// ErrNotPermitted when it cannot be), and audits it. It returns the
	// report the guard judged.
	Promote(ctx context.Context, subject string, version int, g Guard) (Report, error)
	// SetShadow puts a registered version in shadow (on) or takes one out
	// of shadow, back to registered (off), and audits it; ErrWrongState
	// when the version is not in the state the change starts from,
	// ErrNotFound, ErrNotPermitted as for Promote.
	SetShadow(ctx context.Context, subject string, version int, on bool) error
}
