package validate_test

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// shadows is a ShadowResolver naming the same candidates for every topic.
type shadows []*schema.Version

func (s shadows) Shadows(string) []*schema.Version { return s }

func compile(t testing.TB, version int, src string, lim jsonschema.Limits, specs ...rules.Spec) *schema.Version {
	t.Helper()
	v, err := formats.Compile(schema.FormatJSON, "orders", version, []byte(src), formats.Options{Limits: lim})
	require.NoError(t, err)
	if len(specs) > 0 {
		v.Rules, err = rules.Compile(specs, rules.Options{})
		require.NoError(t, err)
	}
	return v
}

const (
	ordersV1 = `{"type":"object","required":["id"],"properties":{"id":{"type":"integer"},"qty":{"type":"integer"}}}`
	ordersV2 = `{"type":"object","required":["id","sku"],"properties":{"id":{"type":"number"},"sku":{"type":"string"},"qty":{"type":"integer"}}}`
)

var positiveQty = rules.Spec{Name: "positive_qty", Expr: "!has(message.qty) || message.qty > 0", Message: "qty must be positive", Field: "/qty"}

// TestEngineShadow: ValidateShadow leaves the enforced verdict exactly as
// Validate gives it, and each candidate's verdict is exactly what an
// engine enforcing that candidate alone would say, rules included,
// whether the candidate reuses the enforced version's decoded value (same
// decoder) or decodes on its own (other limits).
func TestEngineShadow(t *testing.T) {
	t.Parallel()
	v1 := compile(t, 1, ordersV1, jsonschema.Limits{})
	v2 := compile(t, 2, ordersV2, jsonschema.Limits{}, positiveQty)
	v3 := compile(t, 3, ordersV1, jsonschema.Limits{MaxDepth: 2}) // decodes otherwise: no shared value
	now := func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	e, err := validate.New(validate.Options{Resolver: schema.Fixed{Version: v1}, Shadows: shadows{v2, v3}, Now: now})
	require.NoError(t, err)
	plain, err := validate.New(validate.Options{Resolver: schema.Fixed{Version: v1}, Now: now})
	require.NoError(t, err)
	alone := map[int]*validate.Engine{}
	for _, c := range []*schema.Version{v2, v3} {
		alone[c.Version], err = validate.New(validate.Options{Resolver: schema.Fixed{Version: c}, Now: now})
		require.NoError(t, err)
	}

	cases := []struct {
		name          string
		value         []byte
		today, v2, v3 bool // valid?
	}{
		{"both accept", []byte(`{"id":1,"sku":"a"}`), true, true, true},
		{"v2 needs a sku", []byte(`{"id":1}`), true, false, true},
		{"v2's rule", []byte(`{"id":1,"sku":"a","qty":0}`), true, false, true},
		{"v2 takes a decimal id", []byte(`{"id":1.5,"sku":"a"}`), false, true, false},
		{"nobody parses it", []byte(`{"id":`), false, false, false},
		{"too deep for v3's decoder", []byte(`{"id":1,"sku":"a","x":{"y":{"z":1}}}`), true, true, false},
		{"tombstone", nil, true, true, true},
	}
	var v, want record.Verdict
	for _, tc := range cases {
		rec := record.Record{Topic: "raw-orders", Offset: 7, Value: tc.value}
		require.NoError(t, e.ValidateShadow(context.Background(), &rec, &v), tc.name)
		require.NoError(t, plain.Validate(&rec, &want), tc.name)
		sameViolations(t, want.Violations, v.Violations, "%s: the enforced verdict is Validate's", tc.name)
		require.Equal(t, 1, v.Version, tc.name)
		require.Equal(t, tc.today, v.Valid(), tc.name)
		require.Len(t, v.Shadow, 2, tc.name)
		for i, valid := range []bool{tc.v2, tc.v3} {
			s := v.Shadow[i]
			require.Equal(t, "orders", s.Subject, tc.name)
			require.NoError(t, alone[s.Version].Validate(&rec, &want), tc.name)
			sameViolations(t, want.Violations, s.Violations, "%s: v%d judged as if it alone were enforced", tc.name, s.Version)
			require.Equal(t, valid, s.Valid(), "%s: v%d", tc.name, s.Version)
		}
	}
	require.NoError(t, e.ValidateShadow(context.Background(), &record.Record{Topic: "raw-orders", Value: []byte(`{"id":1,"sku":"a","qty":-1}`)}, &v))
	rule := v.Shadow[0]
	require.Equal(t, []record.Violation{{Type: record.RuleViolation, Field: "/qty", Keyword: "positive_qty", Message: "qty must be positive"}}, rule.Violations,
		"a candidate's rules run in shadow")

	// Validate alone evaluates no candidate, and clears those of a
	// verdict reused from a ValidateShadow.
	require.NoError(t, e.Validate(&record.Record{Topic: "raw-orders", Value: []byte(`{"id":1}`)}, &v))
	require.Empty(t, v.Shadow)
}

func sameViolations(t *testing.T, want, got []record.Violation, msgAndArgs ...any) {
	t.Helper()
	if len(want) == 0 {
		require.Empty(t, got, msgAndArgs...)
		return
	}
	require.Equal(t, want, got, msgAndArgs...)
}

