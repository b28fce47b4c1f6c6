package jsoncompat

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSummary: the differences said in their user's terms, for the old
// version (v1) read by the new (v2) and the other way round: the change is
// always from v1 to v2, the reader is the one that may reject.
func TestSummary(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		v1, v2   string
		backward []string // v2 reading what v1 wrote
		forward  []string // v1 reading what v2 writes
	}{
		{
			"enum values added and removed",
			`{"enum":["a","b"]}`, `{"enum":["b","c"]}`,
			[]string{"enum values 'c' added and 'a' removed at the top level: readers on v2 reject 'a' [#/enum]"},
			[]string{"enum values 'c' added and 'a' removed at the top level: readers on v1 reject 'c' [#/enum]"},
		},
		{
			"const, numbers",
			`{"const":1}`, `{"const":2}`,
			[]string{"const changed from 1 to 2 at the top level: readers on v2 reject the value 1 [#/const]"},
			[]string{"const changed from 1 to 2 at the top level: readers on v1 reject the value 2 [#/const]"},
		},
		{
			"a type array is one place",
			`{"type":"object","properties":{"n":{"type":["string","null"],"maxLength":4}}}`,
			`{"type":"object","properties":{"n":{"type":["string","null"],"maxLength":3}}}`,
			[]string{"maxLength lowered from 4 to 3 at /n: readers on v2 reject strings longer than 3 [#/properties/n/maxLength]"},
			[]string{"maxLength lowered from 4 to 3 at /n: readers on v1 still accept every document v2 allows [#/properties/n/maxLength]"},
		},
		{
			"a property removed from a closed object",
			`{"type":"object","properties":{"a":{"type":"string"},"b":{}},"additionalProperties":false}`,
			`{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`,
			[]string{"property /b removed: readers on v2 reject documents that have it [#/properties/b]"},
			[]string{"property /b removed: readers on v1 still accept every document v2 allows [#/properties/b]"},
		},
		{
			"other properties forbidden",
			`{"type":"object","properties":{"items":{"type":"array","items":{"type":"object"}}}}`,
			`{"type":"object","properties":{"items":{"type":"array","items":{"type":"object","additionalProperties":false}}}}`,
			[]string{"other properties forbidden at /items/*: readers on v2 reject documents with other properties [#/properties/items/items/additionalProperties]"},
			[]string{"other properties forbidden at /items/*: readers on v1 still accept every document v2 allows [#/properties/items/items/additionalProperties]"},
		},
		{
			"a user's allOf keeps its index",
			`{"allOf":[{"type":"object"},{"properties":{"k":{"enum":[1,2]}}}]}`,
			`{"allOf":[{"type":"object"},{"properties":{"k":{"enum":[1]}}}]}`,
			[]string{"enum value 2 removed at /k: readers on v2 reject it [#/allOf/1/properties/k/enum]"},
			[]string{"enum value 2 removed at /k: readers on v1 still accept every document v2 allows [#/allOf/1/properties/k/enum]"},
		},
	}
	summaries := func(v1, v2 string, newWrites bool) []string {
		w, r := v1, v2
		if newWrites {
			w, r = v2, v1
		}
		var out []string
		for _, d := range changes(t, w, r, Strict) {
			out = append(out, d.Summary(newWrites, "v1", "v2")+" ["+d.SchemaPath+"]")
			for _, b := range d.Because {
				out[len(out)-1] = d.Summary(newWrites, "v1", "v2") + " [" + b.SchemaPath + "]"
			}
		}
		return out
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.backward, summaries(tc.v1, tc.v2, false), "backward")
			require.Equal(t, tc.forward, summaries(tc.v1, tc.v2, true), "forward")
		})
	}
}
