package jsoncompat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func changes(t *testing.T, original, update string, rules Rules) []Difference {
	t.Helper()
	o, err := Parse([]byte(original))
	require.NoError(t, err, "original")
	u, err := Parse([]byte(update))
	require.NoError(t, err, "update")
	return Compare(o, u, rules)
}

func names(diffs []Difference) []string {
	out := make([]string, len(diffs))
	for i, d := range diffs {
		out[i] = d.Type + " " + d.Path
	}
	slices.Sort(out)
	return out
}

// TestCompare covers what Confluent's cases do not: other drafts,
// references, fractions, the 2019-09 keywords, lenient rules.
func TestCompare(t *testing.T) {
	t.Parallel()
	const d4 = `"$schema": "http://json-schema.org/draft-04/schema#", `
	const d2020 = `"$schema": "https://json-schema.org/draft/2020-12/schema", `
	const d2019 = `"$schema": "https://json-schema.org/draft/2019-09/schema", `
	cases := []struct {
		name             string
		original, update string
		lenient          bool
		want             []string
		compatible       bool
	}{
		{
			"identical schemas have no differences",
			`{"type":"object","properties":{"a":{"type":"string","maxLength":3}},"required":["a"]}`,
			`{"required":["a"],"properties":{"a":{"maxLength":3,"type":"string"}},"type":"object"}`,
			false, nil, true,
		},
		{
			"numbers equal in value are equal",
			`{"type":"number","maximum":10}`, `{"type":"number","maximum":10.0}`,
			false, nil, true,
		},
		{
			"fractional multipleOf reduced to a divisor",
			`{"type":"number","multipleOf":0.5}`, `{"type":"number","multipleOf":0.25}`,
			false,
			[]string{"MULTIPLE_OF_REDUCED #/multipleOf"},
			true,
		},
		{
			"fractional multipleOf expanded",
			`{"type":"number","multipleOf":0.25}`, `{"type":"number","multipleOf":0.75}`,
			false,
			[]string{"MULTIPLE_OF_EXPANDED #/multipleOf"},
			false,
		},
		{
			"exclusive maximum lowered",
			`{"type":"number","exclusiveMaximum":10}`, `{"type":"number","exclusiveMaximum":5}`,
			false,
			[]string{"EXCLUSIVE_MAXIMUM_DECREASED #/exclusiveMaximum"},
			false,
		},
		{
			"draft 4 boolean exclusiveMaximum makes the bound exclusive",
			`{` + d4 + `"type":"number","maximum":10}`, `{` + d4 + `"type":"number","maximum":10,"exclusiveMaximum":true}`,
			false,
			[]string{"EXCLUSIVE_MAXIMUM_ADDED #/exclusiveMaximum", "MAXIMUM_REMOVED #/maximum"},
			false,
		},
		{
			"draft 4 reads id, not $id",
			`{` + d4 + `"id":"a"}`, `{` + d4 + `"id":"b"}`,
			false,
			[]string{"ID_CHANGED #/"},
			true,
		},
		{
			"required property added to a closed model without default",
			`{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`,
			`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["b"],"additionalProperties":false}`,
			false,
			[]string{"REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"},
			false,
		},
		{
			"required property with default added to a closed model",
			`{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`,
			`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string","default":"x"}},"required":["b"],"additionalProperties":false}`,
			false,
			[]string{"REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"},
			true,
		},
		{
			"required property added to an open model",
			`{"type":"object","properties":{"a":{"type":"string"}}}`,
			`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["b"]}`,
			true,
			[]string{"REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"},
			false,
		},
		{
			"lenient forgives an optional property added to an open model",
			`{"type":"object","properties":{"a":{"type":"string"}}}`,
			`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"number"}}}`,
			true,
			[]string{"OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"},
			true,
		},
		{
			"property removed from a closed model",
			`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"additionalProperties":false}`,
			`{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`,
			false,
			[]string{"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b"},
			false,
		},
		{
			"recursive schema compared with itself",
			`{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#"}}}}`,
			`{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#"}}}}`,
			false, nil, true,
		},
		{
			"recursive schema narrowed inside the recursion",
			`{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#"}}}}`,
			`{"type":"object","properties":{"name":{"type":"string","maxLength":5},"children":{"type":"array","items":{"$ref":"#"}}}}`,
			false,
			[]string{"MAX_LENGTH_ADDED #/properties/name/maxLength"},
			false,
		},
		{
			"reference through $defs and an anchor",
			`{` + d2020 + `"$defs":{"n":{"$anchor":"num","type":"integer"}},"type":"array","items":{"$ref":"#num"}}`,
			`{` + d2020 + `"$defs":{"n":{"$anchor":"num","type":"number"}},"type":"array","items":{"$ref":"#num"}}`,
			false,
			[]string{"TYPE_EXTENDED #/items"},
			true,
		},
		{
			"reference to the document by its own $id",
			`{"$id":"http://example.com/s.json","definitions":{"a":{"type":"string"}},"properties":{"x":{"$ref":"http://example.com/s.json#/definitions/a"}}}`,
			`{"$id":"http://example.com/s.json","definitions":{"a":{"type":"number"}},"properties":{"x":{"$ref":"s.json#/definitions/a"}}}`,
			false,
			[]string{"TYPE_CHANGED #/properties/x"},
			false,
		},
		{
			"2020-12 minContains raised",
			`{` + d2020 + `"type":"array","contains":{"type":"number"}}`, `{` + d2020 + `"type":"array","contains":{"type":"number"},"minContains":3}`,
			false,
			[]string{"MIN_CONTAINS_INCREASED #/minContains"},
			false,
		},
		{
			"2020-12 maxContains added",
			`{` + d2020 + `"type":"array","contains":{"type":"number"}}`, `{` + d2020 + `"type":"array","contains":{"type":"number"},"maxContains":3}`,
			false,
			[]string{"MAX_CONTAINS_ADDED #/maxContains"},
			false,
		},
		{
			"2020-12 unevaluatedProperties false added",
			`{` + d2020 + `"type":"object","properties":{"a":{"type":"string"}}}`,
			`{` + d2020 + `"type":"object","properties":{"a":{"type":"string"}},"unevaluatedProperties":false}`,
			false,
			[]string{"UNEVALUATED_PROPERTIES_REMOVED #/unevaluatedProperties"},
			false,
		},
		{
			"2020-12 unevaluatedItems schema dropped",
			`{` + d2020 + `"type":"array","prefixItems":[{"type":"string"}],"unevaluatedItems":{"type":"number"}}`,
			`{` + d2020 + `"type":"array","prefixItems":[{"type":"string"}]}`,
			false,
			[]string{"UNEVALUATED_ITEMS_EXTENDED #/unevaluatedItems"},
			true,
		},
		{
			"2019-09 tuple in items with additionalItems",
			`{` + d2019 + `"type":"array","items":[{"type":"string"}],"additionalItems":false}`,
			`{` + d2019 + `"type":"array","items":[{"type":"string"},{"type":"number"}],"additionalItems":false}`,
			false,
			[]string{"ITEM_ADDED_TO_CLOSED_CONTENT_MODEL #/items/1"},
			true,
		},
		{
			"2019-09 dependentRequired extended",
			`{` + d2019 + `"dependentRequired":{"a":["b"]}}`, `{` + d2019 + `"dependentRequired":{"a":["b","c"]}}`,
			false,
			[]string{"DEPENDENCY_ARRAY_EXTENDED #/dependencies/a"},
			false,
		},
		{
			"type arrays narrowed",
			`{"type":["string","null"]}`, `{"type":["string"]}`,
			false,
			[]string{"SUM_TYPE_NARROWED #/"},
			false,
		},
		{
			"enum narrowed",
			`{"enum":["a","b"]}`, `{"enum":["a"]}`,
			false,
			[]string{"ENUM_ARRAY_NARROWED #/enum"},
			false,
		},
		{
			"not widened",
			`{"not":{"type":"string","maxLength":3}}`, `{"not":{"type":"string"}}`,
			false,
			[]string{"NOT_TYPE_EXTENDED #/not"},
			false,
		},
		{
			"connect bytes stay bytes",
			`{"type":"string","connect.type":"bytes"}`, `{"type":"object","connect.type":"bytes"}`,
			false, nil, true,
		},
		{
			"anything to nothing is a type change, nothing to anything is not",
			`false`, `{"type":"string"}`,
			false, nil, true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rules := Strict
			if tc.lenient {
				rules = Lenient
			}
			diffs := changes(t, tc.original, tc.update, rules)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			require.Equal(t, want, nilIfEmpty(names(diffs)))
			require.Equal(t, tc.compatible, Compatible(diffs), "%+v", diffs)
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, src, want string }{
		{"not JSON", `{"type":`, "unexpected end"},
		{"duplicate key", `{"type":"string","type":"number"}`, "duplicate"},
		{"not a schema", `[1]`, "must be an object or a boolean"},
		{"unknown type", `{"type":"strnig"}`, `unknown type "strnig"`},
		{"type of the wrong shape", `{"type":3}`, "type must be a string or an array"},
		{"length that is not an integer", `{"maxLength":"3"}`, "maxLength must be a number"},
		{"length with a fraction", `{"maxLength":3.5}`, "maxLength must be an integer"},
		{"properties not an object", `{"properties":[]}`, "properties must be an object"},
		{"required not an array", `{"required":"a"}`, "required must be an array"},
		{"reference to another document", `{"$ref":"http://example.com/other.json"}`, "names another document"},
		{"reference to nothing", `{"$ref":"#/definitions/missing"}`, "names nothing in the document"},
		{"unknown anchor", `{"$ref":"#nowhere"}`, "anchor"},
		{"bad schema deep inside", `{"properties":{"a":{"items":{"minItems":true}}}}`, "#/properties/a/items"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.src))
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrInvalidSchema), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestComparisonIsBounded feeds schemas whose comparison would take
// exponential time: combined schemas nested in combined schemas, and
// references fanning out into a graph far larger than the document.
func TestComparisonIsBounded(t *testing.T) {
	t.Parallel()
	// Each level is a oneOf of four variants of the level below, so the
	// pairwise matching multiplies the work by 16 per level.
	nested := func(leaf string) string {
		s := leaf
		for range 6 {
			s = fmt.Sprintf(`{"oneOf":[%s,{"title":"a","allOf":[%s]},{"title":"b","anyOf":[%s]},{"title":"c","not":{"not":%s}}]}`, s, s, s, s)
		}
		return s
	}
	diffs := changes(t, nested(`{"type":"string"}`), nested(`{"type":"string","maxLength":1}`), Strict)
	require.Contains(t, names(diffs), "SCHEMA_TOO_COMPLEX #/")
	require.False(t, Compatible(diffs))

	// A chain of definitions each naming the next twice: 2^40 paths, one
	// fingerprint per definition.
	var defs []string
	for i := range 40 {
		defs = append(defs, fmt.Sprintf(`"d%d":{"type":"array","items":[{"$ref":"#/definitions/d%d"},{"$ref":"#/definitions/d%d"}]}`, i, i+1, i+1))
	}
	defs = append(defs, `"d40":{"type":"string"}`)
	doc := `{"definitions":{` + strings.Join(defs, ",") + `},"$ref":"#/definitions/d0"}`
	require.Empty(t, changes(t, doc, doc, Strict), "a schema compared with itself")
	titled := strings.Replace(doc, `"d0":{`, `"d0":{"title":"t",`, 1)
	require.Equal(t, []string{"TITLE_CHANGED #/"}, names(changes(t, doc, titled, Strict)),
		"identical subtrees are skipped by fingerprint")
	changed := strings.Replace(doc, `"d40":{"type":"string"}`, `"d40":{"type":"number"}`, 1)
	diffs = changes(t, doc, changed, Strict)
	require.False(t, Compatible(diffs))
}

func TestExplain(t *testing.T) {
	t.Parallel()
	diffs := changes(t, `{"type":"string","minLength":10}`, `{"type":"string","minLength":11}`, Strict)
	require.Len(t, diffs, 1)
	require.Equal(t, "minLength is 10 in version 1 and 11 in the new schema: strings of 10 characters that version 1 accepts are refused",
		diffs[0].Explain("version 1", "the new schema"))
	for typ := range compatibleLenient {
		require.Contains(t, explanations, typ)
	}
	require.Equal(t, "something new", Difference{Type: "SOMETHING_NEW"}.Explain("a", "b"))
}
