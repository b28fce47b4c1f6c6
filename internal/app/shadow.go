package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/httpapi/registryapi"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
)

// shadowControl answers for shadow evaluation over the registry (which
// versions are in shadow) and the tally (what this gateway counted): the
// report of a subject, guarded promotion, and starting or stopping a
// version's shadow from the UI. Each change is audited like a state change
// through the API (starting and stopping a shadow are such changes).
type shadowControl struct {
	registry *registry.Registry
	changes  *registryapi.Handler // the registry's audited changes
	tally    *shadow.Tally
	audit    audit.Log // nil: none
	log      *slog.Logger
	sample   float64
}

var _ shadow.Control = (*shadowControl)(nil)

// ShadowReport implements shadow.Control.
func (c *shadowControl) ShadowReport(ctx context.Context, subject string, window time.Duration) (shadow.SubjectReport, error) {
	vs, err := c.registry.Versions(ctx, subject, false)
	if err != nil {
		return shadow.SubjectReport{}, c.registryError(err)
	}
	counted := c.tally.Report(subject, window)
	out := shadow.SubjectReport{Subject: subject, Sample: c.sample, Window: window}
	for _, v := range slices.Backward(vs) {
		switch v.State {
		case registry.StateShadow:
			out.Versions = append(out.Versions, reportOf(counted, subject, v.Version, window))
		case registry.StateEnforced:
			if out.Enforced == 0 {
				out.Enforced = v.Version
			}
		case registry.StateRegistered:
			out.Registered = append(out.Registered, v.Version)
		}
	}
	return out, nil
}

// reportOf returns version's report among counted, or an empty one.
func reportOf(counted []shadow.Report, subject string, version int, window time.Duration) shadow.Report {
	for _, r := range counted {
		if r.Version == version {
			return r
		}
	}
	return shadow.Report{Subject: subject, Version: version, Window: window, Samples: map[shadow.Outcome][]shadow.Sample{}}
}

// Promote implements shadow.Control: the version must be in shadow,
// and its report over the guard's window must allow it.
func (c *shadowControl) Promote(ctx context.Context, subject string, version int, g shadow.Guard) (shadow.Report, error) {
	if g.Window == 0 {
		g.Window = shadow.MaxWindow
	}
	v, err := c.registry.Get(ctx, subject, version, false)
	if err != nil {
		return shadow.Report{}, c.registryError(err)
	}
	r := reportOf(c.tally.Report(subject, g.Window), subject, version, g.Window)
	if v.State != registry.StateShadow {
		return r, fmt.Errorf("%w: version %d of %s is %s, not in shadow; evaluate it first (dataquarantine schema state %s %d shadow) and let traffic through it",
			shadow.ErrWrongState, version, subject, v.State, subject, version)
	}
	if err := g.Check(r); err != nil {
		c.log.InfoContext(ctx, "schema promotion refused", "subject", subject, "version", version, "reason", err)
		return r, err
	}
	// From shadow only: a stop between the check above and this change
	// makes the promotion fail instead of enforcing an unevaluated version.
	if _, _, err := c.registry.ChangeState(ctx, subject, version, registry.StateShadow, registry.StateEnforced); err != nil {
		return r, c.registryError(err)
	}
	c.log.InfoContext(ctx, "schema version promoted from shadow", "subject", subject, "version", version,
		"seen", r.Recent.Seen(), "newly_rejected", r.Recent.NewlyRejected, "max_newly_rejected", g.MaxNewlyRejected, "window", g.Window)
	c.record(ctx, "schema.promote", subject, version, map[string]any{
		"from": registry.StateShadow, "to": registry.StateEnforced,
		"max_newly_rejected": g.MaxNewlyRejected, "window": g.Window.String(),
		"seen": r.Recent.Seen(), "newly_rejected": r.Recent.NewlyRejected,
	})
	return r, nil
}

// SetShadow implements shadow.Control: a registered version into shadow
// (on) or one in shadow back to registered (off), the web UI's control, as
// the registry API's audited change from that state; any other move is the
// state API's.
func (c *shadowControl) SetShadow(ctx context.Context, subject string, version int, on bool) error {
	from, to := registry.StateRegistered, registry.StateShadow
	if !on {
		from, to = to, from
	}
	_, err := c.changes.ChangeState(ctx, subject, version, from, to)
	return c.registryError(err)
}

// record appends an audit event for a change by ctx's principal, as the
// registry API records state changes.
func (c *shadowControl) record(ctx context.Context, action, subject string, version int, details map[string]any) {
	if c.audit == nil {
		return
	}
	target := "schema/" + subject + "/" + strconv.Itoa(version)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.audit.Append(actx, httpapi.AuditEvent(ctx, action, target, "", details)); err != nil {
		c.log.ErrorContext(ctx, "appending to the audit log", "action", action, "target", target, "err", err)
		return
	}
	audit.Recorded(ctx)
}

// registryError maps the registry's errors to the shadow controls'.
func (c *shadowControl) registryError(err error) error {
	var wrong *registry.WrongStateError
	switch {
	case errors.As(err, &wrong):
		return fmt.Errorf("%w: %w", shadow.ErrWrongState, err)
	case errors.Is(err, registry.ErrSubjectNotFound), errors.Is(err, registry.ErrVersionNotFound):
		return fmt.Errorf("%w: %w", shadow.ErrNotFound, err)
	case errors.Is(err, registry.ErrOperationNotPermitted):
		return fmt.Errorf("%w: %w", shadow.ErrNotPermitted, err)
	}
	return err
}
