package dlqimport_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/dlqimport"
	"github.com/dataquarantine/dataquarantine/internal/dlqimport/dlqtest"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

var (
	importedAt = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	producedAt = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
)

func convert(f dlqimport.Format, r *kgo.Record, sourceTopic string) (quarantine.Entry, quarantine.Payload) {
	return dlqimport.Convert(f, r, dlqimport.Options{SourceTopic: sourceTopic, Now: func() time.Time { return importedAt }})
}

// at places a dead-letter record at its coordinates, as a consumer gets it.
func at(r *kgo.Record, partition int32, offset int64) *kgo.Record {
	r.Partition, r.Offset = partition, offset
	if r.Timestamp.IsZero() {
		r.Timestamp = importedAt.Add(-time.Minute)
	}
	return r
}

func orders(offset int64) dlqtest.Original {
	return dlqtest.Original{
		Topic: "orders", Partition: 2, Offset: offset, Key: []byte("order-7"), Value: []byte(`{"id": 7,`),
		Headers:   []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-abc-01")}},
		Timestamp: producedAt,
	}
}

// The payload is the dead-letter record as stored in the topic: value and
// every header, byte for byte, in order.
func requirePayloadIs(t *testing.T, r *kgo.Record, p quarantine.Payload) {
	t.Helper()
	require.Equal(t, r.Value, p.Value)
	require.Len(t, p.Headers, len(r.Headers))
	for i, h := range r.Headers {
		require.Equal(t, h.Key, p.Headers[i].Key)
		require.Equal(t, h.Value, p.Headers[i].Value, h.Key)
	}
}

func TestConvertConnect(t *testing.T) {
	t.Parallel()
	r := at(dlqtest.Connect("connect-dlq", orders(41), dlqtest.JSONConverterFailure("s3-sink"), true), 0, 12)
	e, p := convert(dlqimport.FormatConnect, r, "")
	requirePayloadIs(t, r, p)
	require.Equal(t, record.ID("orders", 2, 41), e.ID, "the id is the original record's")
	require.Equal(t, "orders", e.SourceTopic)
	require.Equal(t, int32(2), e.SourcePartition)
	require.Equal(t, int64(41), e.SourceOffset)
	require.Equal(t, []byte("order-7"), e.Key)
	require.Equal(t, producedAt, e.Timestamp, "Connect keeps the original timestamp")
	require.Equal(t, importedAt, e.QuarantinedAt)
	require.Equal(t, record.DecodeError, e.ErrorType)
	require.Empty(t, e.ErrorField)
	require.Empty(t, e.Subject)
	require.Equal(t, quarantine.StatusQuarantined, e.Status)
	require.Equal(t, 9, e.PayloadSize)
	require.Len(t, e.Errors, 1)
	require.Equal(t, "VALUE_CONVERTER", e.Errors[0].Keyword)
	require.Equal(t, "org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error:  "+
		"(Kafka Connect, connector s3-sink, task 0, stage VALUE_CONVERTER, class org.apache.kafka.connect.json.JsonConverter; dead-letter record connect-dlq/0/12)",
		e.Errors[0].Message)
}

func TestConvertConnectStages(t *testing.T) {
	t.Parallel()
	msg := "boom"
	for _, tc := range []struct {
		name, stage, class string
		want               record.ErrorType
	}{
		{"key converter", "KEY_CONVERTER", "org.apache.kafka.connect.errors.DataException", record.DecodeError},
		{"header converter", "HEADER_CONVERTER", "org.apache.kafka.connect.errors.DataException", record.DecodeError},
		{"transformation", "TRANSFORMATION", "org.apache.kafka.connect.errors.DataException", record.RuleViolation},
		{"sink put", "TASK_PUT", "java.sql.SQLIntegrityConstraintViolationException", record.SchemaViolation},
		{"unknown stage", "SOMETHING_NEW", "x.Y", record.SchemaViolation},
		{"a gateway's own", "VALUE_CONVERTER", "dataquarantine.ENUM_VIOLATION", record.EnumViolation},
		{"a gateway's rule", "TRANSFORMATION", "dataquarantine.RULE_VIOLATION", record.RuleViolation},
		{"not a type", "VALUE_CONVERTER", "dataquarantine.NOPE", record.DecodeError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := dlqtest.ConnectContext{Connector: "c", Stage: tc.stage, ExecutingClass: "x", ExceptionClass: tc.class, ExceptionMessage: &msg, Stacktrace: "x"}
			e, _ := convert(dlqimport.FormatConnect, at(dlqtest.Connect("dlq", orders(1), c, true), 0, 0), "")
			require.Equal(t, tc.want, e.ErrorType)
			require.Equal(t, tc.stage, e.Errors[0].Keyword)
		})
	}
}

