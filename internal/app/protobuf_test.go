package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

const shipmentProto = `
syntax = "proto3";
package logistics;

import "buf/validate/validate.proto";

message Shipment {
  string id = 1 [(buf.validate.field).string.pattern = "^SHP-[0-9]+$"];
  Address to = 2;
  int32 parcels = 3;
}

message Address {
  string zip = 1 [(buf.validate.field).string.len = 5];
}
`

// TestProtobufThroughPipeline: a PROTOBUF schema from the config (with a
// rule) validates records written by franz-go's sr.Serde with message
// indexes: a valid one is forwarded byte for byte, a protovalidate
// violation is quarantined at its field, the config's rule applies to the
// version the registry compiled.
func TestProtobufThroughPipeline(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Kafka.Partitions = 1
	cfg.Topics.Inputs = []config.Input{{Topic: "raw-events", Subject: "shipments"}}
	cfg.Schemas = []config.Schema{{
		Subject: "shipments", Type: config.SchemaTypeProtobuf, Version: 1, Schema: shipmentProto,
		Rules: []rules.Spec{{Name: "parcels", Expr: "message.parcels > 0", Message: "a shipment has parcels", Field: "/parcels"}},
	}}
	gw := startWith(t, cfg)
	addr := gw.app.KafkaAddr()

	cl, err := sr.NewClient(sr.URLs(gw.base + "/registry"))
	require.NoError(t, err)
	v1, err := cl.SchemaByVersion(ctx, "shipments", 1)
	require.NoError(t, err)
	require.Equal(t, sr.TypeProtobuf, v1.Type)

	pv, err := protobuf.Parse([]byte(shipmentProto), protobuf.Options{})
	require.NoError(t, err)
	md := pv.Default()
	var serde sr.Serde
	serde.Register(v1.ID, &dynamicpb.Message{}, sr.Index(0), sr.EncodeFn(func(v any) ([]byte, error) {
		return proto.MarshalOptions{Deterministic: true}.Marshal(v.(*dynamicpb.Message))
	}))
	shipment := func(id, zip string, parcels int32) []byte {
		m := dynamicpb.NewMessage(md)
		fields := md.Fields()
		m.Set(fields.ByName("id"), protoreflect.ValueOfString(id))
		to := dynamicpb.NewMessage(fields.ByName("to").Message())
		to.Set(to.Descriptor().Fields().ByName("zip"), protoreflect.ValueOfString(zip))
		m.Set(fields.ByName("to"), protoreflect.ValueOfMessage(to))
		m.Set(fields.ByName("parcels"), protoreflect.ValueOfInt32(parcels))
		b, err := serde.Encode(m)
		require.NoError(t, err)
		return b
	}
	good := shipment("SHP-1", "10115", 2)
	recs := []*kgo.Record{
		{Key: []byte("k"), Value: good},
		{Key: []byte("k"), Value: shipment("SHP-2", "101", 1)},
		{Key: []byte("k"), Value: shipment("SHP-3", "10115", 0)},
	}
	produce(t, addr, recs...)

	clean := consumeExactly(t, addr, cfg.Topics.Clean, 1)
	require.Equal(t, good, clean[0].Value, "forwarded byte for byte")
	dlq := consumeExactly(t, addr, cfg.Topics.DLQ, 2)
	require.Equal(t, "LENGTH_VIOLATION", header(dlq[0], pipeline.HeaderErrorType))
	require.Equal(t, "/to/zip", header(dlq[0], pipeline.HeaderErrorField))
	require.Equal(t, "RULE_VIOLATION", header(dlq[1], pipeline.HeaderErrorType))
	require.Equal(t, "/parcels", header(dlq[1], pipeline.HeaderErrorField))
}

// TestProtobufConfiguredMessage: records without a wire header are read as
// the message the config names (schemas[].message), not the first one.
func TestProtobufConfiguredMessage(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Kafka.Partitions = 1
	cfg.Topics.Inputs = []config.Input{{Topic: "raw-events", Subject: "addresses"}}
	cfg.Schemas = []config.Schema{{
		Subject: "addresses", Type: config.SchemaTypeProtobuf, Version: 1, Schema: shipmentProto,
		Message: "logistics.Address",
	}}
	gw := startWith(t, cfg)
	addr := gw.app.KafkaAddr()

	pv, err := protobuf.Parse([]byte(shipmentProto), protobuf.Options{Message: "logistics.Address"})
	require.NoError(t, err)
	address := func(zip string) []byte {
		m := dynamicpb.NewMessage(pv.Default())
		m.Set(m.Descriptor().Fields().ByName("zip"), protoreflect.ValueOfString(zip))
		b, err := proto.Marshal(m)
		require.NoError(t, err)
		return b
	}
	good := address("10115") // read as a Shipment, it would be id "10115": PATTERN_MISMATCH
	produce(t, addr, &kgo.Record{Key: []byte("k"), Value: good}, &kgo.Record{Key: []byte("k"), Value: address("1")})

	clean := consumeExactly(t, addr, cfg.Topics.Clean, 1)
	require.Equal(t, good, clean[0].Value)
	dlq := consumeExactly(t, addr, cfg.Topics.DLQ, 1)
	require.Equal(t, "LENGTH_VIOLATION", header(dlq[0], pipeline.HeaderErrorType))
	require.Equal(t, "/zip", header(dlq[0], pipeline.HeaderErrorField))
}
