package jsonschema

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

func TestCompileDrafts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		schema  string
		payload string
		want    []tfk
	}{
		{
			name:    "no $schema means 2020-12: prefixItems and items",
			schema:  `{"prefixItems": [{"type": "string"}], "items": false}`,
			payload: `["a", 1]`,
			want:    []tfk{{record.SchemaViolation, "/1", "items"}},
		},
		{
			name:    "2019-09: tuple items and additionalItems",
			schema:  `{"$schema": "https://json-schema.org/draft/2019-09/schema", "items": [{"type": "string"}], "additionalItems": false}`,
			payload: `["a", 1]`,
			want:    []tfk{{record.SchemaViolation, "", "additionalItems"}},
		},
		{
			name:    "draft-06: prefixItems is not a keyword",
			schema:  `{"$schema": "http://json-schema.org/draft-06/schema#", "prefixItems": [{"type": "string"}]}`,
			payload: `[1]`,
		},
		{
			name:    "format asserted in 2020-12",
			schema:  `{"$schema": "https://json-schema.org/draft/2020-12/schema", "format": "date"}`,
			payload: `"2026-13-01"`,
			want:    []tfk{{record.FormatViolation, "", "format"}},
		},
		{
			name:    "format asserted in 2019-09",
			schema:  `{"$schema": "https://json-schema.org/draft/2019-09/schema", "format": "ipv6"}`,
			payload: `"::g"`,
			want:    []tfk{{record.FormatViolation, "", "format"}},
		},
		{
			name:    "format asserted in draft-07",
			schema:  `{"$schema": "http://json-schema.org/draft-07/schema#", "format": "time"}`,
			payload: `"25:00:00Z"`,
			want:    []tfk{{record.FormatViolation, "", "format"}},
		},
		{
			name:    "format asserted in draft-04",
			schema:  `{"$schema": "http://json-schema.org/draft-04/schema#", "format": "hostname"}`,
			payload: `"-bad-.example"`,
			want:    []tfk{{record.FormatViolation, "", "format"}},
		},
		{
			name:    "unknown formats are ignored",
			schema:  `{"format": "x-custom"}`,
			payload: `"anything"`,
		},
		{
			name: "absolute $id refers to itself without the network",
			schema: `{"$id": "https://example.com/schemas/event.json", "$defs": {"id": {"type": "string"}},
				"properties": {"x": {"$ref": "https://example.com/schemas/event.json#/$defs/id"}, "y": {"$ref": "#/$defs/id"}}}`,
			payload: `{"x": 1, "y": 2}`,
			want:    []tfk{{record.TypeMismatch, "/x", "type"}, {record.TypeMismatch, "/y", "type"}},
		},
		{
			name:    "the drafts' meta-schemas are built in",
			schema:  `{"$ref": "https://json-schema.org/draft/2020-12/schema"}`,
			payload: `{"type": 5}`,
			want:    []tfk{{record.EnumViolation, "/type", "enum"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mustCompile(t, tc.schema)
			_, vs := s.Check([]byte(tc.payload), Limits{}, nil)
			require.Equal(t, tc.want, nonNil(project(vs)), "%+v", vs)
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		schema string
		is     error
		msg    string // the exact error text
	}{
		{
			name:   "remote http $ref",
			schema: `{"properties": {"a": {"$ref": "http://example.com/a.json"}}}`,
			is:     ErrRemoteRef,
			msg:    `compiling schema "s": reference to an external document refused: http://example.com/a.json`,
		},
		{
			name:   "remote https $ref",
			schema: `{"$ref": "https://example.com/a.json#/$defs/x"}`,
			is:     ErrRemoteRef,
			msg:    `compiling schema "s": reference to an external document refused: https://example.com/a.json`,
		},
		{
			name:   "file $ref",
			schema: `{"$ref": "file:///etc/passwd"}`,
			is:     ErrRemoteRef,
			msg:    `compiling schema "s": reference to an external document refused: file:///etc/passwd`,
		},
		{
			name:   "relative $ref against an http $id",
			schema: `{"$id": "http://example.com/root.json", "$ref": "other.json"}`,
			is:     ErrRemoteRef,
			msg:    `compiling schema "s": reference to an external document refused: http://example.com/other.json`,
		},
		{
			name:   "custom meta-schema",
			schema: `{"$schema": "http://example.com/meta.json"}`,
			is:     ErrRemoteRef,
			msg:    `compiling schema "s": reference to an external document refused: http://example.com/meta.json`,
		},
		{
			name:   "not JSON",
			schema: `{"type": "object",}`,
			is:     ErrInvalidSchema,
			msg:    `compiling schema "s": invalid JSON schema: not valid JSON: unexpected character '}' in object, expected a key after ',' at byte offset 18`,
		},
		{
			name:   "duplicate keyword",
			schema: `{"type": "object", "type": "string"}`,
			is:     ErrInvalidSchema,
			msg:    `compiling schema "s": invalid JSON schema: not valid JSON: duplicate key "type" in the top-level object at byte offset 19`,
		},
		{
			name:   "keyword with a wrong value",
			schema: `{"properties": {"user_id": {"type": "strin"}}}`,
			is:     ErrInvalidSchema,
			msg: `compiling schema "s": invalid JSON schema: at /properties/user_id/type: value "strin" is not one of ` +
				`"array", "boolean", "integer", "null", "number", "object", "string"`,
		},
		{
			name:   "several wrong keywords",
			schema: `{"minLength": -1, "required": "id"}`,
			is:     ErrInvalidSchema,
			msg:    `compiling schema "s": invalid JSON schema: at /minLength: value -1 is less than the minimum 0; at /required: got string, want array`,
		},
		{
			name:   "pattern that does not compile",
			schema: `{"pattern": "(?<name"}`,
			is:     ErrInvalidSchema,
			msg: `compiling schema "s": invalid JSON schema: at /pattern: value "(?<name" is not a valid regex: ` +
				"error parsing regexp: invalid named capture: `(?<name`",
		},
		{
			name:   "unresolvable local $ref",
			schema: `{"$ref": "#/$defs/missing"}`,
			is:     ErrInvalidSchema,
			msg:    `compiling schema "s": invalid JSON schema: json-pointer in "urn:dataquarantine:schema:s#/$defs/missing" not found`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Compile("s", []byte(tc.schema))
			require.Nil(t, s)
			require.ErrorIs(t, err, tc.is)
			require.EqualError(t, err, tc.msg)
		})
	}
}

func TestCompileNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "user_event", "orders-value", "a b/c#d?e%f", "ünïcødé"} {
		s, err := Compile(name, []byte(userEventSchema))
		require.NoError(t, err, name)
		require.Equal(t, name, s.Name())
		_, vs := s.Check([]byte(validUserEvent), Limits{}, nil)
		require.Empty(t, vs)
	}
}

