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
	before, err := h.reg.Get(ctx, subject, version, false)
	if err != nil {
		return registry.Version{}, err
	}
	v, err := h.reg.SetState(ctx, subject, before.Version.Version, state)
	if err != nil {
		return registry.Version{}, err
	}
	h.log.InfoContext(ctx, "schema version rollout state changed", "subject", subject,
		"version", v.Version, "from", before.State, "to", v.State)
	h.recordCtx(ctx, "schema.state", schemaTarget(subject, v.Version), map[string]any{"from": before.State, "to": v.State})
	return v, nil
}
