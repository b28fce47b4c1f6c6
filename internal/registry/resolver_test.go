package registry_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/registry/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// compileJSON is the Compiler of these tests; it counts its calls.
func compileJSON(calls *int) registry.Compiler {
	return func(req registry.CompileRequest) (*schema.Version, error) {
		*calls++
		v, err := formats.Compile(schema.FormatJSON, req.Subject, req.Version, []byte(req.Text), formats.Options{})
		if err != nil || len(req.Rules) == 0 {
			return v, err
		}
		v.Rules, err = rules.Compile(req.Rules, rules.Options{})
		return v, err
	}
}

// versions lists what Resolve answers for topic: the enforced version, then
// its fallbacks.
func versions(t *testing.T, res *registry.Resolver, topic string) []int {
	t.Helper()
	v, err := res.Resolve(topic)
	require.NoError(t, err)
	out := []int{v.Version}
	for _, fb := range v.Fallback {
		out = append(out, fb.Version)
	}
	return out
}

// reloadingRegistry returns a registry over a fresh SQLite store whose
// changes reload *res (once set), as the gateway wires the two.
func reloadingRegistry(t *testing.T, res **registry.Resolver) *registry.Registry {
	t.Helper()
	s, err := sqlite.New(sqlite.Options{Path: filepath.Join(t.TempDir(), "registry.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	r, err := registry.New(registry.Options{Store: s, OnChange: func(ctx context.Context, subject string) {
		if *res != nil {
			require.NoError(t, (*res).Reload(ctx, subject))
		}
	}})
	require.NoError(t, err)
	return r
}

// TestResolverFollowsRollout walks the design notes' gradual rollout: v2
// registered (v1 still decides), v2 enforced (v2 decides, v1 falls back), v1
// deprecated (v2 alone), v2 deleted (nothing enforced: SCHEMA_NOT_FOUND).
func TestResolverFollowsRollout(t *testing.T) {
	ctx := context.Background()
	var res *registry.Resolver
	r := reloadingRegistry(t, &res)
	var err error
	_, err = r.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: jsonA, State: registry.StateEnforced})
	require.NoError(t, err)
	var calls int
	res, err = registry.NewResolver(ctx, registry.ResolverOptions{
		Registry:   r,
		Bindings:   map[string]string{"raw-orders": "orders", "raw-orders-strict": "orders"},
		NoFallback: map[string]bool{"raw-orders-strict": true},
		Compile:    compileJSON(&calls),
	})
	require.NoError(t, err)
	require.Equal(t, []int{1}, versions(t, res, "raw-orders"))

	_, err = r.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: jsonB})
	require.NoError(t, err)
	require.Equal(t, []int{1}, versions(t, res, "raw-orders"), "a registered version is not enforced yet")

	_, err = r.SetState(ctx, "orders", 2, registry.StateEnforced)
	require.NoError(t, err)
	require.Equal(t, []int{2, 1}, versions(t, res, "raw-orders"))
	require.Equal(t, []int{2}, versions(t, res, "raw-orders-strict"), "fallback: none")

	_, err = r.SetState(ctx, "orders", 1, registry.StateDeprecated)
	require.NoError(t, err)
	require.Equal(t, []int{2}, versions(t, res, "raw-orders"))

	_, err = r.DeleteVersion(ctx, "orders", 2, false)
	require.NoError(t, err)
	_, err = res.Resolve("raw-orders")
	require.ErrorIs(t, err, schema.ErrNotFound)
	require.EqualError(t, err, "subject orders (bound to topic raw-orders) has no enforced schema version")
	var nf *schema.NotFoundError
	require.True(t, errors.As(err, &nf))
	require.Equal(t, "orders", nf.Subject)

	_, err = res.Resolve("unbound")
	require.EqualError(t, err, "no schema subject is bound to topic unbound")
	require.Equal(t, 2, calls, "each version compiled once, however often it is reloaded")
}

// TestResolverRefreshSeesOtherGateways: a change made through another
// Registry over the same database (another gateway) is picked up by Run.
func TestResolverRefreshSeesOtherGateways(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	open := func() *registry.Registry {
		s, err := sqlite.New(sqlite.Options{Path: path})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		r, err := registry.New(registry.Options{Store: s})
		require.NoError(t, err)
		return r
	}
	mine, theirs := open(), open()
	_, err := mine.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: jsonA, State: registry.StateEnforced})
	require.NoError(t, err)
	var calls int
	res, err := registry.NewResolver(ctx, registry.ResolverOptions{
		Registry: mine, Bindings: map[string]string{"raw-orders": "orders"},
		Compile: compileJSON(&calls), Refresh: 20 * time.Millisecond,
	})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- res.Run(runCtx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	_, err = theirs.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: jsonB, State: registry.StateEnforced})
	require.NoError(t, err)
	testwait.For(t, 5*time.Second, "version 2 resolved", func() error {
		v, err := res.Resolve("raw-orders")
		if err == nil && v.Version != 2 {
			err = fmt.Errorf("version %d", v.Version)
		}
		return err
	})
	require.Equal(t, []int{2, 1}, versions(t, res, "raw-orders"))
}

