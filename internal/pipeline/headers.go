package pipeline

import (
	"encoding/json"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Headers set on quarantined records (PRODUCT.md §8).
const (
	HeaderErrorType       = "dq.error.type"
	HeaderErrorField      = "dq.error.field"
	HeaderErrorMessage    = "dq.error.message"
	HeaderErrors          = "dq.errors"
	HeaderSchemaSubject   = "dq.schema.subject"
	HeaderSchemaVersion   = "dq.schema.version"
	HeaderSourceTopic     = "dq.source.topic"
	HeaderSourcePartition = "dq.source.partition"
	HeaderSourceOffset    = "dq.source.offset"
	HeaderQuarantineID    = "dq.quarantine.id"
	HeaderQuarantinedAt   = "dq.quarantined.at"
	// HeaderErrorsTotal is set when dq.errors lists only the first
	// maxHeaderErrors violations: the metadata row keeps them all.
	HeaderErrorsTotal = "dq.errors.total"
	// HeaderPayloadOmitted is set when parts of the record (its value,
	// then its key, then its own headers) were left out of the DLQ record
	// because the whole no longer fit the DLQ topic's size limit; it says
	// which. The payload store keeps the whole record.
	HeaderPayloadOmitted = "dq.payload.omitted"
)

// outgoingHeaders returns a record's received headers as they leave the
// gateway (record.OutgoingHeaderKey: a producer's dq.X becomes
// dq.original.X): hs itself when it holds no dq.* key, the common case,
// which allocates nothing.
func outgoingHeaders(hs []kgo.RecordHeader) []kgo.RecordHeader {
	return renamePrefixed(hs, record.HeaderPrefix, record.OutgoingHeaderKey)
}

// renamePrefixed returns hs with every key starting with prefix renamed by
// to: hs itself when no key does (no allocation), else a copy, since hs
// may be the received record's own headers, which stay as they are.
func renamePrefixed(hs []kgo.RecordHeader, prefix string, to func(string) string) []kgo.RecordHeader {
	i := 0
	for i < len(hs) && !strings.HasPrefix(hs[i].Key, prefix) {
		i++
	}
	if i == len(hs) {
		return hs
	}
	out := make([]kgo.RecordHeader, len(hs), len(hs)+dlqHeaderCount)
	copy(out, hs)
	for ; i < len(out); i++ {
		if strings.HasPrefix(out[i].Key, prefix) {
			out[i].Key = to(out[i].Key)
		}
	}
	return out
}

// Header size bounds: a violation's field and message come from the payload
// (a hostile 1 MB key becomes a 1 MB field pointer), so what goes into
// headers is capped; the metadata store keeps the full text.
const (
	maxHeaderText   = 512
	maxHeaderErrors = 32
)

// errorsHeader is the dq.errors value: a JSON array of the first
// maxHeaderErrors violations, their field and message capped.
func errorsHeader(errs []record.Violation) []byte {
	capped := make([]record.Violation, min(len(errs), maxHeaderErrors))
	for i := range capped {
		e := errs[i]
		e.Field = record.Truncate(e.Field, maxHeaderText)
		e.Message = record.Truncate(e.Message, maxHeaderText)
		capped[i] = e
	}
	b, _ := json.Marshal(capped) // []Violation of strings always marshals
	return b
}
