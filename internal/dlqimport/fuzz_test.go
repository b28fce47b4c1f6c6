package dlqimport_test

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/dlqimport"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
)

// FuzzConvert feeds arbitrary header values to every format's reader: each
// record converts, to a row with a known error type and valid UTF-8 text,
// and a payload equal to the record.
func FuzzConvert(f *testing.F) {
	f.Add([]byte("orders"), []byte("2"), []byte("41"), []byte("VALUE_CONVERTER"), []byte(`[{"type":"MISSING_FIELD"}]`))
	f.Add([]byte("\xff"), []byte("-1"), []byte("9223372036854775808"), []byte{}, []byte(`[{"type":"X","field":"\u0000"}]`))
	f.Fuzz(func(t *testing.T, topic, partition, offset, reason, errs []byte) {
		hs := []kgo.RecordHeader{
			{Key: pipeline.ConnectHeaderTopic, Value: topic},
			{Key: pipeline.ConnectHeaderPartition, Value: partition},
			{Key: pipeline.ConnectHeaderOffset, Value: offset},
			{Key: pipeline.ConnectHeaderStage, Value: reason},
			{Key: pipeline.ConnectHeaderExceptionMessage, Value: reason},
			{Key: pipeline.ConfluentHeaderTopic, Value: topic},
			{Key: pipeline.ConfluentHeaderName, Value: reason},
			{Key: pipeline.ConfluentHeaderSubject, Value: reason},
			{Key: pipeline.HeaderSourceTopic, Value: topic},
			{Key: pipeline.HeaderSourcePartition, Value: partition},
			{Key: pipeline.HeaderSourceOffset, Value: offset},
			{Key: pipeline.HeaderErrors, Value: errs},
			{Key: pipeline.HeaderErrorType, Value: reason},
			{Key: pipeline.HeaderQuarantinedAt, Value: reason},
			{Key: pipeline.HeaderSchemaVersion, Value: partition},
			{Key: pipeline.HeaderErrorsTotal, Value: offset},
		}
		for _, format := range dlqimport.Formats {
			r := &kgo.Record{Topic: "dlq", Partition: 1, Offset: 2, Value: errs, Headers: hs}
			e, p := convert(format, r, "")
			if !bytes.Equal(p.Value, errs) || len(p.Headers) != len(hs) {
				t.Fatalf("%s: payload changed", format)
			}
			if len(e.Errors) == 0 || !e.ErrorType.Known() || e.ErrorType != e.Errors[0].Type {
				t.Fatalf("%s: bad errors %+v", format, e.Errors)
			}
			if !utf8.ValidString(e.SourceTopic) || !utf8.ValidString(e.Subject) || len(e.ID) != 40 {
				t.Fatalf("%s: bad row %+v", format, e)
			}
			for _, v := range e.Errors {
				if !utf8.ValidString(v.Message) || !v.Type.Known() {
					t.Fatalf("%s: bad violation %+v", format, v)
				}
			}
		}
	})
}
