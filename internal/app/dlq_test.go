package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/dlqimport/dlqtest"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

func TestGatewayFollowsDeadLetterTopics(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	followDeadLetterTopics(t, cfg)
}

// The same over PostgreSQL and MinIO (the spooled network stores): header
// text from other tools lands in PostgreSQL's text columns.
func TestGatewayFollowsDeadLetterTopicsOnPostgresAndS3(t *testing.T) {
	pgURL := testbackend.Postgres(t)
	bucket := testbackend.S3(t)
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Storage.Metadata.URL = pgURL
	cfg.Storage.Payloads.URL = fmt.Sprintf("s3://%s?endpoint=%s&secure=false", bucket.Bucket, bucket.Endpoint)
	cfg.Storage.Payloads.AccessKey, cfg.Storage.Payloads.SecretKey = bucket.AccessKey, bucket.SecretKey
	followDeadLetterTopics(t, cfg)
}

// followDeadLetterTopics runs a gateway following a Kafka Connect DLQ, a
// DlqAction DLQ and another gateway's DLQ (topics.imports), writing its own
// DLQ with Connect's headers (topics.dlq_headers dq+connect): every record
// becomes one row with its original coordinates and reason, across a
// restart, and the gateway's own records read back from a DLQ are not
// stored twice.
func followDeadLetterTopics(t *testing.T, cfg config.Config) {
	cfg.Topics.DLQHeaders = config.DLQHeadersConnect
	cfg.Topics.Imports = []config.Import{
		{Topic: "connect-dlq", From: config.FromConnect, SourceTopic: "orders"},
		{Topic: "rules-dlq", From: config.FromConfluent},
		{Topic: "peer-dlq", From: config.FromDQ},
	}
	gw := startWith(t, cfg)
	addr := gw.app.KafkaAddr()

	hostile := dlqtest.JSONConverterFailure("s\x00ink\xff")
	produce(t, addr,
		dlqtest.Connect("connect-dlq", dlqtest.Original{Topic: "orders", Partition: 2, Offset: 41, Key: []byte("order-7"), Value: []byte(`{"id": 7,`), Timestamp: time.Now()},
			dlqtest.JSONConverterFailure("s3-sink"), true),
		dlqtest.Connect("connect-dlq", dlqtest.Original{Topic: "orders", Key: []byte("order-8"), Value: []byte(`{"id": 8}`)}, hostile, false),
		dlqtest.Confluent("rules-dlq", []byte("pay-1"), []byte(`{"amount": -5}`), nil, dlqtest.RuleContext{
			Rule: "amountPositive", Mode: "WRITE", Subject: "payments-value\x00\xfe", Topic: "payments", Exception: dlqtest.ConditionFailed("message.amount > 0"),
		}),
		&kgo.Record{Topic: "raw-events", Key: []byte("bad"), Value: []byte(`{"user_id":"USER123456","event_type":"scroll","timestamp":"2026-01-10T19:50:00Z"}`)},
	)

	// The gateway's own DLQ record carries Connect's headers.
	own := consumeExactly(t, addr, "quarantine-dlq", 1)[0]
	require.Equal(t, "raw-events", header(own, "__connect.errors.topic"))
	require.Equal(t, "dataquarantine.ENUM_VIOLATION", header(own, "__connect.errors.exception.class.name"))
	require.Equal(t, "dataquarantine", header(own, "__connect.errors.connector.name"))

	// ... and another gateway's DLQ holding the same record maps to the
	// same row.
	produce(t, addr, &kgo.Record{Topic: "peer-dlq", Key: own.Key, Value: own.Value, Headers: own.Headers})

	byKey := waitForRows(t, gw, 4)
	conn := byKey["order-7"]
	require.Equal(t, record.ID("orders", 2, 41), conn.ID)
	require.Equal(t, "orders", conn.SourceTopic)
	require.Equal(t, int64(41), conn.SourceOffset)
	require.Equal(t, "DECODE_ERROR", conn.ErrorType)
	require.Equal(t, "VALUE_CONVERTER", conn.Errors[0].Keyword)
	require.Contains(t, conn.Errors[0].Message, "org.apache.kafka.connect.errors.DataException")
	require.NotNil(t, conn.Payload)
	require.Equal(t, `{"id": 7,`, *conn.Payload)

	noContext := byKey["order-8"]
	require.Equal(t, "orders", noContext.SourceTopic, "topics.imports[0].source_topic")
	require.Equal(t, "SCHEMA_VIOLATION", noContext.ErrorType)

	rule := byKey["pay-1"]
	require.Equal(t, "RULE_VIOLATION", rule.ErrorType)
	require.Equal(t, "payments", rule.SourceTopic)
	require.Equal(t, "payments-value\ufffd", rule.Subject, "NUL dropped, invalid UTF-8 replaced")
	require.Equal(t, "amountPositive", rule.Errors[0].Keyword)

	require.Equal(t, "ENUM_VIOLATION", byKey["bad"].ErrorType)
	require.Equal(t, "user_event", byKey["bad"].Subject, "the gateway's own row, not a copy")
	require.NotNil(t, byKey["bad"].Payload, "the gateway's own payload is intact")
	require.Equal(t, string(own.Value), *byKey["bad"].Payload)
	// The peer's record adds no row: wait for it to be read.
	testwait.For(t, 30*time.Second, "the peer's record to be read", func() error {
		if n := gw.metric(`dlq_import_records_total{from="dq",topic="peer-dlq"}`); n != 1 {
			return fmt.Errorf("dlq_import_records_total of peer-dlq is %v", n)
		}
		return nil
	})
	require.Equal(t, 2.0, gw.metric(`dlq_import_records_total{from="connect",topic="connect-dlq"}`))
	require.Equal(t, 1.0, gw.metric(`dlq_import_records_total{from="confluent",topic="rules-dlq"}`))
	require.Len(t, waitForRows(t, gw, 4), 4, "the peer's copy of the gateway's record is the same row")
	var own2 quarantineItem
	require.Equal(t, 200, gw.getJSON("/api/v1/quarantine/"+byKey["bad"].ID, &own2))
	require.NotNil(t, own2.Payload, "the gateway's own payload is intact")
	require.Equal(t, string(own.Value), *own2.Payload)

	// Restarted on the same data: the group goes on where it left off.
	gw.stop()
	gw = startWith(t, cfg)
	produce(t, gw.app.KafkaAddr(), dlqtest.Connect("connect-dlq",
		dlqtest.Original{Topic: "orders", Partition: 0, Offset: 1, Key: []byte("order-9"), Value: []byte("{")},
		dlqtest.JSONConverterFailure("s3-sink"), true))
	byKey = waitForRows(t, gw, 5)
	require.Equal(t, record.ID("orders", 0, 1), byKey["order-9"].ID)
	require.Equal(t, 1.0, gw.metric(`dlq_import_records_total{from="connect",topic="connect-dlq"}`), "only the new record was read")
}

// waitForRows waits until the API lists n records and returns them by key.
func waitForRows(t *testing.T, gw *running, n int) map[string]quarantineItem {
	t.Helper()
	var list struct {
		Items []struct {
			quarantineItem
			Key string `json:"key"`
		} `json:"items"`
	}
	testwait.For(t, 30*time.Second, fmt.Sprintf("%d quarantined records", n), func() error {
		if code := gw.getJSON("/api/v1/quarantine?limit=100", &list); code != 200 || len(list.Items) < n {
			return fmt.Errorf("status %d, %d records", code, len(list.Items))
		}
		return nil
	})
	require.Len(t, list.Items, n)
	byKey := map[string]quarantineItem{}
	for _, it := range list.Items {
		var detail quarantineItem
		require.Equal(t, 200, gw.getJSON("/api/v1/quarantine/"+it.ID, &detail))
		byKey[it.Key] = detail
	}
	require.Len(t, byKey, n)
	return byKey
}
