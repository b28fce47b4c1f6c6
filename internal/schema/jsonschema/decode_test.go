package jsonschema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

func TestDecodeValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		payload string
		lim     Limits
		want    any
	}{
		{
			"object", `{"a": 1, "b": [true, false, null], "c": {"d": "e"}}`,
			Limits{},
			map[string]any{"a": json.Number("1"), "b": []any{true, false, nil}, "c": map[string]any{"d": "e"}},
		},
		{"empty containers", `{"o": {}, "a": []}`, Limits{}, map[string]any{"o": map[string]any{}, "a": []any{}}},
		{
			"numbers keep their text", `[0, -0, 1.50, -12e+3, 6.02E23, 1e-7]`,
			Limits{},
			[]any{json.Number("0"), json.Number("-0"), json.Number("1.50"), json.Number("-12e+3"), json.Number("6.02E23"), json.Number("1e-7")},
		},
		{
			"huge numbers are fine", `[123456789012345678901234567890123456789012345678901234567890, 1e400, -1E-400]`,
			Limits{},
			[]any{json.Number("123456789012345678901234567890123456789012345678901234567890"), json.Number("1e400"), json.Number("-1E-400")},
		},
		{"escapes", `"a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC\ud83d\ude00"`, Limits{}, "a\"b\\c/d\b\f\n\r\t\u00e9€😀"},
		{"escape after UTF-8", `"ü\n"`, Limits{}, "ü\n"},
		{"raw UTF-8", `"żółć 日本 😀"`, Limits{}, "żółć 日本 😀"},
		{"escaped keys", `{"\u0061": 1, "a\/b": 2}`, Limits{}, map[string]any{"a": json.Number("1"), "a/b": json.Number("2")}},
		{"scalars at the top", " \t\r\n true \n", Limits{}, true},
		{"null at the top", `null`, Limits{}, nil},
		{"string at the top", `"x"`, Limits{}, "x"},
		{"number at the top", `-7`, Limits{}, json.Number("-7")},
		{"depth at the limit", `{"a": [[1]]}`, Limits{MaxDepth: 3}, map[string]any{"a": []any{[]any{json.Number("1")}}}},
		{"duplicates allowed: last wins", `{"k": 1, "k": 2}`, Limits{AllowDuplicateKeys: true}, map[string]any{"k": json.Number("2")}},
		{
			"duplicates allowed when nested", `[{"k": 1, "j": 0, "k": {"k": 3, "k": 4}}]`,
			Limits{AllowDuplicateKeys: true},
			[]any{map[string]any{"j": json.Number("0"), "k": map[string]any{"k": json.Number("4")}}},
		},
		{"exponent at the limit", `1e1000`, Limits{}, json.Number("1e1000")},
		{"exponent with leading zeros", `1e0000000000000000000010`, Limits{}, json.Number("1e0000000000000000000010")},
		{"number length at the limit", strings.Repeat("9", 1000), Limits{}, json.Number(strings.Repeat("9", 1000))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, bad, ok := Decode([]byte(tc.payload), tc.lim)
			require.True(t, ok, "%+v", bad)
			require.Equal(t, record.Violation{}, bad)
			require.Equal(t, tc.want, v)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		payload string
		lim     Limits
		field   string
		msg     string // the exact message
	}{
		{"empty", "", Limits{}, "", "empty payload"},
		{"whitespace only", " \n\t ", Limits{}, "", "payload contains only whitespace"},
		{"missing value", `{"a":}`, Limits{}, "/a", "unexpected character '}', expected a value at byte offset 5 (in /a)"},
		{"missing colon", `{"a" 1}`, Limits{}, "", "unexpected character '1' after object key, expected ':' at byte offset 5"},
		{"unquoted key", `{a: 1}`, Limits{}, "", "unexpected character 'a' in object, expected a string key at byte offset 1"},
		{"trailing comma in object", `{"a": 1,}`, Limits{}, "", "unexpected character '}' in object, expected a key after ',' at byte offset 8"},
		{"trailing comma in array", `{"a": [1, 2, ]}`, Limits{}, "/a", "unexpected ']' after ',' in array, expected a value at byte offset 13 (in /a)"},
		{"missing comma", `[1 2]`, Limits{}, "", "unexpected character '2' after array element, expected ',' or ']' at byte offset 3"},
		{"unterminated array", `[1, 2`, Limits{}, "", "unexpected end of input in array, expected ',' or ']' at byte offset 5"},
		{"unterminated object", `{"a": {"b": 1}`, Limits{}, "", "unexpected end of input in object, expected ',' or '}' at byte offset 14"},
		{"unterminated string with an escape", `["\n`, Limits{}, "/0", "unterminated string at byte offset 1 (in /0)"},
		{"unterminated string", `{"a": "xyz`, Limits{}, "/a", "unterminated string at byte offset 6 (in /a)"},
		{"trailing garbage", `{"a": 1} x`, Limits{}, "", "unexpected character 'x' after the top-level value at byte offset 9"},
		{"two values", `{}{}`, Limits{}, "", "unexpected character '{' after the top-level value at byte offset 2"},
		{
			"invalid UTF-8 in a string", "{\"user\": {\"name\": \"ab\xffc\"}}",
			Limits{},
			"/user/name",
			"invalid UTF-8 byte 0xff in string at byte offset 21 (in /user/name)",
		},
		{"invalid UTF-8 after an escape", "[\"\\n\xc3\x28\"]", Limits{}, "/0", "invalid UTF-8 byte 0xc3 in string at byte offset 4 (in /0)"},
		{"UTF-8 encoded surrogate", "\"\xed\xa0\x80\"", Limits{}, "", "invalid UTF-8 byte 0xed in string at byte offset 1"},
		{"overlong UTF-8", "\"\xc0\xaf\"", Limits{}, "", "invalid UTF-8 byte 0xc0 in string at byte offset 1"},
		{"invalid UTF-8 in a key", "{\"k\xff\": 1}", Limits{}, "", "invalid UTF-8 byte 0xff in string at byte offset 3"},
		{"invalid UTF-8 outside strings", "[\xff]", Limits{}, "/0", "unexpected byte 0xff, expected a value at byte offset 1 (in /0)"},
		{"control character in a string", "[\"a\tb\"]", Limits{}, "/0", "invalid control character 0x09 in string at byte offset 3 (in /0)"},
		{"bad escape", `["a\x"]`, Limits{}, "/0", "invalid escape sequence character 'x' after '\\' in string at byte offset 3 (in /0)"},
		{"bad unicode escape", `["\u12G4"]`, Limits{}, "/0", `invalid escape "\\u12G4" in string: want \u and 4 hex digits at byte offset 2 (in /0)`},
		{"lone high surrogate", `["\ud800x"]`, Limits{}, "/0", `invalid escape \ud800 in string: lone UTF-16 surrogate at byte offset 2 (in /0)`},
		{"lone low surrogate", `["\udc00"]`, Limits{}, "/0", `invalid escape \udc00 in string: lone UTF-16 surrogate at byte offset 2 (in /0)`},
		{"high surrogate and a non-surrogate", `"\ud800\u0041"`, Limits{}, "", `invalid escape \ud800 in string: lone UTF-16 surrogate at byte offset 1`},
		{"duplicate key", `{"user_id": "a", "user_id": "b"}`, Limits{}, "", `duplicate key "user_id" in the top-level object at byte offset 17`},
		{"duplicate key nested", `{"a": [{"k": 1, "j": 2, "k": 3}]}`, Limits{}, "/a/0", `duplicate key "k" in the object at /a/0 at byte offset 24`},
		{"duplicate key after escaping", `{"k": 1, "\u006b": 2}`, Limits{}, "", `duplicate key "k" in the top-level object at byte offset 9`},
		{"too deep", `{"a": [[1]]}`, Limits{MaxDepth: 2}, "/a/0", "nesting deeper than 2 levels at byte offset 7"},
		{
			"too deep by default", strings.Repeat("[", 65) + strings.Repeat("]", 65),
			Limits{},
			strings.Repeat("/0", 64),
			"nesting deeper than 64 levels at byte offset 64",
		},
		{
			"MaxDepth is capped", strings.Repeat("[", 1001) + strings.Repeat("]", 1001),
			Limits{MaxDepth: 1 << 30},
			strings.Repeat("/0", 1000), "nesting deeper than 1000 levels at byte offset 1000",
		},
		{"bad literal", `[tru]`, Limits{}, "/0", "unexpected character ']' in literal true at byte offset 4 (in /0)"},
		{"truncated literal", `nul`, Limits{}, "", "unexpected end of input in literal null at byte offset 3"},
		{"leading zero", `[01]`, Limits{}, "/0", "invalid number: leading zero at byte offset 1 (in /0)"},
		{"lone minus", `-`, Limits{}, "", "unexpected end of input in number, expected a digit after '-' at byte offset 1"},
		{"no fraction digits", `1.e5`, Limits{}, "", "unexpected character 'e' in number, expected a digit after the decimal point at byte offset 2"},
		{"no exponent digits", `1e+`, Limits{}, "", "unexpected end of input in number, expected a digit in the exponent at byte offset 3"},
		{"plus sign", `+1`, Limits{}, "", "unexpected character '+', expected a value at byte offset 0"},
		{"NaN", `NaN`, Limits{}, "", "unexpected character 'N', expected a value at byte offset 0"},
		{"exponent beyond the limit", `{"n": 1e999999}`, Limits{}, "/n", "number 1e999999 has an exponent beyond the limit of 1000 at byte offset 6 (in /n)"},
		{"exponent beyond a lower limit", `1e-11`, Limits{MaxNumberExponent: 10}, "", "number 1e-11 has an exponent beyond the limit of 10 at byte offset 0"},
		{"huge exponent", `1e99999999999999999999`, Limits{}, "", "number 1e99999999999999999999 has an exponent beyond the limit of 1000 at byte offset 0"},
		{"number too long", strings.Repeat("9", 1001), Limits{}, "", "number of 1001 bytes exceeds the limit of 1000 at byte offset 0"},
		{"byte order mark", "\xef\xbb\xbf{}", Limits{}, "", "unexpected UTF-8 byte order mark at byte offset 0"},
		{"NUL byte", "{\"a\": 1}\x00", Limits{}, "", "unexpected byte 0x00 after the top-level value at byte offset 8"},
		{"single quotes", `{'a': 1}`, Limits{}, "", "unexpected character '\\'' in object, expected a string key at byte offset 1"},
		{"comment", `{"a": 1 /* x */}`, Limits{}, "", "unexpected character '/' after object member, expected ',' or '}' at byte offset 8"},
		{"non-ASCII character where a value belongs", `[é]`, Limits{}, "/0", "unexpected character 'é', expected a value at byte offset 1 (in /0)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, bad, ok := Decode([]byte(tc.payload), tc.lim)
			require.False(t, ok)
			require.Nil(t, v)
			require.Equal(t, record.Violation{Type: record.ParseError, Field: tc.field, Message: tc.msg}, bad)
		})
	}
}

