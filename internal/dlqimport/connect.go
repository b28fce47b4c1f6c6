package dlqimport

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// ConnectErrorType maps a Kafka Connect stage, and the exception class it
// failed with, to an error type: a converter (key, value or header) failed
// to deserialize the bytes: DECODE_ERROR; a transformation or predicate
// rejected the converted record: RULE_VIOLATION; anything else (the sink's
// put, an unknown or missing stage): SCHEMA_VIOLATION, the catch-all. An
// exception class a gateway wrote (dataquarantine.TYPE, topics.dlq_headers
// dq+connect) gives its type back exactly.
func ConnectErrorType(stage, exceptionClass string) record.ErrorType {
	if t, ok := strings.CutPrefix(exceptionClass, "dataquarantine."); ok && record.ErrorType(t).Known() {
		return record.ErrorType(t)
	}
	switch stage {
	case "KEY_CONVERTER", "VALUE_CONVERTER", "HEADER_CONVERTER":
		return record.DecodeError
	case pipeline.StageTransformation:
		return record.RuleViolation
	}
	return record.SchemaViolation
}

// fromConnect reads a Kafka Connect dead-letter record: the original
// coordinates from __connect.errors.{topic,partition,offset}; one violation
// typed by the stage, whose message is the exception (class: message) and
// the context (connector, task, stage, executing class). The stack trace
// stays in the stored headers.
func fromConnect(kr *kgo.Record) conversion {
	hs := kr.Headers
	c := conversion{origin: readOrigin(hs, pipeline.ConnectHeaderTopic, pipeline.ConnectHeaderPartition, pipeline.ConnectHeaderOffset)}
	if !hasPrefix(hs, pipeline.ConnectHeaderPrefix) {
		c.errs = []record.Violation{missing(FormatConnect, kr, pipeline.ConnectHeaderPrefix+"*")}
		return c
	}
	stage := text(hs, pipeline.ConnectHeaderStage)
	class := text(hs, pipeline.ConnectHeaderExceptionClass)
	msg := text(hs, pipeline.ConnectHeaderExceptionMessage)

	var b strings.Builder
	switch {
	case class != "" && msg != "":
		b.WriteString(class + ": " + msg)
	case class != "":
		b.WriteString(class + " (no exception message)")
	case msg != "":
		b.WriteString(msg)
	default:
		b.WriteString("no exception recorded")
	}
	ctx := []string{"Kafka Connect"}
	for _, kv := range []struct{ name, key string }{
		{"connector", pipeline.ConnectHeaderConnectorName},
		{"task", pipeline.ConnectHeaderTaskID},
		{"stage", pipeline.ConnectHeaderStage},
		{"class", pipeline.ConnectHeaderClassName},
	} {
		if v := text(hs, kv.key); v != "" {
			ctx = append(ctx, kv.name+" "+v)
		}
	}
	fmt.Fprintf(&b, " (%s; %s)", strings.Join(ctx, ", "), where(kr))
	keyword := stage
	if keyword == "" {
		keyword = "connect"
	}
	c.errs = []record.Violation{{
		Type:    ConnectErrorType(stage, class),
		Keyword: keyword,
		Message: capMessage(withProblems(b.String(), c.origin)),
	}}
	return c
}