func TestConvertConnectNullExceptionMessage(t *testing.T) {
	t.Parallel()
	c := dlqtest.ConnectContext{
		Connector: "c", Stage: "TRANSFORMATION", ExecutingClass: "org.apache.kafka.connect.transforms.Cast$Value",
		ExceptionClass: "java.lang.NullPointerException", Stacktrace: "java.lang.NullPointerException\n\tat x",
	}
	r := at(dlqtest.Connect("dlq", orders(3), c, true), 0, 5)
	v, ok := headerValue(r, "__connect.errors.exception.message")
	require.True(t, ok)
	require.Nil(t, v, "Connect writes a null value for a null message")
	e, _ := convert(dlqimport.FormatConnect, r, "")
	require.Equal(t, record.RuleViolation, e.ErrorType)
	require.True(t, strings.HasPrefix(e.Errors[0].Message, "java.lang.NullPointerException (no exception message) (Kafka Connect, connector c"), e.Errors[0].Message)
}

func headerValue(r *kgo.Record, key string) ([]byte, bool) {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return r.Headers[i].Value, true
		}
	}
	return nil, false
}

// Connect's default (errors.deadletterqueue.context.headers.enable=false)
// writes the original record alone: it is still imported, keyed by its
// dead-letter coordinates, with an error saying what is missing.
func TestConvertConnectWithoutContextHeaders(t *testing.T) {
	t.Parallel()
	r := at(dlqtest.Connect("connect-dlq", orders(41), dlqtest.JSONConverterFailure("s3-sink"), false), 0, 12)
	e, p := convert(dlqimport.FormatConnect, r, "")
	requirePayloadIs(t, r, p)
	require.Equal(t, record.ID("connect-dlq", 0, 12), e.ID)
	require.Empty(t, e.SourceTopic)
	require.Equal(t, int32(-1), e.SourcePartition)
	require.Equal(t, int64(-1), e.SourceOffset)
	require.Equal(t, record.SchemaViolation, e.ErrorType)
	require.Equal(t, dlqimport.KeywordMissingHeaders, e.Errors[0].Keyword)
	require.Contains(t, e.Errors[0].Message, "no Kafka Connect headers (__connect.errors.*)")
	require.Contains(t, e.Errors[0].Message, "errors.deadletterqueue.context.headers.enable=true")
	require.Contains(t, e.Errors[0].Message, "dead-letter record connect-dlq/0/12")

	// With the topic the connector reads given, the row names it (the id
	// stays the dead-letter record's: partition and offset are unknown).
	e2, _ := convert(dlqimport.FormatConnect, r, "orders")
	require.Equal(t, "orders", e2.SourceTopic)
	require.Equal(t, e.ID, e2.ID)
}

// A record dead-lettered twice (redriven, failed again) carries two sets
// of headers: the last wins, as Connect's lastHeader readers take it.
func TestConvertConnectDuplicatedHeaders(t *testing.T) {
	t.Parallel()
	first := dlqtest.Connect("dlq", orders(41), dlqtest.JSONConverterFailure("old"), true)
	again := orders(99)
	again.Headers = first.Headers
	msg := "now it is the sink"
	r := at(dlqtest.Connect("dlq", again, dlqtest.ConnectContext{
		Connector: "new", Stage: "TASK_PUT", ExecutingClass: "org.apache.kafka.connect.sink.SinkTask",
		ExceptionClass: "org.apache.kafka.connect.errors.ConnectException", ExceptionMessage: &msg, Stacktrace: "s",
	}, true), 0, 7)
	e, p := convert(dlqimport.FormatConnect, r, "")
	requirePayloadIs(t, r, p)
	require.Equal(t, record.ID("orders", 2, 99), e.ID)
	require.Equal(t, record.SchemaViolation, e.ErrorType)
	require.Contains(t, e.Errors[0].Message, "now it is the sink")
	require.Contains(t, e.Errors[0].Message, "connector new")
}

