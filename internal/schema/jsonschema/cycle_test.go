package jsonschema

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCompileRefusesReferenceCycles: a schema that applies itself to the
// value it validates, without moving into it, is refused with the cycle
// named, instead of failing every record with "reference cycle".
func TestCompileRefusesReferenceCycles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, schema, cycle string
	}{
		{"the smallest", `{"$ref": "#"}`, "# -($ref)-> #"},
		{
			"through two definitions", `{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"type": "object"}, {"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}`,
			"#/$defs/a -($ref)-> #/$defs/b -(allOf/1)-> #/$defs/b/allOf/1 -($ref)-> #/$defs/a",
		},
		{"anyOf with a way out", `{"anyOf": [{"type": "string"}, {"$ref": "#"}]}`, "# -(anyOf/1)-> #/anyOf/1 -($ref)-> #"},
		{"oneOf", `{"oneOf": [{"$ref": "#"}]}`, "# -(oneOf/0)-> #/oneOf/0 -($ref)-> #"},
		{"not", `{"not": {"$ref": "#"}}`, "# -(not)-> #/not -($ref)-> #"},
		{"if", `{"if": {"$ref": "#"}}`, "# -(if)-> #/if -($ref)-> #"},
		{"then", `{"if": {"type": "object"}, "then": {"$ref": "#"}}`, "# -(then)-> #/then -($ref)-> #"},
		{"else", `{"if": {"type": "object"}, "else": {"$ref": "#"}}`, "# -(else)-> #/else -($ref)-> #"},
		{"dependentSchemas", `{"dependentSchemas": {"a/b": {"$ref": "#"}}}`, "# -(dependentSchemas/a~1b)-> #/dependentSchemas/a~1b -($ref)-> #"},
		{
			"draft-07 dependencies", `{"$schema": "http://json-schema.org/draft-07/schema#", "dependencies": {"a": {"$ref": "#"}}}`,
			"# -(dependencies/a)-> #/dependencies/a -($ref)-> #",
		},
		{
			"draft-04 definitions", `{"$schema": "http://json-schema.org/draft-04/schema#", "definitions": {"x": {"$ref": "#/definitions/x"}}, "$ref": "#/definitions/x"}`,
			"#/definitions/x -($ref)-> #/definitions/x",
		},
		{"a self-loop under properties", `{"properties": {"x": {"$ref": "#/properties/x"}}}`, "#/properties/x -($ref)-> #/properties/x"},
		{
			"an embedded resource", `{"$defs": {"a": {"$id": "https://example.com/a", "$ref": "#"}}, "$ref": "https://example.com/a"}`,
			"#/$defs/a -($ref)-> #/$defs/a",
		},
		{"$dynamicRef with one target", `{"$dynamicAnchor": "n", "allOf": [{"$dynamicRef": "#n"}]}`, "# -(allOf/0)-> #/allOf/0 -($dynamicRef)-> #"},
		{"$dynamicRef without anchor", `{"$defs": {"a": {"$dynamicRef": "#/$defs/a"}}, "$ref": "#/$defs/a"}`, "#/$defs/a -($dynamicRef)-> #/$defs/a"},
		{
			"2019-09 $recursiveRef", `{"$schema": "https://json-schema.org/draft/2019-09/schema", "$recursiveAnchor": true, "anyOf": [{"$recursiveRef": "#"}]}`,
			"# -(anyOf/0)-> #/anyOf/0 -($recursiveRef)-> #",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile("s", []byte(tc.schema))
			require.ErrorIs(t, err, ErrRefCycle)
			require.ErrorIs(t, err, ErrInvalidSchema)
			require.ErrorContains(t, err, "reference cycle "+tc.cycle+": ")
		})
	}
}

