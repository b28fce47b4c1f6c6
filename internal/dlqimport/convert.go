package dlqimport

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Options configure Convert.
type Options struct {
	// SourceTopic is the original topic of records whose headers name none
	// (a Connect DLQ without context headers): they keep it, so they can
	// be reprocessed to it. Default "": such records have no original
	// topic.
	SourceTopic string
	// Now is the clock for the quarantine time of records whose headers
	// carry none. Default time.Now.
	Now func() time.Time
}

// Keywords of the violations Convert adds to say what it could not read.
const (
	// KeywordMissingHeaders: the record has none of its format's headers,
	// so why it failed (and usually where it came from) is unknown.
	KeywordMissingHeaders = "dlq.missing_headers"
	// KeywordErrorsTruncated: a gateway's dq.errors header listed only the
	// first of the record's errors (dq.errors.total says how many).
	KeywordErrorsTruncated = "dlq.errors_truncated"
	// KeywordPayloadOmitted: the dead-letter record carries no value
	// (dq.payload.omitted); its payload is only in the writing gateway's
	// payload store, and reprocessing refuses it.
	KeywordPayloadOmitted = "dlq.payload_omitted"
)

// Bounds on what is taken from headers into a row: header values are
// whatever the dead-letter writer (or anyone producing to the topic) put
// there.
const (
	maxText        = 1024    // one header's text inside a message
	maxMessage     = 4096    // one violation's message
	maxSubject     = 255     // a subject name
	maxErrorsBytes = 1 << 20 // a dq.errors header read as JSON
	maxErrors      = 1000    // violations kept from dq.errors
)

// conversion is what a format's reader makes of one record's headers.
type conversion struct {
	origin  origin
	subject string
	version int
	errs    []record.Violation
	// at is when the writer quarantined the record; zero: unknown.
	at time.Time
}

// origin is where the dead-lettered record came from.
type origin struct {
	topic     string // "": unknown
	partition int32  // -1: unknown
	offset    int64  // -1: unknown
	// problems say why a header naming it could not be used.
	problems []string
}

func (o *origin) complete() bool { return o.topic != "" && o.partition >= 0 && o.offset >= 0 }

// Convert makes the metadata row and payload of one record of a dead-letter
// topic written in format f. The payload is the record's value and headers
// exactly as in the dead-letter topic; the row's source topic, partition
// and offset are the original record's (-1 where its headers do not say),
// and its errors the reason its headers give (see docs/dlq.md for the
// mapping). It never fails: a record without the expected headers becomes
// a row whose error says what was missing.
func Convert(f Format, kr *kgo.Record, opts Options) (quarantine.Entry, quarantine.Payload) {
	var c conversion
	switch f {
	case FormatConnect:
		c = fromConnect(kr)
	case FormatConfluent:
		c = fromConfluent(kr)
	default:
		c = fromDQ(kr)
	}
	if c.origin.topic == "" && opts.SourceTopic != "" {
		c.origin.topic = opts.SourceTopic
	}
	id := record.ID(kr.Topic, kr.Partition, kr.Offset)
	if c.origin.complete() {
		id = record.ID(c.origin.topic, c.origin.partition, c.origin.offset)
	}
	if len(c.errs) == 0 { // every reader sets one; kept safe for the row's sake
		c.errs = []record.Violation{{Type: record.SchemaViolation, Message: "no reason given"}}
	}
	at := c.at
	if at.IsZero() {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		at = now()
	}
	headers := make([]record.Header, len(kr.Headers))
	for i, h := range kr.Headers {
		headers[i] = record.Header{Key: h.Key, Value: h.Value}
	}
	return quarantine.Entry{
		ID:              id,
		SourceTopic:     c.origin.topic,
		SourcePartition: c.origin.partition,
		SourceOffset:    c.origin.offset,
		Key:             kr.Key,
		Timestamp:       kr.Timestamp,
		QuarantinedAt:   at.UTC(),
		Subject:         c.subject,
		SchemaVersion:   c.version,
		ErrorType:       c.errs[0].Type,
		ErrorField:      c.errs[0].Field,
		Errors:          c.errs,
		PayloadSize:     len(kr.Value),
		Status:          quarantine.StatusQuarantined,
	}, quarantine.Payload{Value: kr.Value, Headers: headers}
}