// Decode must not keep references into the caller's buffer: Kafka clients
// reuse them.
func TestDecodeCopiesPayload(t *testing.T) {
	t.Parallel()
	buf := []byte(`{"key": "value", "n": 12}`)
	v, _, ok := Decode(buf, Limits{})
	require.True(t, ok)
	for i := range buf {
		buf[i] = 'X'
	}
	require.Equal(t, map[string]any{"key": "value", "n": json.Number("12")}, v)
}

// A failed decode leaves nothing behind in the pooled decoder that could leak
// into the next one.
func TestDecodeAfterFailure(t *testing.T) {
	t.Parallel()
	for range 100 {
		_, _, ok := Decode([]byte(`{"a": [1, {"b": [2, 3, {"c": x}]}]}`), Limits{})
		require.False(t, ok)
		v, bad, ok := Decode([]byte(`{"a": [1, {"b": [2]}]}`), Limits{})
		require.True(t, ok, bad.Message)
		require.Equal(t, map[string]any{"a": []any{json.Number("1"), map[string]any{"b": []any{json.Number("2")}}}}, v)
	}
}

// Decode agrees with encoding/json on every valid document it accepts.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		benchEvent, validUserEvent, `[]`, `{}`, `[[[]]]`, `"\u0000"`, `{"":""}`, `[1,2.5e-3,-0.0,true,null,"x"]`,
		`{"a":{"b":{"c":[{"d":"\ud834\udd1e"}]}}}`,
	} {
		got, bad, ok := Decode([]byte(p), Limits{})
		require.True(t, ok, bad.Message)
		d := json.NewDecoder(strings.NewReader(p))
		d.UseNumber()
		var want any
		require.NoError(t, d.Decode(&want))
		require.Equal(t, want, got, p)
	}
}
