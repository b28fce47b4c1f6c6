package compat

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/schema"
)

func TestParseMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Mode
	}{
		{"BACKWARD", Backward},
		{"backward_transitive", BackwardTransitive},
		{" Forward ", Forward},
		{"FORWARD_TRANSITIVE", ForwardTransitive},
		{"full", Full},
		{"FULL_TRANSITIVE", FullTransitive},
		{"none", None},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseMode(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err := ParseMode("SIDEWAYS")
	require.ErrorIs(t, err, ErrUnknownMode)
	require.Contains(t, err.Error(), "BACKWARD_TRANSITIVE")
}

// Schema histories whose steps are each compatible while the first and
// last versions are not: what the _TRANSITIVE modes exist to catch.
var (
	// Avro, backward: a field gains a default, then loses it. v3 reads v2's
	// data (which has the field) but not v1's.
	avroBackward = [][]byte{
		[]byte(`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`),
		[]byte(`{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":"x"}]}`),
		[]byte(`{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}`),
	}
	// Avro, forward: v2 gives a field a default, v3 drops the field. v2
	// reads v3's data with the default; v1 has none.
	avroForward = [][]byte{
		[]byte(`{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}`),
		[]byte(`{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":"x"}]}`),
		[]byte(`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`),
	}
	// JSON Schema, backward: a closed object makes a property required
	// with a default (compatible), then drops the default (compatible
	// against v2, which required it already; not against v1).
	jsonBackward = [][]byte{
		[]byte(`{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`),
		[]byte(`{"type":"object","properties":{"a":{"type":"string","default":"x"}},"required":["a"],"additionalProperties":false}`),
		[]byte(`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`),
	}
	// JSON Schema, forward: the mirror image.
	jsonForward = [][]byte{
		[]byte(`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`),
		[]byte(`{"type":"object","properties":{"a":{"type":"string","default":"x"}},"required":["a"],"additionalProperties":false}`),
		[]byte(`{"type":"object","properties":{"a":{"type":"string","default":"x"}},"additionalProperties":false}`),
	}
)

func TestModes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		format   schema.Format
		history  [][]byte // existing versions, then the candidate
		mode     Mode
		want     bool
		breaking []string // "DIRECTION KIND PATH @version"
	}{
		{"avro backward checks the latest only", schema.FormatAvro, avroBackward, Backward, true, nil},
		{
			"avro backward transitive checks every version", schema.FormatAvro, avroBackward, BackwardTransitive, false,
			[]string{"BACKWARD READER_FIELD_MISSING_DEFAULT_VALUE /fields/b @0"},
		},
		{"avro forward fails the other way", schema.FormatAvro, avroBackward, Forward, true, nil},
		{"avro full", schema.FormatAvro, avroBackward, Full, true, nil},
		{
			"avro full transitive", schema.FormatAvro, avroBackward, FullTransitive, false,
			[]string{"BACKWARD READER_FIELD_MISSING_DEFAULT_VALUE /fields/b @0"},
		},
		{"avro forward checks the latest only", schema.FormatAvro, avroForward, Forward, true, nil},
		{
			"avro forward transitive checks every version", schema.FormatAvro, avroForward, ForwardTransitive, false,
			[]string{"FORWARD READER_FIELD_MISSING_DEFAULT_VALUE /fields/b @0"},
		},
		{"avro backward of a dropped field", schema.FormatAvro, avroForward, BackwardTransitive, true, nil},
		{"avro none", schema.FormatAvro, avroForward, None, true, nil},
		{"json backward checks the latest only", schema.FormatJSON, jsonBackward, Backward, true, nil},
		{
			"json backward transitive checks every version", schema.FormatJSON, jsonBackward, BackwardTransitive, false,
			[]string{"BACKWARD REQUIRED_ATTRIBUTE_ADDED #/required/a @0"},
		},
		{"json forward: the older schema does not require the property", schema.FormatJSON, jsonBackward, Forward, true, nil},
		{"json forward checks the latest only", schema.FormatJSON, jsonForward, Forward, true, nil},
		{
			"json forward transitive checks every version", schema.FormatJSON, jsonForward, ForwardTransitive, false,
			[]string{"FORWARD REQUIRED_ATTRIBUTE_ADDED #/required/a @0"},
		},
		{
			"json full transitive", schema.FormatJSON, jsonBackward, FullTransitive, false,
			[]string{"BACKWARD REQUIRED_ATTRIBUTE_ADDED #/required/a @0"},
		},
		{
			"json full reports both directions", schema.FormatJSON,
			[][]byte{[]byte(`{"type":"string","maxLength":5}`), []byte(`{"type":"string","minLength":1}`)},
			Full, false,
			[]string{"BACKWARD MIN_LENGTH_ADDED #/minLength @0", "FORWARD MAX_LENGTH_ADDED #/maxLength @0"},
		},
		{"json none", schema.FormatJSON, jsonBackward, None, true, nil},
		{"first version has nothing to break", schema.FormatJSON, jsonBackward[:1], FullTransitive, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			last := len(tc.history) - 1
			res, err := Check(tc.format, tc.mode, tc.history[last], tc.history[:last])
			require.NoError(t, err)
			require.Equal(t, tc.want, res.Compatible)
			var got []string
			for _, c := range res.Breaking() {
				got = append(got, string(c.Direction)+" "+c.Kind+" "+c.Path+" @"+string(rune('0'+c.Version)))
				require.NotEmpty(t, c.Message)
			}
			require.Equal(t, tc.breaking, got)
		})
	}
}