// lastHeader returns the value of the last header named key, as the
// writers' own readers take it (Kafka's Headers.lastHeader): Connect and
// DlqAction append their headers after the record's, so a record that
// already carried one (dead-lettered twice) keeps the newest last.
func lastHeader(hs []kgo.RecordHeader, key string) ([]byte, bool) {
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Key == key {
			return hs[i].Value, true
		}
	}
	return nil, false
}

// hasPrefix reports whether any header key starts with prefix.
func hasPrefix(hs []kgo.RecordHeader, prefix string) bool {
	for _, h := range hs {
		if strings.HasPrefix(h.Key, prefix) {
			return true
		}
	}
	return false
}

// text is header key's value as bounded, clean text, "" when absent or
// null.
func text(hs []kgo.RecordHeader, key string) string {
	v, _ := lastHeader(hs, key)
	return pipeline.HeaderText(v, maxText)
}

// readOrigin reads the original topic, partition and offset from the
// headers named (a "" key is not read), noting each one present but
// unusable.
func readOrigin(hs []kgo.RecordHeader, topicKey, partitionKey, offsetKey string) origin {
	o := origin{partition: -1, offset: -1}
	if v, ok := lastHeader(hs, topicKey); ok && topicKey != "" {
		if err := config.CheckTopicName(string(v)); err != nil {
			o.problems = append(o.problems, fmt.Sprintf("header %s is not a topic name (%s)", topicKey, pipeline.HeaderText([]byte(err.Error()), maxText)))
		} else {
			o.topic = string(v)
		}
	}
	if v, ok := lastHeader(hs, partitionKey); ok && partitionKey != "" {
		if p, err := strconv.ParseInt(string(v), 10, 32); err != nil || p < 0 {
			o.problems = append(o.problems, fmt.Sprintf("header %s %q is not a partition number", partitionKey, pipeline.HeaderText(v, 64)))
		} else {
			o.partition = int32(p)
		}
	}
	if v, ok := lastHeader(hs, offsetKey); ok && offsetKey != "" {
		if off, err := strconv.ParseInt(string(v), 10, 64); err != nil || off < 0 {
			o.problems = append(o.problems, fmt.Sprintf("header %s %q is not an offset", offsetKey, pipeline.HeaderText(v, 64)))
		} else {
			o.offset = off
		}
	}
	return o
}

// where names the dead-letter record, for messages.
func where(kr *kgo.Record) string {
	return fmt.Sprintf("dead-letter record %s/%d/%d", kr.Topic, kr.Partition, kr.Offset)
}

// missing is the violation of a record lacking its format's headers.
func missing(f Format, kr *kgo.Record, what string) record.Violation {
	return record.Violation{
		Type:    record.SchemaViolation,
		Keyword: KeywordMissingHeaders,
		Message: capMessage(fmt.Sprintf("no %s headers (%s): %s (%s)", f.Title(), what, whyMissing(f), where(kr))),
	}
}

func whyMissing(f Format) string {
	switch f {
	case FormatConnect:
		return "the connector writes them only with errors.deadletterqueue.context.headers.enable=true, so why the record failed and where it came from are unknown"
	case FormatConfluent:
		return "why the record failed and its original topic are unknown"
	default:
		return "why the record failed and where it came from are unknown"
	}
}

// withProblems appends the origin's problems to msg.
func withProblems(msg string, o origin) string {
	if len(o.problems) > 0 {
		msg += "; " + strings.Join(o.problems, "; ")
	}
	return msg
}

func capMessage(s string) string { return pipeline.HeaderText([]byte(s), maxMessage) }