// TestEngineShadowWithoutEnforced: with no enforced version (every record
// SCHEMA_NOT_FOUND) the candidate is still evaluated: it would newly
// accept what it accepts.
func TestEngineShadowWithoutEnforced(t *testing.T) {
	t.Parallel()
	v2 := compile(t, 2, ordersV2, jsonschema.Limits{})
	none, err := schema.NewStatic(map[string]string{}, nil)
	require.NoError(t, err)
	e, err := validate.New(validate.Options{Resolver: none, Shadows: shadows{v2}})
	require.NoError(t, err)
	var v record.Verdict
	require.NoError(t, e.ValidateShadow(context.Background(), &record.Record{Topic: "raw-orders", Value: []byte(`{"id":1,"sku":"a"}`)}, &v))
	require.Equal(t, record.SchemaNotFound, v.Primary().Type)
	require.Len(t, v.Shadow, 1)
	require.True(t, v.Shadow[0].Valid())
}

// TestEngineShadowReusesStorage: the shadow verdicts of a reused Verdict
// keep their storage, so steady-state shadow evaluation of valid records
// allocates no more than validation does.
func TestEngineShadowReusesStorage(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector")
	}
	v1 := compile(t, 1, userEventSchema, jsonschema.Limits{})
	v2 := compile(t, 2, strings.Replace(userEventSchema, `"required": ["user_id"`, `"required": ["page", "user_id"`, 1), jsonschema.Limits{})
	e, err := validate.New(validate.Options{Resolver: schema.Fixed{Version: v1}, Shadows: shadows{v2}})
	require.NoError(t, err)
	rec := record.Record{Topic: "raw-events", Value: []byte(event300)}
	var v record.Verdict
	require.NoError(t, e.ValidateShadow(context.Background(), &rec, &v))
	plain := testing.AllocsPerRun(100, func() { _ = e.Validate(&rec, &v) })
	shadowed := testing.AllocsPerRun(100, func() { _ = e.ValidateShadow(context.Background(), &rec, &v) })
	require.Equal(t, plain, shadowed, "a valid record in shadow decodes once and allocates nothing more")
}

// The shadow's cost per record: the engine with a candidate in shadow
// against the same engine without (BenchmarkEngineValid's record). The
// candidate requires one more field: "Accepts" is a record it accepts (the
// common case), "Rejects" one it newly rejects (its errors explained by
// the library's full path).
func BenchmarkEngineShadow(b *testing.B) {
	v1 := compile(b, 1, userEventSchema, jsonschema.Limits{})
	v2 := compile(b, 2, strings.Replace(userEventSchema, `"required": ["user_id"`, `"required": ["page", "user_id"`, 1), jsonschema.Limits{})
	without := strings.Replace(event300, `"page":"/products/espresso-machine-deluxe",`, ``, 1)
	for _, bc := range []struct {
		name    string
		shadow  bool
		value   string
		newlyOK bool
	}{
		{"None", false, event300, true},
		{"Accepts", true, event300, true},
		{"NoneOther", false, without, true},
		{"Rejects", true, without, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := validate.Options{Resolver: schema.Fixed{Version: v1}}
			if bc.shadow {
				opts.Shadows = shadows{v2}
			}
			e, err := validate.New(opts)
			require.NoError(b, err)
			rec := record.Record{Topic: "raw-events", Value: []byte(bc.value)}
			var v record.Verdict
			b.SetBytes(int64(len(bc.value)))
			b.ReportAllocs()
			for b.Loop() {
				if err := e.ValidateShadow(context.Background(), &rec, &v); err != nil || !v.Valid() {
					b.Fatal(err, v.Violations)
				}
			}
			if bc.shadow && v.Shadow[0].Valid() != bc.newlyOK {
				b.Fatal("candidate verdict", v.Shadow)
			}
		})
	}
}

// A JSON record that names its schema in a wire header is checked against
// the version it names whichever version is enforced, so a candidate in
// shadow agrees with the enforced verdict, and the engine says so without
// resolving the id and decoding the record a second time.
func TestEngineShadowOfARecordNamingItsSchema(t *testing.T) {
	t.Parallel()
	v1 := compile(t, 1, ordersV1, jsonschema.Limits{})
	v2 := compile(t, 2, ordersV2, jsonschema.Limits{})
	ids := &lookups{oneVersion: oneVersion{v1}}
	e, err := validate.New(validate.Options{Resolver: ids, IDs: ids, Shadows: shadows{v2}})
	require.NoError(t, err)
	for _, payload := range []string{`{"id": 1}`, `{"qty": 1}`} {
		ids.ids = nil
		var v record.Verdict
		value := append(binary.BigEndian.AppendUint32([]byte{0}, 1), payload...)
		require.NoError(t, e.ValidateShadow(context.Background(), &record.Record{Topic: "t", Value: value}, &v))
		require.Equal(t, []int{1}, ids.ids, "%s: one lookup of the id", payload)
		require.Len(t, v.Shadow, 1)
		require.Equal(t, 2, v.Shadow[0].Version)
		sameViolations(t, v.Violations, v.Shadow[0].Violations, "%s: v2 would judge it as v1 does", payload)
	}
}
