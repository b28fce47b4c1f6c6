package registry_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// lookups reads schema_id_lookups_total{result}.
func lookups(t *testing.T, reg *prometheus.Registry, result string) int {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "schema_id_lookups_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return int(m.GetCounter().GetValue())
				}
			}
		}
	}
	return 0
}

func randomGUID(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// Ids and GUIDs the registry does not have cost one registry read each,
// then are answered from memory until a bound subject changes; a flood of
// them never evicts the answers valid records use; a lookup runs under the
// caller's context, and a cancelled one is an outage, not "not found".
func TestResolverUnknownIDs(t *testing.T) {
	ctx := context.Background()
	var res *registry.Resolver
	r := reloadingRegistry(t, &res)
	v1, err := r.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: jsonA, State: registry.StateEnforced})
	require.NoError(t, err)
	metrics := prometheus.NewRegistry()
	var calls int
	res, err = registry.NewResolver(ctx, registry.ResolverOptions{
		Registry: r, Bindings: map[string]string{"raw-orders": "orders"}, Wire: map[string]bool{"raw-orders": true},
		Compile: compileJSON(&calls), Registerer: metrics,
	})
	require.NoError(t, err)

	_, err = res.ResolveID(ctx, "raw-orders", v1.SchemaID)
	require.NoError(t, err)
	for range 3 {
		_, err = res.ResolveID(ctx, "raw-orders", 2)
		require.ErrorIs(t, err, schema.ErrNotFound)
		require.EqualError(t, err, "schema id 2 is not registered")
	}
	unknownGUID := registry.GUID(schema.FormatJSON, jsonB, "", "")
	for range 3 {
		_, err = res.ResolveGUID(ctx, "raw-orders", unknownGUID)
		require.ErrorIs(t, err, schema.ErrNotFound)
	}
	require.Equal(t, 3, lookups(t, metrics, "registry"), "one read for the valid id, one for the unknown id, one for the unknown GUID")
	require.Equal(t, 4, lookups(t, metrics, "unknown_cached"))

	// Registering them (a change to the bound subject) forgets that they
	// were unknown.
	v2, err := r.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: jsonB})
	require.NoError(t, err)
	require.Equal(t, 2, v2.SchemaID)
	got, err := res.ResolveID(ctx, "raw-orders", 2)
	require.NoError(t, err)
	require.Equal(t, 2, got.Version)
	got, err = res.ResolveGUID(ctx, "raw-orders", unknownGUID)
	require.NoError(t, err)
	require.Equal(t, 2, got.Version)

	// Under a cancelled context a lookup fails as an outage.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = res.ResolveID(cancelled, "raw-orders", 7_777_777)
	require.Error(t, err)
	require.NotErrorIs(t, err, schema.ErrNotFound)
	require.ErrorIs(t, err, context.Canceled)
	_, err = res.ResolveGUID(cancelled, "raw-orders", randomGUID(t))
	require.Error(t, err)
	require.NotErrorIs(t, err, schema.ErrNotFound)

	// A flood of random ids and GUIDs costs at most the cap of registry
	// reads (100 a second, bursts of 100), and the valid id stays cached.
	start := time.Now()
	before := lookups(t, metrics, "registry")
	_, err = res.ResolveID(ctx, "raw-orders", v1.SchemaID) // cached again after the change
	require.NoError(t, err)
	hits := lookups(t, metrics, "cache_hit")
	for i := range 25_000 {
		_, err = res.ResolveID(ctx, "raw-orders", 1_000_000+i)
		require.ErrorIs(t, err, schema.ErrNotFound)
		_, err = res.ResolveGUID(ctx, "raw-orders", randomGUID(t))
		require.ErrorIs(t, err, schema.ErrNotFound)
	}
	reads := lookups(t, metrics, "registry")
	require.LessOrEqual(t, reads-before, 100+int(100*time.Since(start).Seconds())+1, "registry reads during the flood")
	require.Positive(t, lookups(t, metrics, "throttled"))
	for range 10 {
		_, err = res.ResolveID(ctx, "raw-orders", v1.SchemaID)
		require.NoError(t, err)
	}
	require.Equal(t, reads, lookups(t, metrics, "registry"), "the valid id is answered from memory after the flood")
	require.Equal(t, hits+10, lookups(t, metrics, "cache_hit"))
}
