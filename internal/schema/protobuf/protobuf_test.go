package protobuf_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

func TestCompile(t *testing.T) {
	t.Parallel()
	v, err := protobuf.Compile("orders", 2, []byte(orderProto), protobuf.Options{})
	require.NoError(t, err)
	require.Equal(t, "orders", v.Subject)
	require.Equal(t, 2, v.Version)
	require.Equal(t, schema.FormatProtobuf, v.Format)
	require.Equal(t, "shop.v1.Order", string(v.Validator.(*protobuf.Validator).Default().FullName()))

	cases := []struct {
		name    string
		src     string
		opts    protobuf.Options
		wantErr string
	}{
		{"syntax error", `syntax = "proto3"; message M { string a = 1 }`, protobuf.Options{}, "1:45: syntax error"},
		{"unknown type", `syntax = "proto3"; message M { strnig a = 1; }`, protobuf.Options{}, "strnig"},
		{"no message", `syntax = "proto3"; enum E { E_0 = 0; }`, protobuf.Options{}, "declares no message"},
		{"unknown import", `syntax = "proto3"; import "other.proto"; message M {}`, protobuf.Options{}, "other.proto"},
		{"unknown message option", orderProto, protobuf.Options{Message: "shop.v1.Nope"}, "no message shop.v1.Nope"},
		{"bad pattern", `syntax = "proto3"; import "buf/validate/validate.proto";
			message M { string a = 1 [(buf.validate.field).string.pattern = "("]; }`, protobuf.Options{}, "buf.validate constraints of M"},
		{"bad CEL", `syntax = "proto3"; import "buf/validate/validate.proto";
			message M { option (buf.validate.message).cel = {id: "x", expression: "this.nope > 1"}; string a = 1; }`, protobuf.Options{}, "buf.validate constraints of M"},
		{"duplicate field number", `syntax = "proto3"; message M { string a = 1; int32 b = 1; }`, protobuf.Options{}, "1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := protobuf.Compile("s", 1, []byte(c.src), c.opts)
			require.ErrorContains(t, err, "compiling Protobuf schema for subject s version 1: ")
			require.ErrorContains(t, err, c.wantErr)
		})
	}
}

func TestCompileMessageOption(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"shop.v1.Address", ".shop.v1.Address"} {
		v := parse(t, orderProto, protobuf.Options{Message: name})
		require.Equal(t, "shop.v1.Address", string(v.Default().FullName()))
	}
	v := parse(t, orderProto, protobuf.Options{Message: "shop.v1.Order.Item"})
	require.Equal(t, "shop.v1.Order.Item", string(v.Default().FullName()))
}

// A valid Order decodes into the map the rules layer reads.
func TestCheckValid(t *testing.T) {
	t.Parallel()
	v := parse(t, orderProto, protobuf.Options{})
	decoded, got := v.Check(encode(t, v.Default(), sampleOrder), nil)
	require.Empty(t, got)
	require.Equal(t, map[string]any{
		"order_id":       "ORD-000042",
		"customer_email": "ada@example.com",
		"quantity":       int64(3),
		"address":        map[string]any{"city": "Berlin", "zip": "10115"},
		"status":         "STATUS_NEW",
		"items": []any{
			map[string]any{"sku": "ABC-1", "count": uint64(2)},
			map[string]any{"sku": "XYZ-9", "count": uint64(1)},
		},
		"created_at": time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
		"labels":     map[string]any{"channel": "web"},
		"amount":     42.5,
		"currency":   "EUR",
		"big":        int64(9007199254740993),
		"blob":       []byte{1, 2},
	}, decoded)
}

// Unset fields without presence are there with their zero value; unset
// fields with presence are absent.
func TestCheckZeroValues(t *testing.T) {
	t.Parallel()
	v := parse(t, `syntax = "proto3"; message M { string a = 1; optional int32 b = 2; M c = 3; repeated int32 d = 4; map<int32, bool> e = 5; }`, protobuf.Options{})
	decoded, got := v.Check(nil, nil)
	require.Empty(t, got)
	require.Equal(t, map[string]any{"a": "", "d": []any{}, "e": map[string]any{}}, decoded)
}

