package jsonschema

import (
	"math/big"
	"sync/atomic"
	"testing"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// fastPathStats counts, over the conformance run, the values the fast path
// decided and those it left to the library.
var fastPathStats struct{ sure, unsure, none atomic.Int64 }

// checkFastPath fails the test when the fast path and the library disagree
// on v: the fast path must never call valid what the library rejects (nor
// the reverse, which would only cost time but shows a modelling error).
func checkFastPath(t *testing.T, id string, s *Schema, v any) {
	t.Helper()
	libValid := s.sch.Validate(v) == nil
	if s.fast == nil {
		fastPathStats.none.Add(1)
		return
	}
	fastValid, sure := fastValid(s.fast, v)
	if !sure {
		fastPathStats.unsure.Add(1)
		return
	}
	fastPathStats.sure.Add(1)
	if fastValid != libValid {
		t.Errorf("%s: fast path says valid=%v, library says valid=%v", id, fastValid, libValid)
	}
}

func TestFastPathCoverage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		schema string
		fast   bool
	}{
		{"user_event", userEventSchema, true},
		{"event", eventSchema, true},
		{"draft-07 tuple", `{"$schema": "http://json-schema.org/draft-07/schema#", "items": [{}], "additionalItems": false}`, true},
		{"recursive $ref", `{"properties": {"child": {"$ref": "#"}}, "required": ["id"]}`, true},
		{"unevaluatedProperties", `{"unevaluatedProperties": false}`, false},
		{"unevaluatedItems deep inside", `{"properties": {"a": {"items": {"unevaluatedItems": false}}}}`, false},
		{"$dynamicRef", `{"$dynamicAnchor": "x", "properties": {"a": {"$dynamicRef": "#x"}}}`, false},
		{"2020-12 meta-schema", `{"$ref": "https://json-schema.org/draft/2020-12/schema"}`, false},
		{"draft-07 meta-schema", `{"$ref": "http://json-schema.org/draft-07/schema#"}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mustCompile(t, tc.schema)
			require.Equal(t, tc.fast, s.fast != nil)
		})
	}
}

// The fast path gives up, and the library answers, on what it does not
// model.
func TestFastPathGivesUp(t *testing.T) {
	t.Parallel()
	// Compile refuses a reference cycle (cycle.go); the fast path still
	// must not loop on one.
	const cyclic = `{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}`
	_, err := Compile(t.Name(), []byte(cyclic))
	require.ErrorIs(t, err, ErrRefCycle)
	cycle, err := compileUnchecked(t.Name(), []byte(cyclic), jsv.Draft2020, refuseLoader{})
	require.NoError(t, err)
	require.NotNil(t, cycle.fast)
	_, sure := fastValid(cycle.fast, "x")
	require.False(t, sure)
	require.NotEmpty(t, cycle.Validate("x", nil), "the library reports the cycle")

	unique := mustCompile(t, `{"uniqueItems": true}`)
	long := make([]any, maxFastUnique+1)
	for i := range long {
		long[i] = string(rune('a' + i))
	}
	_, sure = fastValid(unique.fast, long)
	require.False(t, sure)
	require.Empty(t, unique.Validate(long, nil))
	long[maxFastUnique] = "a"
	require.NotEmpty(t, unique.Validate(long, nil))

	_, sure = fastValid(mustCompile(t, `{"type": "number"}`).fast, 1.5) // a float64, not from Decode
	require.False(t, sure)
}

// FuzzFastPath checks the fast path against the library on random values.
func FuzzFastPath(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"n": 3, "i": 4, "s": "abc", "a": [1, 2, 2], "o": {"x": 1}, "k": "view", "c": 2}`,
		`{"n": -1.5, "i": 1.0, "s": "", "a": [], "o": {}, "t": ["x", 1, true]}`,
		`{"n": 1e400, "i": 10, "m": 0.3, "p": {"AB": 1, "ab": "x"}, "e": 2.0}`,
	} {
		f.Add([]byte(s))
	}
	schemas := []*Schema{}
	for _, src := range []string{
		userEventSchema,
		eventSchema,
		`{"type": "object",
		  "properties": {
			"n": {"type": "number", "minimum": -1, "exclusiveMaximum": 100, "multipleOf": 0.5},
			"i": {"type": "integer", "maximum": 5},
			"s": {"type": "string", "minLength": 1, "maxLength": 3, "pattern": "^[a-c]*$"},
			"a": {"type": "array", "items": {"type": "integer"}, "uniqueItems": true, "maxItems": 3, "contains": {"const": 1}},
			"o": {"type": "object", "minProperties": 1, "propertyNames": {"maxLength": 2}, "additionalProperties": {"type": "integer"}},
			"k": {"enum": ["view", "click", 1, null, {"a": [1]}]},
			"c": {"const": 2},
			"e": {"not": {"type": "string"}, "anyOf": [{"type": "integer"}, {"type": "null"}]},
			"t": {"prefixItems": [{"type": "string"}, {"type": "number"}], "items": false},
			"p": {"patternProperties": {"^[A-Z]+$": {"type": "integer"}}, "additionalProperties": false},
			"f": {"format": "date-time"}
		  },
		  "dependentRequired": {"n": ["i"]},
		  "dependentSchemas": {"s": {"required": ["k"]}},
		  "if": {"properties": {"k": {"const": "view"}}}, "then": {"required": ["c"]}, "else": {"maxProperties": 8},
		  "oneOf": [{"required": ["n"]}, {"required": ["o"]}, {"maxProperties": 0}]
		}`,
		`{"$schema": "http://json-schema.org/draft-04/schema#",
		  "properties": {"n": {"minimum": 0, "exclusiveMinimum": true}, "a": {"items": [{"type": "string"}], "additionalItems": {"type": "integer"}}},
		  "dependencies": {"n": ["a"], "a": {"required": ["n"]}}}`,
		`{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"node": {"type": "object",
		  "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/node"}}}, "required": ["children"]}},
		  "anyOf": [{"$ref": "#/definitions/node"}, {"type": "array", "minItems": 2}]}`,
	} {
		s, err := Compile("fuzz", []byte(src))
		if err != nil {
			f.Fatal(err)
		}
		if s.fast == nil {
			f.Fatalf("no fast path for %s", src)
		}
		schemas = append(schemas, s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, _, ok := Decode(data, Limits{})
		if !ok {
			return
		}
		for _, s := range schemas {
			fast, sure := fastValid(s.fast, v)
			if lib := s.sch.Validate(v) == nil; sure && fast != lib {
				t.Fatalf("fast path says valid=%v, library valid=%v, for %s", fast, lib, data)
			}
		}
	})
}

