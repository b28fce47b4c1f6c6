package shadow

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Guard is what promoting a version out of shadow requires of its report:
// that it would newly reject at most MaxNewlyRejected of the records
// evaluated over Window, and that some were.
type Guard struct {
	// MaxNewlyRejected is the largest share (0 to 1) of the evaluated
	// records the version may newly reject. Default 0: none.
	MaxNewlyRejected float64
	// Window is how far back the records count, at most MaxWindow.
	// Default (0) MaxWindow.
	Window time.Duration
}

// ErrNoEvidence means no record was evaluated against the version in the
// guard's window: nothing shows what enforcing it would do.
var ErrNoEvidence = errors.New("no record evaluated in shadow")

// RefusedError is a promotion the guard refused, with the figures.
type RefusedError struct {
	Subject string
	Version int
	// Window is the span the figures cover.
	Window time.Duration
	// Seen and NewlyRejected are the records evaluated, and those the
	// version would newly reject, over Window.
	Seen, NewlyRejected int64
	// Max is the share the guard allowed.
	Max float64
	// Top is the commonest error of the newly rejected records, if any.
	Top *ErrorCount
}

// Share is the share of evaluated records the version would newly reject.
func (e *RefusedError) Share() float64 { return share(e.NewlyRejected, e.Seen) }

func (e *RefusedError) Error() string {
	if e.Seen == 0 {
		return fmt.Sprintf("no record of subject %s was evaluated against version %d in the last %s on this gateway: nothing shows what enforcing it would reject; let traffic through it in shadow first",
			e.Subject, e.Version, window(e.Window))
	}
	msg := fmt.Sprintf("version %d of %s would newly reject %s of records (%d of %d evaluated in the last %s), above the %s allowed",
		e.Version, e.Subject, Percent(e.Share()), e.NewlyRejected, e.Seen, window(e.Window), Percent(e.Max))
	if e.Top != nil {
		at := ""
		if e.Top.Field != "" {
			at = " at " + e.Top.Field
		}
		msg += fmt.Sprintf("; top: %s%s (%d records)", e.Top.Type, at, e.Top.Records)
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrNoEvidence) true when nothing was seen.
func (e *RefusedError) Unwrap() error {
	if e.Seen == 0 {
		return ErrNoEvidence
	}
	return nil
}

// window formats a window in whole units: "1h", "15m".
func window(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

// Validate checks the guard's values.
func (g Guard) Validate() error {
	switch {
	case math.IsNaN(g.MaxNewlyRejected) || g.MaxNewlyRejected < 0 || g.MaxNewlyRejected > 1:
		return fmt.Errorf("the largest newly rejected share must be between 0 and 1 (0%% to 100%%), got %v", g.MaxNewlyRejected)
	case g.Window < 0 || g.Window > MaxWindow:
		return fmt.Errorf("the window must be between 1m and %s, got %s", window(MaxWindow), g.Window)
	}
	return nil
}

// Check returns nil when r (a Report over the guard's window) allows the
// promotion, else a *RefusedError.
func (g Guard) Check(r Report) error {
	c := r.Recent
	if c.Seen() > 0 && c.NewlyRejectedShare() <= g.MaxNewlyRejected {
		return nil
	}
	e := &RefusedError{Subject: r.Subject, Version: r.Version, Window: r.Window, Seen: c.Seen(), NewlyRejected: c.NewlyRejected, Max: g.MaxNewlyRejected}
	if len(c.NewlyRejectedBy) > 0 {
		top := c.NewlyRejectedBy[0]
		e.Top = &top
	}
	return e
}
