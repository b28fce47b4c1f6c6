package pipeline

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// An input topic in observe mode (topics.inputs[].mode: observe) sends
// every record to the clean topic. One its verdict rejects is counted as
// invalid all the same (records_invalid_total) and marked with these
// headers, after its own (a producer's dq.* headers having moved to
// dq.original.*, as on every record the gateway writes), so that a team
// can see a topic's bad share, and which records, before enforcing.
const (
	HeaderObservedErrorType    = "dq.observed.error.type"
	HeaderObservedErrorField   = "dq.observed.error.field"
	HeaderObservedErrorMessage = "dq.observed.error.message"
	// HeaderObservedErrors is the JSON array of the violations, as
	// dq.errors is on a quarantined record (the first 32, each field and
	// message capped at 512 bytes).
	HeaderObservedErrors = "dq.observed.errors"
	// HeaderObservedErrorsTotal is set when dq.observed.errors lists only
	// some of the violations.
	HeaderObservedErrorsTotal = "dq.observed.errors.total"
	// HeaderObservedID is the id of the record's row in the quarantine
	// store (status observed), when its input keeps them
	// (topics.inputs[].observed_rows).
	HeaderObservedID = "dq.observed.id"
)

// markObserved marks record i, which its verdict rejects and observe mode
// forwards to the clean topic, with the observed headers, the schema it
// failed (dq.schema.subject and dq.schema.version, as on a quarantined
// record), and queues its observed row when its input keeps them.
func (p *Pipeline) markObserved(b *batch, i int) {
	kr, v, out := b.recs[i], &b.verdicts[i], &b.out[i]
	primary := v.Primary()
	h := make([]kgo.RecordHeader, 0, 8)
	h = append(h,
		kgo.RecordHeader{Key: HeaderObservedErrorType, Value: []byte(primary.Type)},
		kgo.RecordHeader{Key: HeaderObservedErrorField, Value: []byte(record.Truncate(primary.Field, maxHeaderText))},
		kgo.RecordHeader{Key: HeaderObservedErrorMessage, Value: []byte(record.Truncate(primary.Message, maxHeaderText))},
		kgo.RecordHeader{Key: HeaderObservedErrors, Value: errorsHeader(v.Violations)},
		kgo.RecordHeader{Key: HeaderSchemaSubject, Value: []byte(v.Subject)},
		kgo.RecordHeader{Key: HeaderSchemaVersion, Value: []byte(strconv.Itoa(v.Version))},
	)
	if len(v.Violations) > maxHeaderErrors {
		h = append(h, kgo.RecordHeader{Key: HeaderObservedErrorsTotal, Value: []byte(strconv.Itoa(len(v.Violations)))})
	}
	if p.opts.ObservedRows[kr.Topic] {
		// Should the clean topic refuse the record (a detour), it is
		// quarantined under the same id; the row already written keeps
		// the observed status.
		id := record.ID(kr.Topic, kr.Partition, kr.Offset)
		h = append(h, kgo.RecordHeader{Key: HeaderObservedID, Value: []byte(id)})
		b.store(i, id, quarantine.StatusObserved)
	}
	out.Headers = append(out.Headers[:len(out.Headers):len(out.Headers)], h...)
}