// TestCompileAcceptsRecursion: recursion that moves into the value
// (properties, items, ...) ends with the value, and stays accepted; it
// validates values of any depth. So do schemas that reach one schema twice
// without a cycle, cycles never applied, and the drafts' meta-schemas.
func TestCompileAcceptsRecursion(t *testing.T) {
	t.Parallel()
	deep := func(n int) string { // {"children": [{"children": [...]}]}
		return strings.Repeat(`{"children": [`, n) + "{}" + strings.Repeat("]}", n)
	}
	for _, tc := range []struct {
		name, schema, valid, invalid string
	}{
		{
			"tree", `{"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}`,
			deep(30), strings.Replace(deep(30), "{}", "1", 1),
		},
		{
			"linked list", `{"$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}}, "$ref": "#/$defs/node"}`,
			`{"next": {"next": {"next": {}}}}`, `{"next": {"next": {"next": 3}}}`,
		},
		{"additionalProperties", `{"type": "object", "additionalProperties": {"$ref": "#"}}`, `{"a": {"b": {}}}`, `{"a": {"b": []}}`},
		{"patternProperties", `{"type": "object", "patternProperties": {"^x": {"$ref": "#"}}}`, `{"x1": {"x2": {}}}`, `{"x1": {"x2": 1}}`},
		{"prefixItems and contains", `{"type": ["array", "number"], "prefixItems": [{"$ref": "#"}], "contains": {"$ref": "#"}}`, `[[1]]`, `[["x"]]`},
		{"propertyNames", `{"type": ["object", "string"], "propertyNames": {"$ref": "#"}}`, `{"a": {}}`, `1`},
		{"allOf through a property", `{"allOf": [{"properties": {"a": {"$ref": "#"}}}], "type": "object"}`, `{"a": {"a": {}}}`, `{"a": {"a": 1}}`},
		{"one schema reached twice", `{"$defs": {"s": {"type": "string"}}, "allOf": [{"$ref": "#/$defs/s"}, {"anyOf": [{"$ref": "#/$defs/s"}]}]}`, `"x"`, `1`},
		{"cycle never applied", `{"$defs": {"a": {"$ref": "#/$defs/a"}}, "type": "string"}`, `"x"`, `1`},
		{
			"$dynamicRef tree", `{"$dynamicAnchor": "node", "type": "object", "properties": {"kids": {"items": {"$dynamicRef": "#node"}}}}`,
			`{"kids": [{"kids": []}]}`, `{"kids": [{"kids": [1]}]}`,
		},
		{"2020-12 meta-schema", `{"$ref": "https://json-schema.org/draft/2020-12/schema"}`, `{"type": "string"}`, `{"type": 5}`},
		{"2019-09 meta-schema", `{"$ref": "https://json-schema.org/draft/2019-09/schema"}`, `{"type": "string"}`, `{"type": 5}`},
		{"draft-07 meta-schema", `{"$ref": "http://json-schema.org/draft-07/schema#"}`, `{"type": "string"}`, `{"type": 5}`},
		{"draft-04 meta-schema", `{"$ref": "http://json-schema.org/draft-04/schema#"}`, `{"type": "string"}`, `{"type": 5}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Compile("s", []byte(tc.schema))
			require.NoError(t, err)
			_, vs := s.Check([]byte(tc.valid), Limits{MaxDepth: 128}, nil)
			require.Empty(t, vs, "valid")
			_, vs = s.Check([]byte(tc.invalid), Limits{MaxDepth: 128}, nil)
			require.NotEmpty(t, vs, "invalid")
			for _, v := range vs {
				require.NotContains(t, v.Message, "cycle")
			}
		})
	}
}

// TestCycleCheckDeepChain: a long chain of references is walked without
// recursion, and its cycle found.
func TestCycleCheckDeepChain(t *testing.T) {
	t.Parallel()
	const n = 20000
	var b strings.Builder
	b.WriteString(`{"$ref": "#/$defs/d0", "$defs": {`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		next := (i + 1) % n
		b.WriteString(`"d` + strconv.Itoa(i) + `": {"$ref": "#/$defs/d` + strconv.Itoa(next) + `"}`)
	}
	b.WriteString("}}")
	_, err := Compile("chain", []byte(b.String()))
	require.ErrorIs(t, err, ErrRefCycle)
}

// doubling is a chain of n definitions, each applying the previous one
// twice to the same value: 2^(n+2)-3 schemas applied per value.
func doubling(n int) string {
	var b strings.Builder
	b.WriteString(`{"$defs": {"a0": {"type": "string"}`)
	for i := 1; i <= n; i++ {
		b.WriteString(`, "a` + strconv.Itoa(i) + `": {"allOf": [{"$ref": "#/$defs/a` + strconv.Itoa(i-1) + `"}, {"$ref": "#/$defs/a` + strconv.Itoa(i-1) + `"}]}`)
	}
	b.WriteString(`}, "$ref": "#/$defs/a` + strconv.Itoa(n) + `"}`)
	return b.String()
}

// TestCompileRefusesExponentialSchemas: no cycle, but each level doubles
// the schemas applied to one value (twenty levels: four million). Past
// maxApplied the schema is refused, naming where.
func TestCompileRefusesExponentialSchemas(t *testing.T) {
	t.Parallel()
	s, err := Compile("s", []byte(doubling(11))) // 8189 applied per value
	require.NoError(t, err)
	_, vs := s.Check([]byte(`1`), Limits{MaxDepth: 8}, nil)
	require.NotEmpty(t, vs)

	for _, n := range []int{12, 20, 64} {
		_, err = Compile("s", []byte(doubling(n)))
		require.ErrorIs(t, err, ErrTooExpensive)
		require.ErrorIs(t, err, ErrInvalidSchema)
		require.ErrorContains(t, err, "#/$defs/a12 applies more than 10000 schemas to each value it checks")
	}

	// Wide is fine: many distinct subschemas, each applied once.
	var b strings.Builder
	b.WriteString(`{"anyOf": [`)
	for i := range 2000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"const": ` + strconv.Itoa(i) + `}`)
	}
	b.WriteString("]}")
	_, err = Compile("wide", []byte(b.String()))
	require.NoError(t, err)
}

// FuzzCompileCycles: whatever schema document comes in, Compile does not
// panic, and a schema it accepts (without dynamic references, which
// resolve only while validating) never meets a reference cycle while
// validating: the static check finds every cycle the library would.
func FuzzCompileCycles(f *testing.F) {
	for _, s := range []string{
		`{"$ref": "#"}`, `{"anyOf": [{"type": "string"}, {"$ref": "#"}]}`,
		`{"if": {"type": "object"}, "then": {"$ref": "#"}}`,
		`{"properties": {"a": {"$ref": "#"}}}`, `{"items": {"$ref": "#/$defs/x"}, "$defs": {"x": {"allOf": [{"$ref": "#"}]}}}`,
		`{"$defs": {"a": {"not": {"$ref": "#/$defs/b"}}, "b": {"oneOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}`,
		`{"$schema": "http://json-schema.org/draft-07/schema#", "dependencies": {"a": {"$ref": "#"}}}`,
		doubling(3),
	} {
		f.Add([]byte(s))
	}
	values := []string{`null`, `true`, `1`, `1.5`, `"x"`, `[]`, `[1, "x", {}]`, `{}`, `{"a": 1, "b": {"a": []}}`}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Compile("fuzz", src)
		if err != nil || strings.Contains(string(src), "ynamicRef") || strings.Contains(string(src), "ecursiveRef") {
			return
		}
		for _, v := range values {
			_, vs := s.Check([]byte(v), Limits{MaxDepth: 16}, nil)
			for _, viol := range vs {
				if strings.Contains(viol.Message, "reference cycle") {
					t.Fatalf("schema %s accepted, but validating %s met a cycle: %s", src, v, viol.Message)
				}
			}
		}
	})
}
