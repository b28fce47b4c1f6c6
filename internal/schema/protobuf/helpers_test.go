package protobuf_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

// orderProto is a proto3 schema with protovalidate constraints, a nested
// message, a second top-level message, an enum, a map, a repeated
// message, an optional field and a well-known type.
const orderProto = `
syntax = "proto3";
package shop.v1;

import "buf/validate/validate.proto";
import "google/protobuf/timestamp.proto";

message Order {
  option (buf.validate.message).cel = {
    id: "coupon_needs_amount"
    message: "a coupon needs an amount of at least 10"
    expression: "!has(this.coupon) || this.amount >= 10.0"
  };

  string order_id = 1 [(buf.validate.field).string.pattern = "^ORD-[0-9]{6}$"];
  string customer_email = 2 [(buf.validate.field).string.email = true];
  int32 quantity = 3 [(buf.validate.field).int32 = {gte: 1, lte: 100}];
  Address address = 4 [(buf.validate.field).required = true];
  Status status = 5 [(buf.validate.field).enum = {defined_only: true, not_in: [0]}];
  repeated Item items = 6 [(buf.validate.field).repeated.min_items = 1];
  google.protobuf.Timestamp created_at = 7;
  map<string, string> labels = 8;
  optional string coupon = 9 [(buf.validate.field).string.max_len = 8];
  double amount = 10;
  string currency = 11 [(buf.validate.field).string = {in: ["EUR", "USD"]}];
  int64 big = 12;
  bytes blob = 13;

  message Item {
    string sku = 1 [(buf.validate.field).string.min_len = 3];
    uint32 count = 2;
  }
}

message Address {
  string city = 1;
  string zip = 2 [(buf.validate.field).string.pattern = "^[0-9]{5}$"];
}

enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_NEW = 1;
  STATUS_PAID = 2;
}
`

// sampleOrder is a valid Order in protojson.
const sampleOrder = `{
  "order_id": "ORD-000042",
  "customer_email": "ada@example.com",
  "quantity": 3,
  "address": {"city": "Berlin", "zip": "10115"},
  "status": "STATUS_NEW",
  "items": [{"sku": "ABC-1", "count": 2}, {"sku": "XYZ-9", "count": 1}],
  "created_at": "2026-11-26T09:00:00Z",
  "labels": {"channel": "web"},
  "amount": 42.5,
  "currency": "EUR",
  "big": "9007199254740993",
  "blob": "AQI="
}`

// legacyProto is a proto2 schema without protovalidate: required fields.
const legacyProto = `
syntax = "proto2";
package legacy;

message Event {
  required string id = 1;
  optional int32 n = 2;
  repeated Part parts = 3;
  message Part {
    required string name = 1;
  }
}
`

func parse(tb testing.TB, src string, opts protobuf.Options) *protobuf.Validator {
	tb.Helper()
	v, err := protobuf.Parse([]byte(src), opts)
	require.NoError(tb, err)
	return v
}

// encode builds a message of md from protojson and marshals it.
func encode(tb testing.TB, md protoreflect.MessageDescriptor, js string) []byte {
	tb.Helper()
	msg := dynamicpb.NewMessage(md)
	require.NoError(tb, protojson.UnmarshalOptions{AllowPartial: true}.Unmarshal([]byte(js), msg))
	b, err := proto.MarshalOptions{AllowPartial: true, Deterministic: true}.Marshal(msg)
	require.NoError(tb, err)
	return b
}

// orderWith is sampleOrder with edit applied to its protojson form.
func orderWith(tb testing.TB, v *protobuf.Validator, edit func(m map[string]any)) []byte {
	tb.Helper()
	m := decodeJSON(tb, sampleOrder)
	edit(m)
	return encode(tb, v.Default(), encodeJSON(tb, m))
}

func decodeJSON(tb testing.TB, s string) map[string]any {
	tb.Helper()
	var m map[string]any
	require.NoError(tb, json.Unmarshal([]byte(s), &m))
	return m
}

func encodeJSON(tb testing.TB, m map[string]any) string {
	tb.Helper()
	b, err := json.Marshal(m)
	require.NoError(tb, err)
	return string(b)
}
