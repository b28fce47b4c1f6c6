package httpapi

import "context"

// Principal is who makes a request: an API token's name and role, set in
// the request context by the auth middleware (WithPrincipal).
type Principal struct {
	Name string
	Role string
}

// Anonymous is the actor of requests without a principal (auth off).
const Anonymous = "anonymous"

type principalKey struct{}

// WithPrincipal returns ctx carrying p, for the handlers to audit.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or Anonymous with no role.
func PrincipalFrom(ctx context.Context) Principal {
	if p, ok := ctx.Value(principalKey{}).(Principal); ok && p.Name != "" {
		return p
	}
	return Principal{Name: Anonymous}
}

// ActorFrom returns the audit actor and role of the request context.
func ActorFrom(ctx context.Context) (name, role string) {
	p := PrincipalFrom(ctx)
	return p.Name, p.Role
}
