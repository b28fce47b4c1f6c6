package protobuf_test

import (
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

// plainOrderProto is orderProto without its buf.validate constraints, to
// measure decoding alone.
const plainOrderProto = `
syntax = "proto3";
package shop.v1;

import "google/protobuf/timestamp.proto";

message Order {
  string order_id = 1;
  string customer_email = 2;
  int32 quantity = 3;
  Address address = 4;
  Status status = 5;
  repeated Item items = 6;
  google.protobuf.Timestamp created_at = 7;
  map<string, string> labels = 8;
  optional string coupon = 9;
  double amount = 10;
  string currency = 11;
  int64 big = 12;
  bytes blob = 13;

  message Item {
    string sku = 1;
    uint32 count = 2;
  }
}

message Address {
  string city = 1;
  string zip = 2;
}

enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_NEW = 1;
  STATUS_PAID = 2;
}
`

// BenchmarkCheck is the Protobuf decode+schema layer on a ~150-byte order
// (go test -bench Check ./internal/schema/protobuf): decode alone (a
// schema without constraints) and decode + protovalidate (13 constraints,
// one a CEL expression). Both include building the map the rules read.
func BenchmarkCheck(b *testing.B) {
	for _, c := range []struct {
		name, src string
	}{
		{"decode", plainOrderProto},
		{"decode+protovalidate", orderProto},
	} {
		b.Run(c.name, func(b *testing.B) {
			v := parse(b, c.src, protobuf.Options{})
			payload := encode(b, v.Default(), sampleOrder)
			dst := make([]record.Violation, 0, 4)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if decoded, got := v.Check(payload, dst[:0]); decoded == nil || len(got) != 0 {
					b.Fatal(got)
				}
			}
		})
	}
}

// BenchmarkCheckInvalid is a truncated order: the price of a DECODE_ERROR,
// located by the second walk over the bytes.
func BenchmarkCheckInvalid(b *testing.B) {
	v := parse(b, orderProto, protobuf.Options{})
	payload := encode(b, v.Default(), sampleOrder)
	payload = payload[:len(payload)-3]
	dst := make([]record.Violation, 0, 4)
	b.ReportAllocs()
	for b.Loop() {
		if _, got := v.Check(payload, dst[:0]); len(got) != 1 {
			b.Fatal(got)
		}
	}
}