// TestResolverResolveID: a record naming a schema id is checked against that
// version of the topic's subject whatever its state, unless it is deleted
// (or deprecated, where rejected); an id of another subject or none at all
// is SCHEMA_NOT_FOUND saying which; a deletion drops the cached answer.
func TestResolverResolveID(t *testing.T) {
	ctx := context.Background()
	var res *registry.Resolver
	r := reloadingRegistry(t, &res)
	var err error
	enforced := func(subject, src string) registry.SubjectSchema {
		got, err := r.Register(ctx, registry.RegisterRequest{Subject: subject, Format: schema.FormatJSON, Schema: src, State: registry.StateEnforced})
		require.NoError(t, err)
		return got
	}
	v1 := enforced("orders", jsonA)
	other := enforced("users", `{"type":"integer"}`)
	v2, err := r.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: jsonB})
	require.NoError(t, err)
	var calls int
	res, err = registry.NewResolver(ctx, registry.ResolverOptions{
		Registry:            r,
		Bindings:            map[string]string{"raw-orders": "orders", "strict-orders": "orders"},
		Wire:                map[string]bool{"raw-orders": true},
		RejectDeprecatedIDs: map[string]bool{"strict-orders": true},
		Compile:             compileJSON(&calls),
	})
	require.NoError(t, err)
	require.True(t, res.Wire("raw-orders"))
	require.False(t, res.Wire("strict-orders"))

	got, err := res.ResolveID(ctx, "raw-orders", v2.SchemaID)
	require.NoError(t, err)
	require.Equal(t, 2, got.Version, "a registered (not enforced) version is used when a record names it")

	_, err = res.ResolveID(ctx, "raw-orders", 999)
	require.ErrorIs(t, err, schema.ErrNotFound)
	require.EqualError(t, err, "schema id 999 is not registered")
	_, err = res.ResolveID(ctx, "raw-orders", other.SchemaID)
	require.EqualError(t, err, "schema id 2 is not a version of subject orders (bound to topic raw-orders)")

	_, err = r.SetState(ctx, "orders", 1, registry.StateDeprecated)
	require.NoError(t, err)
	got, err = res.ResolveID(ctx, "raw-orders", v1.SchemaID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Version)
	_, err = res.ResolveID(ctx, "strict-orders", v1.SchemaID)
	require.EqualError(t, err, "schema id 1 is version 1 of subject orders, which is deprecated")

	_, err = res.ResolveID(ctx, "raw-orders", v2.SchemaID) // cached
	require.NoError(t, err)
	_, err = r.DeleteVersion(ctx, "orders", 2, false)
	require.NoError(t, err)
	_, err = res.ResolveID(ctx, "raw-orders", v2.SchemaID)
	require.EqualError(t, err, "schema id 3 is a deleted version of subject orders (bound to topic raw-orders)")

	got, err = res.ResolveGUID(ctx, "raw-orders", strings.ToUpper(registry.GUID(schema.FormatJSON, jsonA, "", "")))
	require.NoError(t, err)
	require.Equal(t, 1, got.Version, "a GUID names the same schema as its id")
	_, err = res.ResolveGUID(ctx, "raw-orders", registry.GUID(schema.FormatJSON, `{"type":"null"}`, "", ""))
	require.ErrorIs(t, err, schema.ErrNotFound)
	require.ErrorContains(t, err, "is not registered")
	_, err = res.ResolveGUID(ctx, "raw-orders", registry.GUID(schema.FormatJSON, `{"type":"integer"}`, "", ""))
	require.EqualError(t, err, "schema id 2 is not a version of subject orders (bound to topic raw-orders)")
}

// TestResolverRules: a version's stored rules reach its compiled version,
// whether the record names no schema (once the version is enforced) or
// names its id, which is not the id of the same text without rules.
func TestResolverRules(t *testing.T) {
	ctx := context.Background()
	var res *registry.Resolver
	r := reloadingRegistry(t, &res)
	var err error
	v1, err := r.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: jsonA, State: registry.StateEnforced})
	require.NoError(t, err)
	var calls int
	res, err = registry.NewResolver(ctx, registry.ResolverOptions{
		Registry: r, Bindings: map[string]string{"raw-orders": "orders"}, Wire: map[string]bool{"raw-orders": true},
		Compile: compileJSON(&calls),
	})
	require.NoError(t, err)
	rs := &registry.RuleSet{DomainRules: []registry.Rule{{Name: "short", Kind: "CONDITION", Mode: "WRITE", Type: "CEL", Expr: "size(message) < 3"}}}
	v2, err := r.Register(ctx, registry.RegisterRequest{Subject: "orders", Format: schema.FormatJSON, Schema: jsonA, RuleSet: rs})
	require.NoError(t, err)
	require.NotEqual(t, v1.SchemaID, v2.SchemaID)

	got, err := res.Resolve("raw-orders")
	require.NoError(t, err)
	require.Equal(t, 1, got.Version, "the version with rules is not enforced yet")
	require.Equal(t, 0, got.Rules.Len())
	byID, err := res.ResolveID(ctx, "raw-orders", v1.SchemaID)
	require.NoError(t, err)
	require.Equal(t, 1, byID.Version)
	require.Equal(t, 0, byID.Rules.Len())
	byID, err = res.ResolveID(ctx, "raw-orders", v2.SchemaID)
	require.NoError(t, err)
	require.Equal(t, 2, byID.Version, "a record naming the id gets its rules, enforced or not")
	require.Equal(t, []string{"short"}, byID.Rules.Names())

	_, err = r.SetState(ctx, "orders", 2, registry.StateEnforced)
	require.NoError(t, err)
	got, err = res.Resolve("raw-orders")
	require.NoError(t, err)
	require.Equal(t, 2, got.Version)
	require.Equal(t, []string{"short"}, got.Rules.Names())
	require.Equal(t, 1, got.Fallback[0].Version)
	require.Equal(t, 0, got.Fallback[0].Rules.Len(), "the fallback keeps its own (no) rules")
}