func TestCheckMessagesNameTheSchemas(t *testing.T) {
	t.Parallel()
	res, err := Check(schema.FormatJSON, FullTransitive, jsonBackward[2], jsonBackward[:2])
	require.NoError(t, err)
	var msgs []string
	for _, c := range res.Breaking() {
		msgs = append(msgs, c.Message)
	}
	joined := strings.Join(msgs, "\n")
	require.Contains(t, joined, "old schema 1 of 2")
	require.Contains(t, joined, "the new schema")

	res, err = Check(schema.FormatAvro, Backward, avroBackward[2], avroBackward[:1])
	require.NoError(t, err)
	require.False(t, res.Compatible)
	require.Equal(t, "the new schema reads the field b, which the old schema does not write, and gives it no default",
		res.Breaking()[0].Message)
}

func TestCheckErrors(t *testing.T) {
	t.Parallel()
	good := []byte(`{"type":"string"}`)
	cases := []struct {
		name      string
		format    schema.Format
		mode      Mode
		candidate []byte
		existing  [][]byte
		want      string
		is        error
	}{
		{"unknown mode", schema.FormatJSON, "SIDEWAYS", good, nil, "SIDEWAYS", ErrUnknownMode},
		{"unknown format", "XML", Backward, good, nil, "XML", ErrUnknownFormat},
		{"unparsable protobuf", schema.FormatProtobuf, Backward, []byte(`syntax = "proto3"; message {`), nil, "new schema", nil},
		{"unparsable candidate", schema.FormatJSON, Backward, []byte(`{`), [][]byte{good}, "new schema", nil},
		{"unparsable candidate under NONE", schema.FormatJSON, None, []byte(`{"type":"strnig"}`), nil, "new schema", nil},
		{"unparsable latest version", schema.FormatJSON, Backward, good, [][]byte{good, []byte(`[`)}, "old schema 2 of 2", nil},
		{"unparsable old version, transitive", schema.FormatJSON, BackwardTransitive, good, [][]byte{[]byte(`{"type":1}`), good}, "old schema 1 of 2", nil},
		{"unparsable avro", schema.FormatAvro, Backward, []byte(`{"type":"record"}`), nil, "new schema", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Check(tc.format, tc.mode, tc.candidate, tc.existing)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			if tc.is != nil {
				require.True(t, errors.Is(err, tc.is), "%v", err)
			}
		})
	}
}

func TestCheckSkipsVersionsTheModeDoesNotRead(t *testing.T) {
	t.Parallel()
	broken := []byte(`not a schema`)
	good := []byte(`{"type":"string"}`)
	res, err := Check(schema.FormatJSON, Backward, good, [][]byte{broken, good})
	require.NoError(t, err, "a non-transitive mode reads the latest version only")
	require.True(t, res.Compatible)
	res, err = Check(schema.FormatJSON, None, good, [][]byte{broken})
	require.NoError(t, err)
	require.True(t, res.Compatible)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, Validate(schema.FormatJSON, []byte(`{"type":"string"}`)))
	require.NoError(t, Validate(schema.FormatAvro, []byte(`"string"`)))
	require.NoError(t, Validate(schema.FormatProtobuf, []byte(`syntax = "proto3"; message M { string a = 1; }`)))
	require.ErrorContains(t, Validate(schema.FormatProtobuf, []byte(`syntax = "proto3"; message M { strnig a = 1; }`)), "strnig")
	err := Validate(schema.FormatJSON, []byte(`{"type":"strnig"}`))
	require.ErrorContains(t, err, `unknown type "strnig"`)
	require.ErrorIs(t, Validate("XML", nil), ErrUnknownFormat)
}

func TestFormats(t *testing.T) {
	t.Parallel()
	avro := []byte(`"string"`)
	for _, f := range []schema.Format{"AVRO", "avro", ""} {
		res, err := Check(f, Full, avro, [][]byte{avro})
		require.NoError(t, err, "format %q", f)
		require.True(t, res.Compatible)
	}
	res, err := Check("json", Backward, []byte(`{"type":"integer"}`), [][]byte{[]byte(`{"type":"number"}`)})
	require.NoError(t, err)
	require.False(t, res.Compatible)
	require.Equal(t, "TYPE_NARROWED", res.Breaking()[0].Kind)
}

// Protobuf compatibility through Check: a field number reused with another
// encoding breaks BACKWARD; adding a field does not.
func TestCheckProtobuf(t *testing.T) {
	t.Parallel()
	v1 := []byte(`syntax = "proto3"; package p; message M { string a = 1; int32 n = 2; }`)
	added := []byte(`syntax = "proto3"; package p; message M { string a = 1; int32 n = 2; bool b = 3; }`)
	retyped := []byte(`syntax = "proto3"; package p; message M { string a = 1; double n = 2; }`)
	res, err := Check(schema.FormatProtobuf, Full, added, [][]byte{v1})
	require.NoError(t, err)
	require.True(t, res.Compatible, "%+v", res.Changes)
	res, err = Check(schema.FormatProtobuf, Backward, retyped, [][]byte{v1})
	require.NoError(t, err)
	require.False(t, res.Compatible)
	require.Equal(t, []Change{{
		Kind: "FIELD_KIND_CHANGED", Path: "/p.M/n", Breaking: true, Direction: DirBackward, Version: 0,
		Message: "field number 2 (int32) in the old schema is read as double by the new schema, another wire encoding",
		Summary: "field kind changed at /p.M/n: field number 2 (int32) in the old version is read as double by the new version, another wire encoding",
		Field:   "/p.M/n", SchemaPath: "/p.M/n",
	}}, res.Breaking())
}