// Each protovalidate rule is reported at its field with our error type and
// the rule id as keyword; several are all reported.
func TestCheckConstraints(t *testing.T) {
	t.Parallel()
	v := parse(t, orderProto, protobuf.Options{})
	cases := []struct {
		name string
		edit func(m map[string]any)
		want []record.Violation
	}{
		{
			"pattern", func(m map[string]any) { m["order_id"] = "ORD-42" },
			[]record.Violation{{Type: record.PatternMismatch, Field: "/order_id", Keyword: "string.pattern"}},
		},
		{
			"nested pattern", func(m map[string]any) { m["address"].(map[string]any)["zip"] = "ABCDE" },
			[]record.Violation{{Type: record.PatternMismatch, Field: "/address/zip", Keyword: "string.pattern"}},
		},
		{
			"required", func(m map[string]any) { delete(m, "address") },
			[]record.Violation{{Type: record.MissingField, Field: "/address", Keyword: "required"}},
		},
		{
			"range", func(m map[string]any) { m["quantity"] = 0 },
			[]record.Violation{{Type: record.RangeViolation, Field: "/quantity", Keyword: "int32.gte_lte"}},
		},
		{
			"enum not_in", func(m map[string]any) { m["status"] = "STATUS_UNSPECIFIED" },
			[]record.Violation{{Type: record.EnumViolation, Field: "/status", Keyword: "enum.not_in"}},
		},
		{
			"enum defined_only", func(m map[string]any) { m["status"] = 7 },
			[]record.Violation{{Type: record.EnumViolation, Field: "/status", Keyword: "enum.defined_only"}},
		},
		{
			"string in", func(m map[string]any) { m["currency"] = "GBP" },
			[]record.Violation{{Type: record.EnumViolation, Field: "/currency", Keyword: "string.in"}},
		},
		{
			"format", func(m map[string]any) { m["customer_email"] = "not-an-email" },
			[]record.Violation{{Type: record.FormatViolation, Field: "/customer_email", Keyword: "string.email"}},
		},
		{
			"length in a list", func(m map[string]any) { m["items"].([]any)[1].(map[string]any)["sku"] = "X" },
			[]record.Violation{{Type: record.LengthViolation, Field: "/items/1/sku", Keyword: "string.min_len"}},
		},
		{
			"min items", func(m map[string]any) { m["items"] = []any{} },
			[]record.Violation{{Type: record.LengthViolation, Field: "/items", Keyword: "repeated.min_items"}},
		},
		{
			"message CEL", func(m map[string]any) { m["coupon"] = "SAVE"; m["amount"] = 5 },
			[]record.Violation{{Type: record.RuleViolation, Field: "", Keyword: "coupon_needs_amount"}},
		},
		{
			"several", func(m map[string]any) { m["order_id"] = "x"; m["quantity"] = 101; m["coupon"] = "TOO-LONG-CODE" },
			[]record.Violation{
				{Type: record.PatternMismatch, Field: "/order_id", Keyword: "string.pattern"},
				{Type: record.RangeViolation, Field: "/quantity", Keyword: "int32.gte_lte"},
				{Type: record.LengthViolation, Field: "/coupon", Keyword: "string.max_len"},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			decoded, got := v.Check(orderWith(t, v, c.edit), nil)
			require.Nil(t, decoded)
			for i := range got {
				require.NotEmpty(t, got[i].Message, "violation %d", i)
				got[i].Message = ""
			}
			require.Equal(t, c.want, got)
		})
	}
}

// A payload that does not decode is one DECODE_ERROR at the field where
// the bytes stopped making sense.
func TestCheckDecodeErrors(t *testing.T) {
	t.Parallel()
	v := parse(t, orderProto, protobuf.Options{MaxDepth: 4})
	good := encode(t, v.Default(), sampleOrder)
	cases := []struct {
		name      string
		payload   []byte
		wantField string
		wantMsg   string
	}{
		{"truncated", good[:len(good)-3], "/blob", "field blob (13): length-delimited value: unexpected EOF"},
		{"bad tag", []byte{0x00}, "", "invalid field tag"},
		{"truncated nested", append([]byte{0x22, 0x08}, 0x0a, 0x06, 'B', 'e'), "/address", "field address (4): length-delimited value: unexpected EOF"},
		{"broken inside nested", []byte{0x22, 0x03, 0x12, 0x05, 'x'}, "/address/zip", "field zip (2): length-delimited value: unexpected EOF"},
		{"broken in a list", []byte{0x32, 0x00, 0x32, 0x02, 0x0a, 0x07}, "/items/1/sku", "field sku (1)"},
		{"invalid UTF-8", []byte{0x0a, 0x02, 0xff, 0xfe}, "/order_id", "not valid UTF-8"},
		{"truncated varint", []byte{0x18, 0x80}, "/quantity", "varint value: unexpected EOF"},
		{"unknown field cut short", []byte{0xfa, 0x01, 0x05}, "", "unknown field 31"},
		{"end group without start", []byte{0x0c}, "/order_id", "end-group"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			decoded, got := v.Check(c.payload, nil)
			require.Nil(t, decoded)
			require.Len(t, got, 1)
			require.Equal(t, record.DecodeError, got[0].Type)
			require.Equal(t, "protobuf", got[0].Keyword)
			require.Equal(t, c.wantField, got[0].Field, got[0].Message)
			require.Contains(t, got[0].Message, c.wantMsg)
		})
	}
}

