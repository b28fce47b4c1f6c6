package jsonschema

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	const (
		limits = `{"properties": {
			"amount": {"type": "number", "minimum": 0, "maximum": 1000},
			"qty": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
			"step": {"multipleOf": 5},
			"name": {"type": "string", "minLength": 3, "maxLength": 5},
			"tags": {"type": "array", "minItems": 1, "maxItems": 2},
			"attrs": {"type": "object", "minProperties": 1, "maxProperties": 2},
			"version": {"const": 2},
			"kind": {"enum": ["a", 1, null]}
		}}`
		closed = `{"type": "object",
			"properties": {"a": {"type": "object", "properties": {"x": {}}, "additionalProperties": false}},
			"additionalProperties": false}`
		nestedArray = `{"properties": {"items": {"type": "array", "items": {
			"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}}}`
		escaping = `{"properties": {"a/b": {"type": "string"}, "m~n": {"type": "string"}},
			"required": ["x/y", "p~q"],
			"patternProperties": {"^[a-z~/]+$": true},
			"additionalProperties": false}`
		nullable  = `{"properties": {"x": {"anyOf": [{"type": "string", "pattern": "^a"}, {"type": "null"}]}}}`
		ambiguous = `{"properties": {"x": {"anyOf": [
			{"type": "string", "minLength": 5}, {"type": "string", "pattern": "^x"}]}}}`
		oneOf = `{"properties": {"x": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 2},
			{"type": "number", "maximum": -2}, {"type": "string"}]}}}`
		cond = `{"if": {"properties": {"event_type": {"const": "purchase"}}},
			"then": {"required": ["amount"]},
			"else": {"properties": {"amount": {"const": 0}}}}`
		misc = `{"properties": {
			"legacy": false,
			"tags": {"uniqueItems": true, "contains": {"type": "integer"}},
			"counts": {"contains": {"type": "integer"}, "minContains": 2, "maxContains": 3},
			"name": {"not": {"const": "root"}},
			"email": {"format": "email"},
			"id": {"format": "uuid"},
			"ip": {"format": "ipv4"},
			"ref": {"$ref": "#/$defs/positive"}
		}, "$defs": {"positive": {"type": "integer", "minimum": 1}}}`
		deps = `{"properties": {"card": {}},
			"dependentRequired": {"card": ["billing_address", "cvv"]},
			"dependentSchemas": {"coupon": {"required": ["code"], "properties": {"code": {"pattern": "^[A-Z]+$"}}}}}`
		draft7Deps = `{"$schema": "http://json-schema.org/draft-07/schema#",
			"dependencies": {"card": ["billing_address"], "coupon": {"required": ["code"]}},
			"items": [{"type": "string"}], "additionalItems": false}`
		draft4 = `{"$schema": "http://json-schema.org/draft-04/schema#",
			"properties": {"x": {"minimum": 5, "exclusiveMinimum": true}}}`
		uneval = `{"allOf": [{"properties": {"a": {}}}], "properties": {"b": {}},
			"unevaluatedProperties": false}`
		propertyNames = `{"properties": {
			"a": {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}},
			"b": {"type": "string"},
			"c": {"type": "object"},
			"items": {"items": {"propertyNames": {"maxLength": 3}}}
		}, "propertyNames": {"not": {"const": "root"}}}`
	)
	tests := []struct {
		name    string
		schema  string // userEventSchema when empty
		payload string
		want    []tfk
		msgs    []string // substrings of the messages, index by index; "" skips
	}{
		{name: "valid", payload: validUserEvent},
		{
			name:    "missing user_id",
			payload: `{"event_type":"click","timestamp":"2026-11-02T10:15:30Z"}`,
			want:    []tfk{{record.MissingField, "/user_id", "required"}},
			msgs:    []string{`missing required property "user_id"`},
		},
		{
			name:    "user_id is a number",
			payload: `{"user_id":123,"event_type":"click","timestamp":"2026-11-02T10:15:30Z"}`,
			want:    []tfk{{record.TypeMismatch, "/user_id", "type"}},
			msgs:    []string{"got number, want string"},
		},
		{
			name:    "event_type not in enum",
			payload: `{"user_id":"USER123456","event_type":"scroll","timestamp":"2026-11-02T10:15:30Z"}`,
			want:    []tfk{{record.EnumViolation, "/event_type", "enum"}},
			msgs:    []string{`value "scroll" is not one of "view", "click", "purchase"`},
		},
		{
			name:    "user_id misses pattern",
			payload: `{"user_id":"USER12","event_type":"view","timestamp":"2026-11-02T10:15:30Z"}`,
			want:    []tfk{{record.PatternMismatch, "/user_id", "pattern"}},
			msgs:    []string{`value "USER12" does not match pattern ^USER[0-9]{6}$`},
		},
		{
			name:    "timestamp not a date-time",
			payload: `{"user_id":"USER123456","event_type":"view","timestamp":"yesterday"}`,
			want:    []tfk{{record.FormatViolation, "/timestamp", "format"}},
			msgs:    []string{`value "yesterday" is not a valid date-time`},
		},
		{
			name:    "timestamp with impossible date",
			payload: `{"user_id":"USER123456","event_type":"view","timestamp":"2026-02-30T10:15:30Z"}`,
			want:    []tfk{{record.FormatViolation, "/timestamp", "format"}},
		},
		{
			name:    "payload not an object",
			payload: `["USER123456"]`,
			want:    []tfk{{record.TypeMismatch, "", "type"}},
			msgs:    []string{"got array, want object"},
		},
		{
			name:    "everything missing, one violation per property, sorted by field",
			payload: `{}`,
			want: []tfk{
				{record.MissingField, "/event_type", "required"},
				{record.MissingField, "/timestamp", "required"},
				{record.MissingField, "/user_id", "required"},
			},
		},
		{
			name:    "every violation in one record",
			payload: `{"user_id":"bad","event_type":"x","timestamp":5}`,
			want: []tfk{
				{record.EnumViolation, "/event_type", "enum"},
				{record.TypeMismatch, "/timestamp", "type"},
				{record.PatternMismatch, "/user_id", "pattern"},
			},
		},
		{
			name:    "parse error is the only violation",
			payload: `{"user_id":"USER123456",}`,
			want:    []tfk{{record.ParseError, "", ""}},
			msgs:    []string{"expected a key after ',' at byte offset 24"},
		},

		{name: "limits valid", schema: limits, payload: `{"amount": 0, "qty": 99, "step": 10, "name": "abc",
			"tags": ["x"], "attrs": {"a": 1}, "version": 2.0, "kind": null}`},
		{
			name: "const", schema: limits, payload: `{"version": 3}`,
			want: []tfk{{record.ConstViolation, "/version", "const"}},
			msgs: []string{"value 3 is not the constant 2"},
		},
		{
			name: "enum of mixed types", schema: limits, payload: `{"kind": "b"}`,
			want: []tfk{{record.EnumViolation, "/kind", "enum"}},
			msgs: []string{`value "b" is not one of "a", 1, null`},
		},
		{
			name: "minimum and maximum", schema: limits, payload: `{"amount": -0.5, "qty": 100, "step": 7}`,
			want: []tfk{
				{record.RangeViolation, "/amount", "minimum"},
				{record.RangeViolation, "/qty", "exclusiveMaximum"},
				{record.RangeViolation, "/step", "multipleOf"},
			},
			msgs: []string{"value -0.5 is less than the minimum 0", "value 100 is not less than the exclusive maximum 100", "value 7 is not a multiple of 5"},
		},
		{
			name: "maximum and exclusiveMinimum", schema: limits, payload: `{"amount": 1000.01, "qty": 0}`,
			want: []tfk{
				{record.RangeViolation, "/amount", "maximum"},
				{record.RangeViolation, "/qty", "exclusiveMinimum"},
			},
			msgs: []string{"value 1000.01 is greater than the maximum 1000", ""},
		},
		{
			name: "a huge number is only a range violation", schema: limits, payload: `{"amount": 1e400}`,
			want: []tfk{{record.RangeViolation, "/amount", "maximum"}},
		},
		{
			name: "lengths", schema: limits, payload: `{"name": "ab", "tags": ["a", "b", "c"], "attrs": {}}`,
			want: []tfk{
				{record.LengthViolation, "/attrs", "minProperties"},
				{record.LengthViolation, "/name", "minLength"},
				{record.LengthViolation, "/tags", "maxItems"},
			},
			msgs: []string{"object has 0 properties, fewer than minProperties 1", "string has 2 characters, fewer than minLength 3", "array has 3 items, more than maxItems 2"},
		},
		{
			name: "maxLength counts characters, not bytes", schema: limits, payload: `{"name": "ééééé"}`,
		},
		{
			name: "maxLength, minItems, maxProperties", schema: limits, payload: `{"name": "abcdef", "tags": [], "attrs": {"a": 1, "b": 2, "c": 3}}`,
			want: []tfk{
				{record.LengthViolation, "/attrs", "maxProperties"},
				{record.LengthViolation, "/name", "maxLength"},
				{record.LengthViolation, "/tags", "minItems"},
			},
		},
		{
			name: "integer type", schema: limits, payload: `{"qty": 1.5}`,
			want: []tfk{{record.TypeMismatch, "/qty", "type"}},
			msgs: []string{"got number, want integer"},
		},

		{
			name: "additionalProperties false, nested and top level", schema: closed, payload: `{"a": {"x": 1, "b": 2, "c": 3}, "z": 1}`,
			want: []tfk{
				{record.UnknownField, "/a/b", "additionalProperties"},
				{record.UnknownField, "/a/c", "additionalProperties"},
				{record.UnknownField, "/z", "additionalProperties"},
			},
			msgs: []string{`property "b" is not allowed`, "", ""},
		},
		{
			name: "unevaluatedProperties false", schema: uneval, payload: `{"a": 1, "b": 2, "c": 3}`,
			want: []tfk{{record.UnknownField, "/c", "unevaluatedProperties"}},
			msgs: []string{`property "c" is not allowed`},
		},
		{
			name: "nested array paths", schema: nestedArray, payload: `{"items": [{"id": "a"}, {"id": "b"}, {"id": 3}, {}]}`,
			want: []tfk{
				{record.TypeMismatch, "/items/2/id", "type"},
				{record.MissingField, "/items/3/id", "required"},
			},
		},
		{
			name: "keys needing ~0 and ~1", schema: escaping, payload: `{"a/b": 1, "m~n": 2, "P~Q/R": 3}`,
			want: []tfk{
				{record.UnknownField, "/P~0Q~1R", "additionalProperties"},
				{record.TypeMismatch, "/a~1b", "type"},
				{record.TypeMismatch, "/m~0n", "type"},
				{record.MissingField, "/p~0q", "required"},
				{record.MissingField, "/x~1y", "required"},
			},
		},

		{name: "nullable: null", schema: nullable, payload: `{"x": null}`},
		{
			name: "nullable: wrong type for every alternative", schema: nullable, payload: `{"x": 5}`,
			want: []tfk{{record.TypeMismatch, "/x", "anyOf"}},
			msgs: []string{"got number, want string or null"},
		},
		{
			name: "nullable: the one alternative meant for strings", schema: nullable, payload: `{"x": "b"}`,
			want: []tfk{{record.PatternMismatch, "/x", "pattern"}},
		},
		{
			name: "anyOf with several applicable alternatives", schema: ambiguous, payload: `{"x": "ab"}`,
			want: []tfk{{record.SchemaViolation, "/x", "anyOf"}},
			msgs: []string{"value matches none of the 2 alternatives"},
		},
		{
			name: "oneOf matching two", schema: oneOf, payload: `{"x": 3}`,
			want: []tfk{{record.SchemaViolation, "/x", "oneOf"}},
			msgs: []string{"value matches alternatives 0 and 1, but oneOf requires exactly one"},
		},
		{
			name: "oneOf matching none", schema: oneOf, payload: `{"x": 1.5}`,
			want: []tfk{{record.SchemaViolation, "/x", "oneOf"}},
			msgs: []string{"value matches none of the 4 alternatives"},
		},
		{
			name: "oneOf with no alternative for the type", schema: oneOf, payload: `{"x": true}`,
			want: []tfk{{record.TypeMismatch, "/x", "oneOf"}},
			msgs: []string{"got boolean, want integer or number or string"},
		},
		{name: "oneOf matching one", schema: oneOf, payload: `{"x": "s"}`},
		{
			name: "if-then: the then branch's leaves", schema: cond, payload: `{"event_type": "purchase"}`,
			want: []tfk{{record.MissingField, "/amount", "required"}},
		},
		{
			name: "if-else: the else branch's leaves", schema: cond, payload: `{"event_type": "click", "amount": 5}`,
			want: []tfk{{record.ConstViolation, "/amount", "const"}},
		},
		{name: "if-then satisfied", schema: cond, payload: `{"event_type": "purchase", "amount": 5}`},

		{
			name: "false schema", schema: misc, payload: `{"legacy": 1}`,
			want: []tfk{{record.SchemaViolation, "/legacy", "properties"}},
		},
		{
			name: "uniqueItems and contains", schema: misc, payload: `{"tags": ["a", "a"]}`,
			want: []tfk{
				{record.SchemaViolation, "/tags", "contains"},
				{record.SchemaViolation, "/tags", "uniqueItems"},
			},
		},
		{
			name: "minContains", schema: misc, payload: `{"counts": [1, "a"]}`,
			want: []tfk{{record.LengthViolation, "/counts", "minContains"}},
			msgs: []string{"1 item matches contains, fewer than minContains 2"},
		},
		{
			name: "maxContains", schema: misc, payload: `{"counts": [1, 2, 3, 4]}`,
			want: []tfk{{record.LengthViolation, "/counts", "maxContains"}},
		},
		{
			name: "not", schema: misc, payload: `{"name": "root"}`,
			want: []tfk{{record.SchemaViolation, "/name", "not"}},
		},
		{
			name: "formats", schema: misc, payload: `{"email": "nobody", "id": "not-a-uuid", "ip": "300.1.1.1"}`,
			want: []tfk{
				{record.FormatViolation, "/email", "format"},
				{record.FormatViolation, "/id", "format"},
				{record.FormatViolation, "/ip", "format"},
			},
		},
		{
			name: "$ref reports the referenced schema's leaves", schema: misc, payload: `{"ref": 0}`,
			want: []tfk{{record.RangeViolation, "/ref", "minimum"}},
		},
		{
			name: "dependentRequired and dependentSchemas", schema: deps, payload: `{"card": "4111", "cvv": "1", "coupon": "x"}`,
			want: []tfk{
				{record.MissingField, "/billing_address", "dependentRequired"},
				{record.MissingField, "/code", "required"},
			},
			msgs: []string{`missing property "billing_address", required when "card" is present`, ""},
		},
		{
			name: "draft-07 dependencies and additionalItems", schema: draft7Deps, payload: `["a", "b"]`,
			want: []tfk{{record.SchemaViolation, "", "additionalItems"}},
			msgs: []string{"1 item after the tuple is not allowed (additionalItems is false)"},
		},
		{
			name: "draft-07 dependencies, both forms", schema: draft7Deps, payload: `{"card": 1, "coupon": 1}`,
			want: []tfk{
				{record.MissingField, "/billing_address", "dependencies"},
				{record.MissingField, "/code", "required"},
			},
		},
		{
			name: "draft-04 boolean exclusiveMinimum", schema: draft4, payload: `{"x": 5}`,
			want: []tfk{{record.RangeViolation, "/x", "exclusiveMinimum"}},
		},
		{
			name: "propertyNames at the right object despite issue #258", schema: propertyNames,
			payload: `{"a": {"BAD": 1}, "b": "x", "c": {"d": 1}}`,
			want:    []tfk{{record.SchemaViolation, "/a/BAD", "propertyNames"}},
			msgs:    []string{`property name "BAD" is not allowed: value "BAD" does not match pattern ^[a-z]+$`},
		},
		{
			name: "propertyNames in array elements", schema: propertyNames,
			payload: `{"items": [{"long": 1}, {"ok": 1}, {"longer": 1, "x": 2}], "c": {}}`,
			want: []tfk{
				{record.SchemaViolation, "/items/0/long", "propertyNames"},
				{record.SchemaViolation, "/items/2/longer", "propertyNames"},
			},
		},
		{
			name: "propertyNames at the root", schema: propertyNames, payload: `{"root": 1}`,
			want: []tfk{{record.SchemaViolation, "/root", "propertyNames"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := tc.schema
			if src == "" {
				src = userEventSchema
			}
			s := mustCompile(t, src)
			prior := record.Violation{Type: record.RuleViolation, Field: "/keep", Message: "earlier layer"}
			v, got := s.Check([]byte(tc.payload), Limits{}, []record.Violation{prior})
			require.Equal(t, prior, got[0], "Check must append to dst")
			got = got[1:]
			require.Equal(t, tc.want, nonNil(project(got)), "violations: %+v", got)
			if len(tc.want) > 0 && tc.want[0].Type == record.ParseError {
				require.Nil(t, v)
			} else {
				require.NotNil(t, v)
			}
			for i, sub := range tc.msgs {
				require.Contains(t, got[i].Message, sub)
			}
			for _, vi := range got {
				require.NotEmpty(t, vi.Message)
				require.True(t, vi.Type.Known())
			}
		})
	}
}

