// Package dlqtest makes dead-letter records exactly as Kafka Connect's
// DeadLetterQueueReporter and Confluent's DlqAction write them, header by
// header and byte for byte, for the tests of dlqimport and of the commands
// and app around it.
package dlqtest

import (
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Original is the record a connector consumed, or a serializer was given.
type Original struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []kgo.RecordHeader
	Timestamp time.Time
}

// ConnectContext is what DeadLetterQueueReporter.populateContextHeaders
// reads from the ProcessingContext.
type ConnectContext struct {
	Connector string
	Task      int
	// Stage is a Stage enum name: VALUE_CONVERTER, TRANSFORMATION,
	// TASK_PUT, ...
	Stage string
	// ExecutingClass is the class that threw: the converter's or the
	// transformation's getClass().getName().
	ExecutingClass string
	// ExceptionClass is error.getClass().getName(); "" writes no exception
	// headers (context.error() == null).
	ExceptionClass string
	// ExceptionMessage is error.getMessage(); nil writes a null value.
	ExceptionMessage *string
	// Stacktrace is what error.printStackTrace wrote.
	Stacktrace string
}

// JSONConverterFailure is the context of a JsonConverter that could not
// parse a value: the commonest Connect dead letter.
func JSONConverterFailure(connector string) ConnectContext {
	msg := "Converting byte[] to Kafka Connect data failed due to serialization error: "
	return ConnectContext{
		Connector: connector, Task: 0, Stage: "VALUE_CONVERTER",
		ExecutingClass:   "org.apache.kafka.connect.json.JsonConverter",
		ExceptionClass:   "org.apache.kafka.connect.errors.DataException",
		ExceptionMessage: &msg,
		Stacktrace: "org.apache.kafka.connect.errors.DataException: " + msg + "\n" +
			"\tat org.apache.kafka.connect.json.JsonConverter.toConnectData(JsonConverter.java:346)\n" +
			"\tat org.apache.kafka.connect.storage.Converter.toConnectData(Converter.java:91)\n" +
			"Caused by: org.apache.kafka.common.errors.SerializationException: com.fasterxml.jackson.core.JsonParseException: Unexpected end-of-input\n",
	}
}

// Connect returns the record DeadLetterQueueReporter.report produces for o
// (to topic dlqTopic, partition left to the caller): o's key, value,
// headers and timestamp, and with contextHeaders
// (errors.deadletterqueue.context.headers.enable) the __connect.errors.*
// headers appended in its order, each value String.getBytes(UTF_8) of what
// it writes (numbers in decimal).
func Connect(dlqTopic string, o Original, c ConnectContext, contextHeaders bool) *kgo.Record {
	r := &kgo.Record{
		Topic: dlqTopic, Key: o.Key, Value: o.Value, Timestamp: o.Timestamp,
		Headers: append([]kgo.RecordHeader(nil), o.Headers...),
	}
	if !contextHeaders {
		return r
	}
	add := func(k string, v []byte) { r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: v}) }
	const p = "__connect.errors."
	add(p+"topic", []byte(o.Topic))
	add(p+"partition", []byte(strconv.Itoa(int(o.Partition))))
	add(p+"offset", []byte(strconv.FormatInt(o.Offset, 10)))
	add(p+"connector.name", []byte(c.Connector))
	add(p+"task.id", []byte(strconv.Itoa(c.Task)))
	add(p+"stage", []byte(c.Stage))
	add(p+"class.name", []byte(c.ExecutingClass))
	if c.ExceptionClass != "" {
		add(p+"exception.class.name", []byte(c.ExceptionClass))
		var msg []byte // toBytes(null) is null
		if c.ExceptionMessage != nil {
			msg = []byte(*c.ExceptionMessage)
		}
		add(p+"exception.message", msg)
		add(p+"exception.stacktrace", []byte(c.Stacktrace))
	}
	return r
}

// RuleContext is what DlqAction.populateHeaders reads.
type RuleContext struct {
	Rule    string
	Mode    string // WRITE, READ, UPGRADE, DOWNGRADE
	Subject string
	Topic   string
	// Exception is ex.getMessage(); nil writes no __rule.exception (ex ==
	// null).
	Exception *string
}

// ConditionFailed is the exception message of a CONDITION rule whose
// expression was false and that has no doc (RuleConditionException).
func ConditionFailed(expr string) *string {
	s := "Expr failed: '" + expr + "'"
	return &s
}

// Confluent returns the record DlqAction.run produces for key and value
// (already bytes: a serializer's original key and value) and the record's
// headers: no partition, no timestamp (the producer's clock), the
// __rule.* headers appended in DlqAction's order.
func Confluent(dlqTopic string, key, value []byte, headers []kgo.RecordHeader, c RuleContext) *kgo.Record {
	r := &kgo.Record{Topic: dlqTopic, Key: key, Value: value, Headers: append([]kgo.RecordHeader(nil), headers...)}
	add := func(k, v string) { r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)}) }
	add("__rule.name", c.Rule)
	add("__rule.mode", c.Mode)
	add("__rule.subject", c.Subject)
	add("__rule.topic", c.Topic)
	if c.Exception != nil {
		add("__rule.exception", *c.Exception)
	}
	return r
}
