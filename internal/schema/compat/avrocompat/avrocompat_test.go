package avrocompat

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/avro"
)

func rec(fields ...string) string {
	return `{"type":"record","name":"R","namespace":"com.example","fields":[` + strings.Join(fields, ",") + `]}`
}

func field(name, typ string, extra ...string) string {
	return `{"name":"` + name + `","type":` + typ + strings.Join(extra, "") + `}`
}

func mustParse(t *testing.T, src string) *Schema {
	t.Helper()
	s, err := Parse([]byte(src))
	require.NoError(t, err, src)
	return s
}

func findingNames(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Kind + " " + f.Path
	}
	slices.Sort(out)
	return out
}

// TestResolutionRules runs each rule of the specification's schema
// resolution both ways: backward (data written with old, read with new)
// and forward (written with new, read with old). Each direction's verdict
// is also asked of github.com/twmb/avro, whose Resolve the gateway decodes
// with: the two must agree.
func TestResolutionRules(t *testing.T) {
	t.Parallel()
	enumAB := `{"type":"enum","name":"Color","symbols":["RED","GREEN"]}`
	enumABC := `{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}`
	enumABCDefault := `{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE","UNKNOWN"],"default":"UNKNOWN"}`
	enumABDefault := `{"type":"enum","name":"Color","symbols":["RED","GREEN","UNKNOWN"],"default":"UNKNOWN"}`
	address := func(zip string, extra ...string) string {
		return `{"type":"record","name":"Address","fields":[` + strings.Join(append([]string{field("street", `"string"`), field("zip", zip)}, extra...), ",") + `]}`
	}
	cases := []struct {
		name     string
		old, new string
		backward []string // findings reading old data with new
		forward  []string // findings reading new data with old
	}{
		{
			name:     "field added with a default",
			old:      rec(field("a", `"int"`)),
			new:      rec(field("a", `"int"`), field("b", `"string"`, `,"default":"x"`)),
			backward: []string{"FIELD_ADDED_WITH_DEFAULT /fields/b"},
			forward:  []string{"FIELD_REMOVED /fields/b"},
		},
		{
			name:     "field added without a default",
			old:      rec(field("a", `"int"`)),
			new:      rec(field("a", `"int"`), field("b", `"string"`)),
			backward: []string{"READER_FIELD_MISSING_DEFAULT_VALUE /fields/b"},
			forward:  []string{"FIELD_REMOVED /fields/b"},
		},
		{
			name:     "field removed that had no default",
			old:      rec(field("a", `"int"`), field("b", `"string"`)),
			new:      rec(field("a", `"int"`)),
			backward: []string{"FIELD_REMOVED /fields/b"},
			forward:  []string{"READER_FIELD_MISSING_DEFAULT_VALUE /fields/b"},
		},
		{
			name:     "field renamed with an alias",
			old:      rec(field("zip", `"string"`)),
			new:      rec(field("postcode", `"string"`, `,"aliases":["zip"]`)),
			backward: []string{"FIELD_RENAMED /fields/postcode"},
			forward:  []string{"FIELD_REMOVED /fields/postcode", "READER_FIELD_MISSING_DEFAULT_VALUE /fields/zip"},
		},
		{
			name:     "field renamed without an alias",
			old:      rec(field("zip", `"string"`)),
			new:      rec(field("postcode", `"string"`)),
			backward: []string{"FIELD_REMOVED /fields/zip", "READER_FIELD_MISSING_DEFAULT_VALUE /fields/postcode"},
			forward:  []string{"FIELD_REMOVED /fields/postcode", "READER_FIELD_MISSING_DEFAULT_VALUE /fields/zip"},
		},
		{
			name:     "alias and name both claim one reader field",
			old:      rec(field("zip", `"string"`), field("postcode", `"string"`)),
			new:      rec(field("postcode", `"string"`, `,"aliases":["zip"]`)),
			backward: []string{"AMBIGUOUS_FIELD_ALIAS /fields/postcode", "FIELD_REMOVED /fields/zip"},
			forward:  []string{"READER_FIELD_MISSING_DEFAULT_VALUE /fields/zip"},
		},
		{
			name:     "record renamed with an alias",
			old:      `{"type":"record","name":"Customer","namespace":"com.example","fields":[{"name":"a","type":"int"}]}`,
			new:      `{"type":"record","name":"Client","namespace":"com.example","aliases":["Customer"],"fields":[{"name":"a","type":"int"}]}`,
			backward: []string{"TYPE_RENAMED /"},
			forward:  []string{"NAME_MISMATCH /"},
		},
		{
			name:     "record moved to another namespace",
			old:      `{"type":"record","name":"Customer","namespace":"com.example","fields":[{"name":"a","type":"int"}]}`,
			new:      `{"type":"record","name":"Customer","namespace":"org.example","fields":[{"name":"a","type":"int"}]}`,
			backward: []string{"TYPE_RENAMED /"},
			forward:  []string{"TYPE_RENAMED /"},
		},
		{
			name:     "int promoted to long",
			old:      rec(field("n", `"int"`)),
			new:      rec(field("n", `"long"`)),
			backward: []string{"TYPE_PROMOTED /fields/n"},
			forward:  []string{"TYPE_MISMATCH /fields/n"},
		},
		{
			name:     "int promoted to float",
			old:      `"int"`,
			new:      `"float"`,
			backward: []string{"TYPE_PROMOTED /"},
			forward:  []string{"TYPE_MISMATCH /"},
		},
		{
			name:     "long promoted to double",
			old:      `"long"`,
			new:      `"double"`,
			backward: []string{"TYPE_PROMOTED /"},
			forward:  []string{"TYPE_MISMATCH /"},
		},
		{
			name:     "float promoted to double",
			old:      `"float"`,
			new:      `"double"`,
			backward: []string{"TYPE_PROMOTED /"},
			forward:  []string{"TYPE_MISMATCH /"},
		},
		{
			name:     "string and bytes read each other",
			old:      rec(field("s", `"string"`)),
			new:      rec(field("s", `"bytes"`)),
			backward: []string{"TYPE_PROMOTED /fields/s"},
			forward:  []string{"TYPE_PROMOTED /fields/s"},
		},
		{
			name:     "int to string is no promotion",
			old:      rec(field("n", `"int"`)),
			new:      rec(field("n", `"string"`)),
			backward: []string{"TYPE_MISMATCH /fields/n"},
			forward:  []string{"TYPE_MISMATCH /fields/n"},
		},
		{
			name:     "value made nullable",
			old:      rec(field("s", `"string"`)),
			new:      rec(field("s", `["null","string"]`, `,"default":null`)),
			backward: nil,
			forward:  []string{"TYPE_MISMATCH /fields/s"},
		},
		{
			name:     "union branch added",
			old:      `["null","string"]`,
			new:      `["null","string","int"]`,
			backward: nil,
			forward:  []string{"MISSING_UNION_BRANCH /"},
		},
		{
			name:     "union branch promoted",
			old:      `["null","int"]`,
			new:      `["null","long"]`,
			backward: []string{"TYPE_PROMOTED /"},
			forward:  []string{"MISSING_UNION_BRANCH /"},
		},
		{
			name:     "single type to a union without it",
			old:      `"int"`,
			new:      `["null","string"]`,
			backward: []string{"MISSING_UNION_BRANCH /"},
			forward:  []string{"TYPE_MISMATCH /", "TYPE_MISMATCH /"},
		},
		{
			name:     "union of records matched by name",
			old:      `[{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]},{"type":"record","name":"B","fields":[{"name":"y","type":"int"}]}]`,
			new:      `[{"type":"record","name":"B","fields":[{"name":"y","type":"long"}]},{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}]`,
			backward: []string{"TYPE_PROMOTED /fields/y"},
			forward:  []string{"TYPE_MISMATCH /fields/y"},
		},
		{
			name:     "enum symbol added",
			old:      enumAB,
			new:      enumABC,
			backward: nil,
			forward:  []string{"MISSING_ENUM_SYMBOLS /"},
		},
		{
			name:     "enum symbol added, old reader has a default",
			old:      enumABDefault,
			new:      enumABCDefault,
			backward: nil,
			forward:  []string{"ENUM_SYMBOL_DEFAULTED /"},
		},
		{
			name:     "enum renamed",
			old:      enumAB,
			new:      `{"type":"enum","name":"Colour","symbols":["RED","GREEN"]}`,
			backward: []string{"NAME_MISMATCH /"},
			forward:  []string{"NAME_MISMATCH /"},
		},
		{
			name:     "nested record field changes type",
			old:      rec(field("address", address(`"string"`))),
			new:      rec(field("address", address(`"int"`))),
			backward: []string{"TYPE_MISMATCH /fields/address/fields/zip"},
			forward:  []string{"TYPE_MISMATCH /fields/address/fields/zip"},
		},
		{
			name:     "nested record gains a field with a default",
			old:      rec(field("address", address(`"string"`))),
			new:      rec(field("address", address(`"string"`, field("country", `"string"`, `,"default":"NL"`)))),
			backward: []string{"FIELD_ADDED_WITH_DEFAULT /fields/address/fields/country"},
			forward:  []string{"FIELD_REMOVED /fields/address/fields/country"},
		},
		{
			name: "named type reused by reference",
			old:  rec(field("home", address(`"string"`)), field("work", `"Address"`)),
			new: rec(field("home", address(`"string"`, field("country", `"string"`, `,"default":"NL"`))),
				field("work", `"com.example.Address"`)),
			backward: []string{"FIELD_ADDED_WITH_DEFAULT /fields/home/fields/country"},
			forward:  []string{"FIELD_REMOVED /fields/home/fields/country"},
		},
		{
			name:     "array items promoted",
			old:      rec(field("xs", `{"type":"array","items":"int"}`)),
			new:      rec(field("xs", `{"type":"array","items":"long"}`)),
			backward: []string{"TYPE_PROMOTED /fields/xs/items"},
			forward:  []string{"TYPE_MISMATCH /fields/xs/items"},
		},
		{
			name:     "map values change type",
			old:      rec(field("m", `{"type":"map","values":"int"}`)),
			new:      rec(field("m", `{"type":"map","values":"boolean"}`)),
			backward: []string{"TYPE_MISMATCH /fields/m/values"},
			forward:  []string{"TYPE_MISMATCH /fields/m/values"},
		},
		{
			name:     "array becomes a map",
			old:      rec(field("c", `{"type":"array","items":"int"}`)),
			new:      rec(field("c", `{"type":"map","values":"int"}`)),
			backward: []string{"TYPE_MISMATCH /fields/c"},
			forward:  []string{"TYPE_MISMATCH /fields/c"},
		},
		{
			name:     "fixed size changes",
			old:      `{"type":"fixed","name":"Hash","size":16}`,
			new:      `{"type":"fixed","name":"Hash","size":32}`,
			backward: []string{"FIXED_SIZE_MISMATCH /"},
			forward:  []string{"FIXED_SIZE_MISMATCH /"},
		},
		{
			name:     "fixed renamed",
			old:      `{"type":"fixed","name":"Hash","size":16}`,
			new:      `{"type":"fixed","name":"Digest","size":16}`,
			backward: []string{"NAME_MISMATCH /"},
			forward:  []string{"NAME_MISMATCH /"},
		},
		{
			name:     "decimal scale changes",
			old:      rec(field("price", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`)),
			new:      rec(field("price", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":3}`)),
			backward: []string{"DECIMAL_MISMATCH /fields/price"},
			forward:  []string{"DECIMAL_MISMATCH /fields/price"},
		},
		{
			name:     "recursive record gains a field with a default",
			old:      `{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"],"default":null}]}`,
			new:      `{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"w","type":"int","default":0},{"name":"next","type":["null","Node"],"default":null}]}`,
			backward: []string{"FIELD_ADDED_WITH_DEFAULT /fields/w"},
			forward:  []string{"FIELD_REMOVED /fields/w"},
		},
		{
			name:     "every incompatibility is reported, not only the first",
			old:      rec(field("a", `"int"`), field("b", `"string"`), field("c", enumABC)),
			new:      rec(field("a", `"string"`), field("b", `"boolean"`), field("c", enumAB), field("d", `"int"`)),
			backward: []string{"MISSING_ENUM_SYMBOLS /fields/c", "READER_FIELD_MISSING_DEFAULT_VALUE /fields/d", "TYPE_MISMATCH /fields/a", "TYPE_MISMATCH /fields/b"},
			forward:  []string{"FIELD_REMOVED /fields/d", "TYPE_MISMATCH /fields/a", "TYPE_MISMATCH /fields/b"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			oldS, newS := mustParse(t, tc.old), mustParse(t, tc.new)
			for _, dir := range []struct {
				name           string
				writer, reader *Schema
				rawW, rawR     string
				want           []string
			}{
				{"backward", oldS, newS, tc.old, tc.new, tc.backward},
				{"forward", newS, oldS, tc.new, tc.old, tc.forward},
			} {
				got := Check(dir.writer, dir.reader)
				want := slices.Clone(dir.want)
				slices.Sort(want)
				require.Equal(t, want, nilIfEmpty(findingNames(got)), dir.name)

				w, err := avro.Parse(dir.rawW)
				require.NoError(t, err)
				r, err := avro.Parse(dir.rawR)
				require.NoError(t, err)
				libErr := avro.CheckCompatibility(w, r)
				require.Equal(t, libErr == nil, Compatible(got),
					"%s: we say compatible=%v, twmb/avro says %v", dir.name, Compatible(got), libErr)
				for _, f := range got {
					require.NotEmpty(t, f.Explain("the writer", "the reader"))
				}
			}
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
	for _, tc := range []struct{ name, src string }{
		{"not JSON", `{"type":`},
		{"unknown type", `{"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]}`},
		{"record without fields", `{"type":"record","name":"R"}`},
		{"enum without symbols", `{"type":"enum","name":"E"}`},
		{"empty", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.src))
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrInvalidSchema), "%v", err)
		})
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	fs := Check(mustParse(t, rec(field("a", `"int"`))), mustParse(t, rec(field("a", `"int"`), field("b", `"string"`))))
	require.Len(t, fs, 1)
	require.Equal(t, "the new schema reads the field b, which version 1 does not write, and gives it no default",
		fs[0].Explain("version 1", "the new schema"))
	for kind := range explanations {
		require.Equal(t, strings.ToUpper(kind), kind)
	}
}