// Nesting beyond Options.MaxDepth is a DECODE_ERROR at the field where
// the limit is crossed.
func TestCheckDepthLimit(t *testing.T) {
	t.Parallel()
	v := parse(t, `syntax = "proto3"; message N { N child = 1; int32 n = 2; }`, protobuf.Options{MaxDepth: 4})
	nest := func(levels int) []byte {
		b := []byte{0x10, 0x01}
		for range levels {
			b = append([]byte{0x0a, byte(len(b))}, b...)
		}
		return b
	}
	_, got := v.Check(nest(3), nil)
	require.Empty(t, got)
	decoded, got := v.Check(nest(6), nil)
	require.Nil(t, decoded)
	require.Len(t, got, 1)
	require.Equal(t, record.DecodeError, got[0].Type)
	require.Equal(t, "/child/child/child/child", got[0].Field)
	require.Contains(t, got[0].Message, "nested deeper than 4")
}

// Proto2 required fields that are absent are MISSING_FIELD, nested ones
// included.
func TestCheckProto2Required(t *testing.T) {
	t.Parallel()
	v := parse(t, legacyProto, protobuf.Options{})
	decoded, got := v.Check(encode(t, v.Default(), `{"n": 1, "parts": [{"name": "a"}, {}]}`), nil)
	require.Nil(t, decoded)
	require.Equal(t, []record.Violation{
		{Type: record.MissingField, Field: "/id", Keyword: "required", Message: "required field id is missing"},
		{Type: record.MissingField, Field: "/parts/1/name", Keyword: "required", Message: "required field name is missing"},
	}, got)
	decoded, got = v.Check(encode(t, v.Default(), `{"id": "e1"}`), nil)
	require.Empty(t, got)
	require.Equal(t, map[string]any{"id": "e1", "parts": []any{}}, decoded)
}

// Message indexes select the message type, as in Confluent's wire format.
func TestCheckMessage(t *testing.T) {
	t.Parallel()
	v := parse(t, orderProto, protobuf.Options{})
	addr := encode(t, v.File().Messages().Get(1), `{"city": "Paris", "zip": "75001"}`)
	decoded, got := v.CheckMessage([]int{1}, addr, nil)
	require.Empty(t, got)
	require.Equal(t, map[string]any{"city": "Paris", "zip": "75001"}, decoded)

	// Order's nested messages are its map entry (labels), then Item.
	item := encode(t, v.File().Messages().Get(0).Messages().Get(1), `{"sku": "X"}`)
	decoded, got = v.CheckMessage([]int{0, 1}, item, nil)
	require.Nil(t, decoded)
	require.Equal(t, "/sku", got[0].Field)
	require.Equal(t, record.LengthViolation, got[0].Type)

	for _, idx := range [][]int{{2}, {1, 0}, {0, 2}} {
		decoded, got = v.CheckMessage(idx, addr, nil)
		require.Nil(t, decoded)
		require.Len(t, got, 1)
		require.Equal(t, record.SchemaNotFound, got[0].Type, idx)
		require.Equal(t, "message_index", got[0].Keyword)
	}
}

// Field-level CEL constraints are RULE_VIOLATION at the field, a required
// oneof MISSING_FIELD at the oneof's name, repeated.unique
// SCHEMA_VIOLATION, map values are located by key (escaped).
func TestCheckMoreConstraints(t *testing.T) {
	t.Parallel()
	v := parse(t, `syntax = "proto3";
import "buf/validate/validate.proto";
message M {
  int32 even = 1 [(buf.validate.field).cel = {id: "even", message: "must be even", expression: "this % 2 == 0"}];
  oneof contact {
    option (buf.validate.oneof).required = true;
    string email = 2;
    string phone = 3;
  }
  repeated string tags = 4 [(buf.validate.field).repeated.unique = true];
  map<string, int32> stock = 5 [(buf.validate.field).map.values.int32.gte = 0];
}`, protobuf.Options{})
	decoded, got := v.Check(encode(t, v.Default(), `{"even": 3, "tags": ["a", "a"], "stock": {"x/y": -1}}`), nil)
	require.Nil(t, decoded)
	for i := range got {
		got[i].Message = ""
	}
	require.Equal(t, []record.Violation{
		{Type: record.MissingField, Field: "/contact", Keyword: "required"},
		{Type: record.RuleViolation, Field: "/even", Keyword: "even"},
		{Type: record.SchemaViolation, Field: "/tags", Keyword: "repeated.unique"},
		{Type: record.RangeViolation, Field: "/stock/x~1y", Keyword: "int32.gte"},
	}, got)
}