// Every format AssertedFormats claims rejects a value that breaks it, in
// the default draft; the suite (conformance_test.go) covers them in depth.
func TestAssertedFormats(t *testing.T) {
	t.Parallel()
	invalid := map[string]string{
		"date": "2026-02-30", "date-time": "2026-11-02 10:15:30", "duration": "P1D2H", "email": "@example.com",
		"hostname": "example.com.", "ipv4": "+1.2.3.4", "ipv6": "::g", "iri": "/relative", "iri-reference": `a\b`,
		"json-pointer": "no-slash", "period": "2026-11-02T10:15:30Z", "regex": "(", "relative-json-pointer": "/x",
		"semver": "1.02.3", "time": "10:15", "uri": "http://exa mple.com", "uri-reference": "1:b",
		"uri-template": "{a,}", "uuid": "3f2b8c1e-9a4d-4e6f-b2c7",
	}
	require.Len(t, AssertedFormats(), len(invalid))
	for _, f := range AssertedFormats() {
		bad, ok := invalid[f]
		require.True(t, ok, "no invalid example for %s", f)
		s := mustCompile(t, `{"format": "`+f+`"}`)
		_, vs := s.Check([]byte(`"`+strings.ReplaceAll(bad, `\`, `\\`)+`"`), Limits{}, nil)
		require.Equal(t, []tfk{{record.FormatViolation, "", "format"}}, project(vs), "%s %q", f, bad)
	}
}
