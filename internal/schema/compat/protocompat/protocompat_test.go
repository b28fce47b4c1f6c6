package protocompat_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dataquarantine/dataquarantine/internal/schema/compat/protocompat"
	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

func file(t *testing.T, src string) protoreflect.FileDescriptor {
	t.Helper()
	v, err := protobuf.Parse([]byte(src), protobuf.Options{})
	require.NoError(t, err)
	return v.File()
}

const base = `
syntax = "proto2";
package shop;
message Order {
  required string id = 1;
  optional int32 qty = 2;
  optional Address address = 3;
  repeated string tags = 4;
  optional Status status = 5;
  message Line { optional string sku = 1; }
}
message Address { optional string zip = 1; }
message Other { optional string x = 1; }
enum Status { NEW = 0; }
enum Kind { A = 0; }
`

func TestCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		reader string
		want   []protocompat.Finding // the breaking ones and the named compatible ones
	}{
		{"same", base, nil},
		{
			"field added", replace(base, "repeated string tags = 4;", "repeated string tags = 4; optional bool gift = 6;"),
			[]protocompat.Finding{{Kind: "FIELD_ADDED", Path: "/shop.Order/gift", New: "gift = 6", Compatible: true}},
		},
		{
			"field removed", replace(base, "optional int32 qty = 2;", ""),
			[]protocompat.Finding{{Kind: "FIELD_REMOVED", Path: "/shop.Order/qty", Old: "qty = 2", Compatible: true}},
		},
		{
			"field renamed", replace(base, "optional int32 qty = 2;", "optional int32 quantity = 2;"),
			[]protocompat.Finding{{Kind: "FIELD_NAME_CHANGED", Path: "/shop.Order/qty", Old: "qty = 2", New: "quantity", Compatible: true}},
		},
		{"int32 to int64 is one varint", replace(base, "optional int32 qty = 2;", "optional int64 qty = 2;"), nil},
		{
			"int32 to string", replace(base, "optional int32 qty = 2;", "optional string qty = 2;"),
			[]protocompat.Finding{{Kind: "FIELD_KIND_CHANGED", Path: "/shop.Order/qty", Old: "2 (int32)", New: "string"}},
		},
		{
			"message type changed", replace(base, "optional Address address = 3;", "optional Other address = 3;"),
			[]protocompat.Finding{{Kind: "FIELD_NAMED_TYPE_CHANGED", Path: "/shop.Order/address", Old: "shop.Address", New: "shop.Other"}},
		},
		{
			"enum type changed", replace(base, "optional Status status = 5;", "optional Kind status = 5;"),
			[]protocompat.Finding{{Kind: "FIELD_NAMED_TYPE_CHANGED", Path: "/shop.Order/status", Old: "shop.Status", New: "shop.Kind"}},
		},
		{
			"repeated string to singular", replace(base, "repeated string tags = 4;", "optional string tags = 4;"),
			[]protocompat.Finding{{Kind: "FIELD_CARDINALITY_CHANGED", Path: "/shop.Order/tags", Old: "tags = 4 (repeated)", New: "tags = 4 (singular)"}},
		},
		{
			"required field added", replace(base, "repeated string tags = 4;", "repeated string tags = 4; required string currency = 7;"),
			[]protocompat.Finding{{Kind: "REQUIRED_FIELD_ADDED", Path: "/shop.Order/currency", New: "currency = 7"}},
		},
		{
			"nested message removed", replace(base, "message Line { optional string sku = 1; }", ""),
			[]protocompat.Finding{{Kind: "MESSAGE_REMOVED", Path: "/shop.Order.Line", Old: "shop.Order.Line"}},
		},
		{
			"package changed", replace(base, "package shop;", "package store;"),
			[]protocompat.Finding{{Kind: "PACKAGE_CHANGED", Path: "/", Old: "shop", New: "store"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := protocompat.Check(file(t, base), file(t, c.reader))
			require.Equal(t, c.want, got)
		})
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	f := protocompat.Finding{Kind: "REQUIRED_FIELD_ADDED", New: "currency = 7"}
	require.Equal(t, "the new schema requires field currency = 7, which the old schema does not write", f.Explain("the old schema", "the new schema"))
}

func replace(s, old, repl string) string {
	if !strings.Contains(s, old) {
		panic(old)
	}
	return strings.Replace(s, old, repl, 1)
}