func nonNil(s []tfk) []tfk {
	if len(s) == 0 {
		return nil
	}
	return s
}

// The library walks Go maps; a record with many problems must still get the
// same violations in the same order every time.
func TestValidateDeterministic(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, `{"type": "object", "additionalProperties": false,
		"properties": {
			"a": {"type": "string"}, "b": {"type": "string"}, "c": {"minimum": 3},
			"o": {"type": "object", "required": ["x", "y", "z"], "propertyNames": {"maxLength": 1}}
		},
		"required": ["p", "q", "r"]}`)
	v, bad, ok := Decode([]byte(`{"a": 1, "b": 2, "c": 1, "d": 1, "e": 1, "f": 1, "o": {"long": 1, "longer": 2}}`), Limits{})
	require.True(t, ok, bad.Message)
	first := s.Validate(v, nil)
	require.Len(t, first, 14)
	for range 50 {
		require.Equal(t, first, s.Validate(v, nil))
	}
}

func TestValidateConcurrent(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, eventSchema)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				_, vs := s.Check([]byte(benchEvent), Limits{}, nil)
				if len(vs) != 0 {
					t.Errorf("valid event: %v", vs)
					return
				}
				_, vs = s.Check([]byte(benchEventInvalid), Limits{}, nil)
				if len(vs) != 4 {
					t.Errorf("invalid event: %v", vs)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestBenchEventsAreWhatTheyClaim(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, eventSchema)
	require.InDelta(t, 295, len(benchEvent), 10)
	_, vs := s.Check([]byte(benchEvent), Limits{}, nil)
	require.Empty(t, vs)
	_, vs = s.Check([]byte(benchEventInvalid), Limits{}, nil)
	require.Equal(t, []tfk{
		{record.RangeViolation, "/amount", "minimum"},
		{record.EnumViolation, "/event_type", "enum"},
		{record.FormatViolation, "/timestamp", "format"},
		{record.PatternMismatch, "/user_id", "pattern"},
	}, project(vs))
}

func TestValidateForeignValues(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, userEventSchema)
	// Values not produced by Decode are reported, not panicked on.
	vs := s.Validate(map[string]any{"user_id": struct{}{}, "event_type": "view", "timestamp": "2026-11-02T10:15:30Z"}, nil)
	require.Equal(t, []tfk{{record.SchemaViolation, "/user_id", ""}}, project(vs))
	require.True(t, strings.Contains(vs[0].Message, "invalid jsonType"), vs[0].Message)
}
