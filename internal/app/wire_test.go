package app_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

const (
	paymentV1 = `{"type":"record","name":"Payment","fields":[{"name":"id","type":"string"},{"name":"amount","type":"double"}]}`
	paymentV2 = `{"type":"record","name":"Payment","fields":[{"name":"id","type":"string"},{"name":"amount","type":"double"},{"name":"currency","type":"string","default":"EUR"}]}`
)

// TestWireFormatThroughPipeline: Avro records in Confluent's wire format,
// written by franz-go's sr.Serde, are validated against the version their
// schema id names, read into the enforced version (an older writer
// resolves); the id may come from the __value_schema_id header, or the
// schema be named by its GUID (0x01); a
// truncated record is DECODE_ERROR, an unknown id SCHEMA_NOT_FOUND; clean
// records are forwarded byte for byte.
func TestWireFormatThroughPipeline(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Kafka.Partitions = 1
	cfg.Topics.Inputs = []config.Input{{Topic: "raw-events", Subject: "payments"}}
	cfg.Schemas = []config.Schema{{Subject: "payments", Type: config.SchemaTypeAvro, Version: 1, Schema: paymentV1}}
	gw := startWith(t, cfg)
	addr := gw.app.KafkaAddr()

	cl, err := sr.NewClient(sr.URLs(gw.base + "/registry"))
	require.NoError(t, err)
	v1, err := cl.SchemaByVersion(ctx, "payments", 1)
	require.NoError(t, err)
	v2, err := cl.CreateSchema(ctx, "payments", sr.Schema{Type: sr.TypeAvro, Schema: paymentV2})
	require.NoError(t, err)
	gw.setState("payments", 2, "enforced")

	serde := paymentSerde(v1.ID, v2.ID, paymentV2)
	oldWriter, err := serde.Encode(paymentV1Datum{ID: "p-1", Amount: 9.5})
	require.NoError(t, err)
	current, err := serde.Encode(paymentV2Datum{ID: "p-2", Amount: 1, Currency: "USD"})
	require.NoError(t, err)
	rawV1, err := avro.MustParse(paymentV1).Encode(paymentV1Datum{ID: "p-3", Amount: 2})
	require.NoError(t, err)
	unknownID := binary.BigEndian.AppendUint32([]byte{0}, 999)
	unknownID = append(unknownID, rawV1...)
	idHeader := binary.BigEndian.AppendUint32([]byte{0}, uint32(v1.ID))
	guid, err := hex.DecodeString(strings.ReplaceAll(registry.GUID(schema.FormatAvro, v1.Schema.Schema, "", ""), "-", ""))
	require.NoError(t, err)
	byGUID := append(append([]byte{1}, guid...), rawV1...)

	recs := []*kgo.Record{
		{Value: oldWriter},
		{Value: current},
		{Value: rawV1, Headers: []kgo.RecordHeader{{Key: "__value_schema_id", Value: idHeader}}},
		{Value: byGUID},
		{Value: current[:len(current)-2]},
		{Value: unknownID},
	}
	for _, r := range recs {
		r.Key = []byte("k")
	}
	produce(t, addr, recs...)

	clean := consumeExactly(t, addr, cfg.Topics.Clean, 4)
	require.Equal(t, oldWriter, clean[0].Value, "forwarded byte for byte")
	require.Equal(t, current, clean[1].Value)
	require.Equal(t, rawV1, clean[2].Value)
	require.Equal(t, byGUID, clean[3].Value, "named by its GUID (0x01)")
	dlq := consumeExactly(t, addr, cfg.Topics.DLQ, 2)
	require.Equal(t, "DECODE_ERROR", header(dlq[0], pipeline.HeaderErrorType))
	require.Equal(t, "2", header(dlq[0], pipeline.HeaderSchemaVersion), "checked against the version its id names")
	require.Equal(t, "SCHEMA_NOT_FOUND", header(dlq[1], pipeline.HeaderErrorType))
	require.Equal(t, "schema id 999 is not registered", header(dlq[1], pipeline.HeaderErrorMessage))
}

// paymentV1Datum and paymentV2Datum are records of the payments subject's
// v1 and of a v2 that adds currency.
type paymentV1Datum struct {
	ID     string  `avro:"id"`
	Amount float64 `avro:"amount"`
}

type paymentV2Datum struct {
	ID       string  `avro:"id"`
	Amount   float64 `avro:"amount"`
	Currency string  `avro:"currency"`
}

// paymentSerde encodes paymentV1Datum under schema id v1 (paymentV1) and
// paymentV2Datum under v2 (the Avro schema v2Schema), in Confluent's wire
// format, as franz-go's sr serde does for a producer.
func paymentSerde(v1, v2 int, v2Schema string) *sr.Serde {
	s1, s2 := avro.MustParse(paymentV1), avro.MustParse(v2Schema)
	var serde sr.Serde
	serde.Register(v1, paymentV1Datum{}, sr.AppendEncodeFn(func(b []byte, v any) ([]byte, error) { return s1.AppendEncode(b, v) }))
	serde.Register(v2, paymentV2Datum{}, sr.AppendEncodeFn(func(b []byte, v any) ([]byte, error) { return s2.AppendEncode(b, v) }))
	return &serde
}