func TestConvertConnectBadCoordinates(t *testing.T) {
	t.Parallel()
	r := at(&kgo.Record{Topic: "dlq", Value: []byte("v"), Headers: []kgo.RecordHeader{
		{Key: "__connect.errors.topic", Value: []byte("orders")},
		{Key: "__connect.errors.partition", Value: []byte("two")},
		{Key: "__connect.errors.offset", Value: []byte("-5")},
		{Key: "__connect.errors.stage", Value: []byte("VALUE_CONVERTER")},
	}}, 1, 3)
	e, _ := convert(dlqimport.FormatConnect, r, "")
	require.Equal(t, record.ID("dlq", 1, 3), e.ID, "incomplete coordinates: the dead-letter record's own")
	require.Equal(t, "orders", e.SourceTopic)
	require.Equal(t, int32(-1), e.SourcePartition)
	require.Equal(t, int64(-1), e.SourceOffset)
	require.Equal(t, record.DecodeError, e.ErrorType)
	require.Contains(t, e.Errors[0].Message, `header __connect.errors.partition "two" is not a partition number`)
	require.Contains(t, e.Errors[0].Message, `header __connect.errors.offset "-5" is not an offset`)
	require.Contains(t, e.Errors[0].Message, "no exception recorded")
}

func TestConvertConfluent(t *testing.T) {
	t.Parallel()
	value := []byte{0, 0, 0, 0, 3, 2, 'x'} // Confluent wire format: magic, schema id 3, Avro
	r := at(dlqtest.Confluent("orders-dlq", []byte("k"), value, []kgo.RecordHeader{{Key: "app", Value: []byte("checkout")}},
		dlqtest.RuleContext{Rule: "amountPositive", Mode: "WRITE", Subject: "orders-value", Topic: "orders", Exception: dlqtest.ConditionFailed("message.amount > 0")}), 0, 4)
	e, p := convert(dlqimport.FormatConfluent, r, "")
	requirePayloadIs(t, r, p)
	require.Equal(t, record.ID("orders-dlq", 0, 4), e.ID, "DlqAction names no partition or offset")
	require.Equal(t, "orders", e.SourceTopic)
	require.Equal(t, int32(-1), e.SourcePartition)
	require.Equal(t, "orders-value", e.Subject)
	require.Equal(t, record.RuleViolation, e.ErrorType)
	require.Equal(t, []record.Violation{{
		Type: record.RuleViolation, Keyword: "amountPositive",
		Message: "Expr failed: 'message.amount > 0' (Confluent DlqAction, rule amountPositive, mode WRITE, subject orders-value; dead-letter record orders-dlq/0/4)",
	}}, e.Errors)

	// No exception (a rule whose transform returned null), and a
	// gateway's own (dq+confluent: the error type as the rule name).
	r2 := at(dlqtest.Confluent("orders-dlq", nil, value, nil, dlqtest.RuleContext{Rule: "encrypt", Mode: "WRITE", Subject: "s", Topic: "orders"}), 0, 5)
	e2, _ := convert(dlqimport.FormatConfluent, r2, "")
	require.True(t, strings.HasPrefix(e2.Errors[0].Message, "rule encrypt failed (no exception message)"))
	r3 := at(dlqtest.Confluent("dq-dlq", nil, value, nil, dlqtest.RuleContext{Rule: "MISSING_FIELD", Mode: "READ", Subject: "s", Topic: "raw", Exception: ptr("/id: missing")}), 0, 6)
	e3, _ := convert(dlqimport.FormatConfluent, r3, "")
	require.Equal(t, record.MissingField, e3.ErrorType)
	require.Empty(t, e3.Errors[0].Keyword)
}

func ptr(s string) *string { return &s }

func TestConvertConfluentWithoutHeaders(t *testing.T) {
	t.Parallel()
	r := at(&kgo.Record{Topic: "orders-dlq", Value: []byte("x")}, 0, 9)
	e, _ := convert(dlqimport.FormatConfluent, r, "orders")
	require.Equal(t, record.ID("orders-dlq", 0, 9), e.ID)
	require.Equal(t, "orders", e.SourceTopic)
	require.Equal(t, dlqimport.KeywordMissingHeaders, e.Errors[0].Keyword)
	require.Contains(t, e.Errors[0].Message, "no Confluent DlqAction headers (__rule.*)")
}

