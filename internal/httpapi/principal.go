package httpapi

import "context"

// Principal is who makes a request: an API token's name and role, or the
// anonymous admin when auth is off.
type Principal struct{ Name, Role string }

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
	return anonymous
}

// anonymous is every request's principal when auth is off.
var anonymous = Principal{Name: "anonymous", Role: "admin"}
