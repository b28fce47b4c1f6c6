package pipeline

import (
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Kafka Connect's dead-letter context headers, as its DeadLetterQueueReporter
// names them (connect/runtime .../errors/DeadLetterQueueReporter.java). A
// sink connector with errors.deadletterqueue.context.headers.enable=true
// appends them to the original record's headers; every value is UTF-8 text
// (partition and offset in decimal), a null exception message a null value.
const (
	ConnectHeaderPrefix           = "__connect.errors."
	ConnectHeaderTopic            = ConnectHeaderPrefix + "topic"
	ConnectHeaderPartition        = ConnectHeaderPrefix + "partition"
	ConnectHeaderOffset           = ConnectHeaderPrefix + "offset"
	ConnectHeaderConnectorName    = ConnectHeaderPrefix + "connector.name"
	ConnectHeaderTaskID           = ConnectHeaderPrefix + "task.id"
	ConnectHeaderStage            = ConnectHeaderPrefix + "stage"
	ConnectHeaderClassName        = ConnectHeaderPrefix + "class.name"
	ConnectHeaderExceptionClass   = ConnectHeaderPrefix + "exception.class.name"
	ConnectHeaderExceptionMessage = ConnectHeaderPrefix + "exception.message"
	ConnectHeaderStacktrace       = ConnectHeaderPrefix + "exception.stacktrace"
)

// Confluent's DlqAction headers (schema-registry client
// .../rules/DlqAction.java), appended to the record's headers by a Java
// serializer or deserializer whose data-contract rule failed with
// onFailure DLQ. Every value is UTF-8 text.
const (
	ConfluentHeaderPrefix    = "__rule."
	ConfluentHeaderName      = ConfluentHeaderPrefix + "name"
	ConfluentHeaderMode      = ConfluentHeaderPrefix + "mode"
	ConfluentHeaderSubject   = ConfluentHeaderPrefix + "subject"
	ConfluentHeaderTopic     = ConfluentHeaderPrefix + "topic"
	ConfluentHeaderException = ConfluentHeaderPrefix + "exception"
)

// DLQHeaders names the dead-letter header conventions DLQ records carry
// (topics.dlq_headers): the dq.* headers always, and optionally Kafka
// Connect's or Confluent's, so tools built for those read ours.
type DLQHeaders string

// The values of DLQHeaders.
const (
	DLQHeadersDQ        DLQHeaders = "dq"
	DLQHeadersConnect   DLQHeaders = "dq+connect"
	DLQHeadersConfluent DLQHeaders = "dq+confluent"
)

// DLQHeaderModes lists every DLQHeaders value.
var DLQHeaderModes = []DLQHeaders{DLQHeadersDQ, DLQHeadersConnect, DLQHeadersConfluent}

// DLQCompat says which other tool's dead-letter headers DLQ records get.
// The zero value adds none.
type DLQCompat struct {
	// Headers is the convention; "" is DLQHeadersDQ (dq.* only).
	Headers DLQHeaders
	// ConnectorName is __connect.errors.connector.name. Default
	// "dataquarantine"; the app sets the consumer group id, which names
	// the deployment as a connector name names a connector.
	ConnectorName string
}

// The values this gateway writes where Connect writes Java names.
const (
	// connectClassName is __connect.errors.class.name, the executing
	// class in Connect (the converter or transform).
	connectClassName = "dataquarantine.validate"
	// connectExceptionPrefix starts __connect.errors.exception.class.name;
	// the primary error type follows: dataquarantine.MISSING_FIELD.
	connectExceptionPrefix = "dataquarantine."
	// connectTaskID is __connect.errors.task.id: Connect always writes
	// one; the gateway has no tasks.
	connectTaskID = "0"
	// confluentMode is __rule.mode: the gateway judges records it reads
	// from the raw topic, as a deserializer's READ rules do.
	confluentMode = "READ"
	// maxStacktrace caps __connect.errors.exception.stacktrace.
	maxStacktrace = 8 << 10
)

// The Connect stages the gateway's errors map to.
const (
	StageValueConverter = "VALUE_CONVERTER"
	StageTransformation = "TRANSFORMATION"
)

// appendTo appends c's headers for the invalid record kr (verdict v) to h.
// It is the hook route calls; with the zero DLQCompat it returns h as is.
// Headers of the record's own under the prefix c writes (a producer's
// forged or stale verdict) are first moved under dq.original., as a
// producer's dq.* ones are, so that the only such headers a DLQ reader
// finds, first or last, are the gateway's.
func (c DLQCompat) appendTo(h []kgo.RecordHeader, kr *kgo.Record, v *record.Verdict) []kgo.RecordHeader {
	switch c.Headers {
	case DLQHeadersConnect:
		name := c.ConnectorName
		if name == "" {
			name = "dataquarantine"
		}
		return connectHeaders(moveAside(h, ConnectHeaderPrefix), name, kr.Topic, kr.Partition, kr.Offset, v.Violations)
	case DLQHeadersConfluent:
		return confluentHeaders(moveAside(h, ConfluentHeaderPrefix), v.Subject, kr.Topic, v.Violations)
	}
	return h
}

// written reports whether key names a header the gateway writes on a DLQ
// record in c's mode: its dq.* headers (not a producer's, moved under
// dq.original.) and, in a compat mode, the headers under that mode's
// prefix (a producer's own were moved aside by appendTo).
func (c DLQCompat) written(key string) bool {
	switch {
	case strings.HasPrefix(key, record.HeaderPrefix):
		return !strings.HasPrefix(key, record.OriginalHeaderPrefix)
	case c.Headers == DLQHeadersConnect:
		return strings.HasPrefix(key, ConnectHeaderPrefix)
	case c.Headers == DLQHeadersConfluent:
		return strings.HasPrefix(key, ConfluentHeaderPrefix)
	}
	return false
}

// moveAside returns h with every key starting with prefix moved under
// record.OriginalHeaderPrefix (__rule.name becomes dq.original.__rule.name).
func moveAside(h []kgo.RecordHeader, prefix string) []kgo.RecordHeader {
	return renamePrefixed(h, prefix, func(k string) string { return record.OriginalHeaderPrefix + k })
}

// connectHeaders appends Kafka Connect's context headers for a record of
// topic/partition/offset that failed with errs (at least one), in the
// order DeadLetterQueueReporter.populateContextHeaders writes them.
func connectHeaders(h []kgo.RecordHeader, connector, topic string, partition int32, offset int64, errs []record.Violation) []kgo.RecordHeader {
	primary := firstViolation(errs)
	class := connectExceptionPrefix + string(primary.Type)
	msg := exceptionMessage(primary)
	return append(h,
		kgo.RecordHeader{Key: ConnectHeaderTopic, Value: []byte(topic)},
		kgo.RecordHeader{Key: ConnectHeaderPartition, Value: []byte(strconv.FormatInt(int64(partition), 10))},
		kgo.RecordHeader{Key: ConnectHeaderOffset, Value: []byte(strconv.FormatInt(offset, 10))},
		kgo.RecordHeader{Key: ConnectHeaderConnectorName, Value: []byte(connector)},
		kgo.RecordHeader{Key: ConnectHeaderTaskID, Value: []byte(connectTaskID)},
		kgo.RecordHeader{Key: ConnectHeaderStage, Value: []byte(ConnectStage(primary.Type))},
		kgo.RecordHeader{Key: ConnectHeaderClassName, Value: []byte(connectClassName)},
		kgo.RecordHeader{Key: ConnectHeaderExceptionClass, Value: []byte(class)},
		kgo.RecordHeader{Key: ConnectHeaderExceptionMessage, Value: []byte(msg)},
		kgo.RecordHeader{Key: ConnectHeaderStacktrace, Value: []byte(stacktrace(class, msg, errs))},
	)
}

// confluentHeaders appends DlqAction's headers for a record of topic that
// failed subject's checks with errs (at least one), in DlqAction's order. A
// record whose topic has no subject gets a null __rule.subject, as
// DlqAction writes for a null subject.
func confluentHeaders(h []kgo.RecordHeader, subject, topic string, errs []record.Violation) []kgo.RecordHeader {
	primary := firstViolation(errs)
	name := string(primary.Type)
	if primary.Type == record.RuleViolation && primary.Keyword != "" {
		name = primary.Keyword // the rule's name, as DlqAction's is
	}
	var subj []byte
	if subject != "" {
		subj = []byte(subject)
	}
	return append(h,
		kgo.RecordHeader{Key: ConfluentHeaderName, Value: []byte(record.Truncate(name, maxHeaderText))},
		kgo.RecordHeader{Key: ConfluentHeaderMode, Value: []byte(confluentMode)},
		kgo.RecordHeader{Key: ConfluentHeaderSubject, Value: subj},
		kgo.RecordHeader{Key: ConfluentHeaderTopic, Value: []byte(topic)},
		kgo.RecordHeader{Key: ConfluentHeaderException, Value: []byte(exceptionMessage(primary))},
	)
}

// ConnectStage is the Connect stage an error type maps to: business rules
// judge converted records, as Connect's transformations (and predicates) do;
// every other error is about decoding the value or checking it against its
// schema, a converter's work in Connect.
func ConnectStage(t record.ErrorType) string {
	if t == record.RuleViolation {
		return StageTransformation
	}
	return StageValueConverter
}

// ConnectExceptionClass is the __connect.errors.exception.class.name the
// gateway writes for an error type.
func ConnectExceptionClass(t record.ErrorType) string { return connectExceptionPrefix + string(t) }

func firstViolation(errs []record.Violation) record.Violation {
	if len(errs) == 0 {
		return record.Violation{Type: record.SchemaViolation}
	}
	return errs[0]
}

// exceptionMessage is the primary error as one capped line: "field:
// message", or the message alone for an error about the whole payload.
func exceptionMessage(v record.Violation) string {
	msg := v.Message
	if v.Field != "" {
		msg = record.Truncate(v.Field, maxHeaderText) + ": " + msg
	}
	return record.Truncate(msg, maxHeaderText)
}

// stacktrace is __connect.errors.exception.stacktrace. Connect writes the
// Java stack trace, whose first line is "class: message"; the gateway has
// no stack, so the lines after the first list every error (the first
// maxHeaderErrors), each "\tat FIELD (KEYWORD): TYPE: MESSAGE", capped at
// maxStacktrace bytes.
func stacktrace(class, msg string, errs []record.Violation) string {
	var b strings.Builder
	b.WriteString(class)
	b.WriteString(": ")
	b.WriteString(msg)
	for i, e := range errs {
		if i == maxHeaderErrors {
			b.WriteString("\n\t... ")
			b.WriteString(strconv.Itoa(len(errs) - i))
			b.WriteString(" more")
			break
		}
		field := e.Field
		if field == "" {
			field = "(whole payload)"
		}
		b.WriteString("\n\tat ")
		b.WriteString(record.Truncate(field, maxHeaderText))
		if e.Keyword != "" {
			b.WriteString(" (")
			b.WriteString(record.Truncate(e.Keyword, maxHeaderText))
			b.WriteString(")")
		}
		b.WriteString(": ")
		b.WriteString(string(e.Type))
		b.WriteString(": ")
		b.WriteString(record.Truncate(e.Message, maxHeaderText))
		if b.Len() > maxStacktrace {
			break
		}
	}
	return record.Truncate(b.String(), maxStacktrace)
}

// dlqHeaderKeys are the dq.* headers the pipeline adds to DLQ records.
var dlqHeaderKeys = map[string]bool{
	HeaderErrorType: true, HeaderErrorField: true, HeaderErrorMessage: true, HeaderErrors: true,
	HeaderErrorsTotal: true, HeaderSchemaSubject: true, HeaderSchemaVersion: true,
	HeaderSourceTopic: true, HeaderSourcePartition: true, HeaderSourceOffset: true,
	HeaderQuarantineID: true, HeaderQuarantinedAt: true, HeaderPayloadOmitted: true,
}

// DLQContextHeader reports whether key names a header a dead-letter writer
// adds to the original record: the gateway's dq.* DLQ headers, Kafka
// Connect's __connect.errors.* and Confluent's __rule.*. Reprocessing a
// record back to its original topic drops them, so the topic's consumers
// get the record as it was first produced.
func DLQContextHeader(key string) bool {
	return dlqHeaderKeys[key] || strings.HasPrefix(key, ConnectHeaderPrefix) || strings.HasPrefix(key, ConfluentHeaderPrefix)
}

// HeaderText is a header value as text fit for a message or a store's
// text column: invalid UTF-8 replaced, NUL bytes dropped, cut to at most n
// bytes on a rune boundary (marked with "…"). Header values are bytes a
// producer chose: a reader of dead-letter headers (dlqimport) takes them
// through this.
func HeaderText(b []byte, n int) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	return record.Truncate(s, n)
}
