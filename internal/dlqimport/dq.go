package dlqimport

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// fromDQ reads another gateway's DLQ record: the original coordinates from
// dq.source.*, the errors from dq.errors (else the primary error from
// dq.error.type, dq.error.field and dq.error.message), the schema from
// dq.schema.*, the quarantine time from dq.quarantined.at. Its id is the
// writing gateway's own (record.ID of the same coordinates).
func fromDQ(kr *kgo.Record) conversion {
	hs := kr.Headers
	c := conversion{origin: readOrigin(hs, pipeline.HeaderSourceTopic, pipeline.HeaderSourcePartition, pipeline.HeaderSourceOffset)}
	c.errs = dqErrors(hs)
	if c.errs == nil {
		c.errs = []record.Violation{missing(FormatDQ, kr, "dq.errors or dq.error.type")}
	}
	if len(c.origin.problems) > 0 {
		c.errs[0].Message = capMessage(withProblems(c.errs[0].Message, c.origin))
	}
	subject, _ := lastHeader(hs, pipeline.HeaderSchemaSubject)
	c.subject = pipeline.HeaderText(subject, maxSubject)
	if v, ok := lastHeader(hs, pipeline.HeaderSchemaVersion); ok {
		if n, err := strconv.Atoi(string(v)); err == nil && n > 0 {
			c.version = n
		}
	}
	if v, ok := lastHeader(hs, pipeline.HeaderQuarantinedAt); ok {
		if t, err := time.Parse(time.RFC3339Nano, string(v)); err == nil {
			c.at = t
		}
	}
	if v, ok := lastHeader(hs, pipeline.HeaderErrorsTotal); ok {
		if n, err := strconv.Atoi(string(v)); err == nil && n > len(c.errs) {
			c.errs = append(c.errs, record.Violation{
				Type: c.errs[0].Type, Keyword: KeywordErrorsTruncated,
				Message: fmt.Sprintf("the dead-letter record lists the first %d of %d errors; the writing gateway's quarantine holds them all", len(c.errs), n),
			})
		}
	}
	if v, ok := lastHeader(hs, pipeline.HeaderPayloadOmitted); ok {
		c.errs = append(c.errs, record.Violation{
			Type: c.errs[0].Type, Keyword: KeywordPayloadOmitted,
			Message: capMessage("the dead-letter record carries no value, only the writing gateway's payload store has it: " + pipeline.HeaderText(v, maxText)),
		})
	}
	return c
}

// dqErrors reads the violations of a gateway's DLQ record, nil when it
// names none. An error type this build does not know is kept as
// SCHEMA_VIOLATION, its name in the message.
func dqErrors(hs []kgo.RecordHeader) []record.Violation {
	var errs []record.Violation
	if v, ok := lastHeader(hs, pipeline.HeaderErrors); ok && len(v) <= maxErrorsBytes {
		if json.Unmarshal(v, &errs) != nil {
			errs = nil
		}
	}
	if len(errs) == 0 {
		t, ok := lastHeader(hs, pipeline.HeaderErrorType)
		if !ok {
			return nil
		}
		field, _ := lastHeader(hs, pipeline.HeaderErrorField)
		msg, _ := lastHeader(hs, pipeline.HeaderErrorMessage)
		errs = []record.Violation{{Type: record.ErrorType(pipeline.HeaderText(t, 64)), Field: string(field), Message: string(msg)}}
	}
	if len(errs) > maxErrors {
		errs = errs[:maxErrors]
	}
	for i := range errs {
		e := &errs[i]
		e.Field = record.Truncate(e.Field, maxText)
		e.Keyword = pipeline.HeaderText([]byte(e.Keyword), maxText)
		e.Message = pipeline.HeaderText([]byte(e.Message), maxMessage)
		if !e.Type.Known() {
			e.Message = capMessage(fmt.Sprintf("[error type %q is unknown here] %s", pipeline.HeaderText([]byte(e.Type), 64), e.Message))
			e.Type = record.SchemaViolation
		}
	}
	return errs
}
