package httpapi

import "context"

// Principal is who makes a request: an API token's name and role, or the
// anonymous admin when auth is off.
type Principal struct{ Name, Role string }

// Anonymous is the name of the principal of requests when auth is off.
const Anonymous = "anonymous"

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the Principal in ctx, or the anonymous admin
// {Name: "anonymous", Role: "admin"} (auth off) when there is none.
func PrincipalFrom(ctx context.Context) Principal {
	if p, ok := ctx.Value(principalKey{}).(Principal); ok {
		return p
	}
	return AnonymousAdmin
}

// ActorFrom returns the audit actor and role of the request context: the
// principal's, except that the anonymous principal (and one without a name)
// is "anonymous" with no role, as audit.Event documents.
func ActorFrom(ctx context.Context) (name, role string) {
	p := PrincipalFrom(ctx)
	if p.Name == "" || p.Name == Anonymous {
		return Anonymous, ""
	}
	return p.Name, p.Role
}

// AnonymousAdmin is every request's principal when auth is off.
var AnonymousAdmin = Principal{Name: Anonymous, Role: "admin"}