// A record from another gateway's DLQ, with the headers the pipeline writes.
func dqRecord(extra ...kgo.RecordHeader) *kgo.Record {
	errs, _ := json.Marshal([]record.Violation{
		{Type: record.MissingField, Field: "/user_id", Keyword: "required", Message: "missing property 'user_id'"},
		{Type: record.EnumViolation, Field: "/event_type", Keyword: "enum", Message: "not one of view, click"},
	})
	hs := []kgo.RecordHeader{
		{Key: "trace", Value: []byte("t")},
		{Key: pipeline.HeaderErrorType, Value: []byte("MISSING_FIELD")},
		{Key: pipeline.HeaderErrorField, Value: []byte("/user_id")},
		{Key: pipeline.HeaderErrorMessage, Value: []byte("missing property 'user_id'")},
		{Key: pipeline.HeaderErrors, Value: errs},
		{Key: pipeline.HeaderSchemaSubject, Value: []byte("user_event")},
		{Key: pipeline.HeaderSchemaVersion, Value: []byte("2")},
		{Key: pipeline.HeaderSourceTopic, Value: []byte("raw-events")},
		{Key: pipeline.HeaderSourcePartition, Value: []byte("1")},
		{Key: pipeline.HeaderSourceOffset, Value: []byte("77")},
		{Key: pipeline.HeaderQuarantineID, Value: []byte(record.ID("raw-events", 1, 77))},
		{Key: pipeline.HeaderQuarantinedAt, Value: []byte("2026-11-01T08:00:00.5Z")},
	}
	return &kgo.Record{Topic: "quarantine-dlq", Value: []byte(`{"event_type":"scroll"}`), Headers: append(hs, extra...)}
}

func TestConvertDQ(t *testing.T) {
	t.Parallel()
	r := at(dqRecord(), 1, 3)
	e, p := convert(dlqimport.FormatDQ, r, "")
	requirePayloadIs(t, r, p)
	require.Equal(t, record.ID("raw-events", 1, 77), e.ID, "the writing gateway's id")
	require.Equal(t, "raw-events", e.SourceTopic)
	require.Equal(t, "user_event", e.Subject)
	require.Equal(t, 2, e.SchemaVersion)
	require.Equal(t, time.Date(2026, 11, 1, 8, 0, 0, 5e8, time.UTC), e.QuarantinedAt)
	require.Equal(t, record.MissingField, e.ErrorType)
	require.Equal(t, "/user_id", e.ErrorField)
	require.Len(t, e.Errors, 2)
	require.Equal(t, record.EnumViolation, e.Errors[1].Type)
}

func TestConvertDQEdgeCases(t *testing.T) {
	t.Parallel()
	t.Run("errors capped by the writer", func(t *testing.T) {
		t.Parallel()
		e, _ := convert(dlqimport.FormatDQ, at(dqRecord(kgo.RecordHeader{Key: pipeline.HeaderErrorsTotal, Value: []byte("40")}), 0, 0), "")
		require.Len(t, e.Errors, 3)
		require.Equal(t, dlqimport.KeywordErrorsTruncated, e.Errors[2].Keyword)
		require.Contains(t, e.Errors[2].Message, "first 2 of 40 errors")
	})
	t.Run("value omitted", func(t *testing.T) {
		t.Parallel()
		r := at(dqRecord(kgo.RecordHeader{Key: pipeline.HeaderPayloadOmitted, Value: []byte("too big")}), 0, 0)
		r.Value = nil
		e, _ := convert(dlqimport.FormatDQ, r, "")
		require.Equal(t, dlqimport.KeywordPayloadOmitted, e.Errors[len(e.Errors)-1].Keyword)
	})
	t.Run("unknown type and broken dq.errors", func(t *testing.T) {
		t.Parallel()
		r := at(&kgo.Record{Topic: "d", Headers: []kgo.RecordHeader{
			{Key: pipeline.HeaderErrors, Value: []byte(`[{"type":`)},
			{Key: pipeline.HeaderErrorType, Value: []byte("BRAND_NEW_TYPE")},
			{Key: pipeline.HeaderErrorMessage, Value: []byte("m")},
		}}, 0, 1)
		e, _ := convert(dlqimport.FormatDQ, r, "")
		require.Equal(t, record.SchemaViolation, e.ErrorType)
		require.Equal(t, `[error type "BRAND_NEW_TYPE" is unknown here] m`, e.Errors[0].Message)
		require.Equal(t, record.ID("d", 0, 1), e.ID)
	})
	t.Run("no headers", func(t *testing.T) {
		t.Parallel()
		e, _ := convert(dlqimport.FormatDQ, at(&kgo.Record{Topic: "d"}, 0, 2), "")
		require.Equal(t, dlqimport.KeywordMissingHeaders, e.Errors[0].Keyword)
	})
}