// FuzzDecimal checks the fast path's integer-bound comparison against
// math/big.
func FuzzDecimal(f *testing.F) {
	for _, lit := range []string{"0", "-0", "-0.0", "0.5", "-0.5", "129.95", "-1", "-1.01", "999999999999999999", "5", "5.000", "-5.1"} {
		for _, b := range []int64{0, -1, 1, 5, -5, 129, 130, 1000} {
			f.Add(lit, b)
		}
	}
	f.Fuzz(func(t *testing.T, lit string, b int64) {
		d, ok := parseDecimal(lit)
		if !ok {
			return
		}
		r, ok := new(big.Rat).SetString(lit)
		if !ok {
			return // not a number literal: Decode never produces it
		}
		if got, want := d.cmp(b), r.Cmp(new(big.Rat).SetInt64(b)); got != want {
			t.Fatalf("%s cmp %d: got %d, want %d", lit, b, got, want)
		}
		if b > 0 {
			mult := !d.fraction && d.ip%b == 0
			if want := new(big.Rat).Quo(r, new(big.Rat).SetInt64(b)).IsInt(); mult != want {
				t.Fatalf("%s multipleOf %d: got %v, want %v", lit, b, mult, want)
			}
		}
	})
}

func TestFastPathAgreesOnEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct{ schema, payload string }{
		{`{"enum": []}`, `1`},
		{`{"const": null}`, `null`},
		{`{"const": null}`, `0`},
		{`{"const": 1}`, `1.0`},
		{`{"enum": [1, "1"]}`, `1e0`},
		{`{"type": "integer"}`, `1.0`},
		{`{"type": "integer"}`, `1e2`},
		{`{"type": "integer"}`, `1.5e1`},
		{`{"type": "integer"}`, `1.25e1`},
		{`{"minimum": 0}`, `-0`},
		{`{"minimum": 0}`, `-0.0`},
		{`{"minimum": 0}`, `-0.000001`},
		{`{"exclusiveMinimum": 0}`, `0.0`},
		{`{"maximum": 9223372036854775807}`, `9223372036854775808`},
		{`{"maximum": 1e2}`, `100.0000001`},
		{`{"multipleOf": 3}`, `9.0`},
		{`{"multipleOf": 3}`, `1e1`},
		{`{"multipleOf": 0.1}`, `0.3`},
		{`{"minLength": 2}`, `"é"`},
		{`{"maxProperties": 0}`, `{}`},
		{`{"uniqueItems": true}`, `[1, 1.0]`},
		{`{"uniqueItems": true}`, `[{"a": [1]}, {"a": [1.0]}]`},
		{`{"uniqueItems": true}`, `[[1], [true]]`},
		{`{"contains": false, "minContains": 0}`, `[]`},
		{`{"items": false}`, `[]`},
		{`{"prefixItems": [true], "items": false}`, `[1, 2]`},
		{`{"propertyNames": false}`, `{}`},
		{`{"propertyNames": false}`, `{"a": 1}`},
		{`{"not": {}}`, `1`},
		{`{"oneOf": [{}, {}]}`, `1`},
		{`{"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}`, `1.0`},
		{`{"$schema": "http://json-schema.org/draft-07/schema#", "$ref": "#/definitions/a", "type": "string", "definitions": {"a": {}}}`, `1`},
		{`{"$ref": "#/$defs/a", "type": "string", "$defs": {"a": {}}}`, `1`},
	}
	for _, tc := range tests {
		s := mustCompile(t, tc.schema)
		require.NotNil(t, s.fast, tc.schema)
		v, bad, ok := Decode([]byte(tc.payload), Limits{})
		require.True(t, ok, bad.Message)
		fast, sure := fastValid(s.fast, v)
		require.True(t, sure, "%s %s", tc.schema, tc.payload)
		require.Equal(t, s.sch.Validate(v) == nil, fast, "%s %s", tc.schema, tc.payload)
	}
}
