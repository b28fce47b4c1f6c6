package registryapi

import (
	"context"

	"github.com/dataquarantine/dataquarantine/internal/registry"
)

// The registry's changes as this API makes them, audited, for the other
// front ends of the same registry (the web UI): one way to register and to
// roll out, whichever page or client asks.

// Register registers req as POST /subjects/{subject}/versions does, and
// audits it (schema.register) as ctx's principal.
func (h *Handler) Register(ctx context.Context, req registry.RegisterRequest) (registry.SubjectSchema, error) {
	s, err := h.reg.Register(ctx, req)
	if err != nil {
		return registry.SubjectSchema{}, err
	}
	h.recordCtx(ctx, "schema.register", schemaTarget(s.Subject, s.Version.Version), map[string]any{"id": s.SchemaID, "state": s.State})
	return s, nil
}

// SetState moves a version (registry.Latest, or a number) to a rollout
// state as PUT /api/v1/schemas/{subject}/versions/{version}/state does,
// and logs and audits it (schema.state, with the state it left) as ctx's
// principal.
func (h *Handler) SetState(ctx context.Context, subject string, version int, state registry.State) (registry.Version, error) {
	return h.ChangeState(ctx, subject, version, "", state)
}

// ChangeState is SetState for a change that starts from the state from
// ("" is any): a version in another is a *registry.WrongStateError,
// unchanged and not audited. The UI's shadow controls (start and stop a
// shadow) are such changes.
func (h *Handler) ChangeState(ctx context.Context, subject string, version int, from, to registry.State) (registry.Version, error) {
	// A missing version is not found whatever else is wrong with the
	// change (a bad state, a read-only subject), as the API has answered.
	before, err := h.reg.Get(ctx, subject, version, false)
	if err != nil {
		return registry.Version{}, err
	}
	v, left, err := h.reg.ChangeState(ctx, subject, before.Version.Version, from, to)
	if err != nil {
		return registry.Version{}, err
	}
	h.log.InfoContext(ctx, "schema version rollout state changed", "subject", subject,
		"version", v.Version, "from", left, "to", v.State)
	h.recordCtx(ctx, "schema.state", schemaTarget(subject, v.Version), map[string]any{"from": left, "to": v.State})
	return v, nil
}