// A gateway writing dq+connect headers is read back by the connect format
// with its exact error types: the two mappings agree.
func TestConvertConnectReadsTheGatewaysConnectHeaders(t *testing.T) {
	t.Parallel()
	for _, et := range record.ErrorTypes {
		hs := []kgo.RecordHeader{
			{Key: pipeline.ConnectHeaderTopic, Value: []byte("raw")},
			{Key: pipeline.ConnectHeaderPartition, Value: []byte("0")},
			{Key: pipeline.ConnectHeaderOffset, Value: []byte("1")},
			{Key: pipeline.ConnectHeaderStage, Value: []byte(pipeline.ConnectStage(et))},
			{Key: pipeline.ConnectHeaderExceptionClass, Value: []byte(pipeline.ConnectExceptionClass(et))},
		}
		e, _ := convert(dlqimport.FormatConnect, at(&kgo.Record{Topic: "d", Headers: hs}, 0, 0), "")
		require.Equal(t, et, e.ErrorType)
	}
}

// Hostile headers: non-UTF-8 bytes, NULs, a megabyte of exception, ten
// thousand headers, an empty and a nil value. Every record converts, the
// row's text is bounded valid UTF-8, and the payload keeps every byte.
func TestConvertHostileHeaders(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 1<<20)
	many := make([]kgo.RecordHeader, 10000)
	for i := range many {
		many[i] = kgo.RecordHeader{Key: "__connect.errors.stage", Value: []byte("VALUE_CONVERTER")}
	}
	cases := map[string][]kgo.RecordHeader{
		"non-utf8": {
			{Key: "__connect.errors.topic", Value: []byte("or\xffders")},
			{Key: "__connect.errors.exception.class.name", Value: []byte("a\xff\xfe\x00b")},
			{Key: "__connect.errors.exception.message", Value: []byte("\x00\x00\xc3")},
			{Key: "__connect.errors.connector.name", Value: []byte{0xed, 0xa0, 0x80}},
		},
		"huge": {
			{Key: "__connect.errors.exception.message", Value: []byte(huge)},
			{Key: "__connect.errors.topic", Value: []byte(huge)},
			{Key: "__rule.subject", Value: []byte(huge)},
			{Key: "__rule.exception", Value: []byte(huge)},
			{Key: pipeline.HeaderErrors, Value: []byte(`[{"type":"PARSE_ERROR","field":"/` + huge + `","message":"` + huge + `"}]`)},
		},
		"many":        many,
		"empty keys":  {{Key: "", Value: nil}, {Key: "__rule.", Value: []byte{}}},
		"null values": {{Key: "__connect.errors.topic"}, {Key: "__rule.topic"}, {Key: pipeline.HeaderSourceTopic}},
	}
	for name, hs := range cases {
		for _, value := range [][]byte{nil, {}, []byte(huge)} {
			for _, f := range dlqimport.Formats {
				r := at(&kgo.Record{Topic: "dlq", Value: value, Headers: hs}, 0, 1)
				e, p := convert(f, r, "")
				requirePayloadIs(t, r, p)
				require.NotEmpty(t, e.Errors, "%s/%s", name, f)
				require.True(t, e.ErrorType.Known(), "%s/%s", name, f)
				require.True(t, utf8.ValidString(e.SourceTopic) && len(e.SourceTopic) <= 249, "%s/%s", name, f)
				require.True(t, utf8.ValidString(e.Subject) && len(e.Subject) <= 255 && !strings.Contains(e.Subject, "\x00"), "%s/%s", name, f)
				for _, v := range e.Errors {
					require.True(t, utf8.ValidString(v.Message), "%s/%s", name, f)
					require.LessOrEqual(t, len(v.Message), 4096, "%s/%s", name, f)
					require.LessOrEqual(t, len(v.Field), 1024, "%s/%s", name, f)
				}
				require.Equal(t, len(value), e.PayloadSize)
			}
		}
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for _, f := range dlqimport.Formats {
		got, err := dlqimport.ParseFormat(string(f))
		require.NoError(t, err)
		require.Equal(t, f, got)
	}
	_, err := dlqimport.ParseFormat("kafka-connect")
	require.EqualError(t, err, `"kafka-connect" is not a dead-letter format: want connect, confluent, dq`)
}
