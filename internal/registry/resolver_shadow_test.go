package registry_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

func shadowVersions(res *registry.Resolver, topic string) []int {
	out := []int{}
	for _, v := range res.Shadows(topic) {
		out = append(out, v.Version)
	}
	return out
}

// TestResolverShadows: a version in shadow is named by Shadows for every
// topic bound to its subject, never by Resolve; it needs no enforced
// version beside it; OnShadow hears each change; and leaving shadow
// (promoted, or back to registered) takes it out of the plan.
func TestResolverShadows(t *testing.T) {
	ctx := context.Background()
	var res *registry.Resolver
	r := reloadingRegistry(t, &res)
	_, err := r.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: jsonA, State: registry.StateShadow})
	require.NoError(t, err)
	var heard [][]int
	var calls int
	res, err = registry.NewResolver(ctx, registry.ResolverOptions{
		Registry:   r,
		Bindings:   map[string]string{"raw-orders": "orders", "raw-orders-strict": "orders"},
		NoFallback: map[string]bool{"raw-orders-strict": true},
		Compile:    compileJSON(&calls),
		OnShadow:   func(subject string, versions []int) { heard = append(heard, versions) },
	})
	require.NoError(t, err)
	_, err = res.Resolve("raw-orders")
	require.ErrorIs(t, err, schema.ErrNotFound, "a version in shadow decides nothing")
	require.Equal(t, []int{1}, shadowVersions(res, "raw-orders"), "evaluated even with nothing enforced")

	_, err = r.SetState(ctx, "orders", 1, registry.StateEnforced)
	require.NoError(t, err)
	_, err = r.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: jsonB, State: registry.StateShadow})
	require.NoError(t, err)
	_, err = r.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: `{"type":"string"}`})
	require.NoError(t, err)
	_, err = r.SetState(ctx, "orders", 3, registry.StateShadow)
	require.NoError(t, err)
	for _, topic := range []string{"raw-orders", "raw-orders-strict"} {
		require.Equal(t, []int{1}, versions(t, res, topic), "shadows are never fallbacks")
		require.Equal(t, []int{3, 2}, shadowVersions(res, topic), "newest first, on every bound topic")
		for _, v := range res.Shadows(topic) {
			require.Nil(t, v.Fallback, "a candidate is judged alone")
		}
	}
	require.Empty(t, shadowVersions(res, "unbound"))

	_, err = r.SetState(ctx, "orders", 2, registry.StateEnforced) // promoted
	require.NoError(t, err)
	require.Equal(t, []int{2, 1}, versions(t, res, "raw-orders"))
	require.Equal(t, []int{3}, shadowVersions(res, "raw-orders"))
	_, err = r.SetState(ctx, "orders", 3, registry.StateRegistered) // shadow stopped
	require.NoError(t, err)
	require.Empty(t, shadowVersions(res, "raw-orders"))

	require.Equal(t, [][]int{{1}, {}, {2}, {2}, {3, 2}, {3}, {}}, heard, "after each change of the subject")
	require.Equal(t, 3, calls, "each version compiled once")
}

func TestParseStateShadow(t *testing.T) {
	t.Parallel()
	st, err := registry.ParseState("shadow")
	require.NoError(t, err)
	require.Equal(t, registry.StateShadow, st)
	require.Contains(t, registry.States, registry.StateShadow)
	_, err = registry.ParseState("Shadow")
	require.ErrorIs(t, err, registry.ErrInvalidState)
}
