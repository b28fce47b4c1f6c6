package avro_test

import (
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema/avro"
)

// BenchmarkCheck is the Avro decode+schema layer on a ~300-byte event (go
// test -bench Check ./internal/schema/avro).
func BenchmarkCheck(b *testing.B) {
	v := parse(b, userEventV2, avro.Options{})
	payload := encode(b, v, sampleEvent())
	dst := make([]record.Violation, 0, 4)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if decoded, got := v.Check(payload, dst[:0]); decoded == nil || len(got) != 0 {
			b.Fatal(got)
		}
	}
}

// BenchmarkCheckWithWriter is the same event written with v1 and read
// through schema resolution (the resolution itself is cached).
func BenchmarkCheckWithWriter(b *testing.B) {
	reader := parse(b, userEventV2, avro.Options{})
	writer := parse(b, userEventV1, avro.Options{})
	ev := sampleEvent()
	payload := encode(b, writer, UserEventV1{
		UserID: ev.UserID, EventType: ev.EventType, Timestamp: ev.Timestamp, SessionID: ev.SessionID, Page: ev.Page,
		Amount: float32(ev.Amount), Address: ev.Address, Tags: ev.Tags, Metadata: ev.Metadata,
	})
	dst := make([]record.Violation, 0, 4)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if decoded, got := reader.CheckWithWriter(writer, payload, dst[:0]); decoded == nil || len(got) != 0 {
			b.Fatal(got)
		}
	}
}

// BenchmarkCheckInvalid is a truncated event: the price of a DECODE_ERROR.
func BenchmarkCheckInvalid(b *testing.B) {
	v := parse(b, userEventV2, avro.Options{})
	payload := encode(b, v, sampleEvent())
	payload = payload[:len(payload)/2]
	dst := make([]record.Violation, 0, 4)
	b.ReportAllocs()
	for b.Loop() {
		if _, got := v.Check(payload, dst[:0]); len(got) != 1 {
			b.Fatal(got)
		}
	}
}
