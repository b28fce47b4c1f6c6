package formats_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
)

// Each format reaches its adapter, with the options meant for it.
func TestCompile(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"a":`, 5) + `1` + strings.Repeat(`}`, 5)
	cases := []struct {
		name    string
		format  schema.Format
		src     string
		opts    formats.Options
		payload string
		want    []record.ErrorType
		// field is a field of the decoded message, "" to skip the check.
		field string
	}{
		{"json", schema.FormatJSON, `{"required":["a"]}`, formats.Options{}, `{"b":1}`, []record.ErrorType{record.MissingField}, ""},
		{"json limits", schema.FormatJSON, `{}`, formats.Options{Limits: jsonschema.Limits{MaxDepth: 3}}, deep, []record.ErrorType{record.ParseError}, ""},
		{"json duplicate keys allowed", schema.FormatJSON, `{}`, formats.Options{Limits: jsonschema.Limits{AllowDuplicateKeys: true}}, `{"a":1,"a":2}`, nil, ""},
		{"avro", schema.FormatAvro, `"long"`, formats.Options{}, "\x02", nil, ""},
		{"avro truncated", schema.FormatAvro, `"string"`, formats.Options{}, "\x0a", []record.ErrorType{record.DecodeError}, ""},
		{
			"protobuf message", schema.FormatProtobuf,
			`syntax = "proto3"; message A { int64 m = 1; } message B { int64 n = 1; }`,
			formats.Options{Message: "B"},
			"\x08\x07", nil, "n",
		},
		{
			"protobuf first message", schema.FormatProtobuf,
			`syntax = "proto3"; message A { int64 m = 1; } message B { int64 n = 1; }`,
			formats.Options{},
			"\x08\x07", nil, "m",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v, err := formats.Compile(c.format, "s", 3, []byte(c.src), c.opts)
			require.NoError(t, err)
			require.Equal(t, c.format, v.Format)
			require.Equal(t, "s", v.Subject)
			require.Equal(t, 3, v.Version)
			decoded, vs := v.Validator.Check([]byte(c.payload), nil)
			var got []record.ErrorType
			for _, x := range vs {
				got = append(got, x.Type)
			}
			require.Equal(t, c.want, got, "%+v", vs)
			if c.field != "" {
				require.Contains(t, decoded, c.field)
			}
		})
	}
}

func TestCompileRefuses(t *testing.T) {
	t.Parallel()
	_, err := formats.Compile("XML", "s", 1, []byte(`<a/>`), formats.Options{})
	require.ErrorIs(t, err, formats.ErrUnknown)
	require.ErrorContains(t, err, `"XML"`)
	_, err = formats.Compile("", "s", 1, []byte(`{}`), formats.Options{})
	require.ErrorIs(t, err, formats.ErrUnknown, "a format is always named")
	for _, f := range []schema.Format{schema.FormatJSON, schema.FormatAvro, schema.FormatProtobuf} {
		_, err := formats.Compile(f, "s", 1, []byte(`{"type": nonsense`), formats.Options{})
		require.Error(t, err, f)
	}
}
