package pipeline

import (
	"encoding/json"
	"unicode/utf8"

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
	// HeaderPayloadOmitted is set when the value was dropped from the DLQ
	// record because it no longer fit the topic's size limit.
	HeaderPayloadOmitted = "dq.payload.omitted"
)

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
		e.Field = truncate(e.Field, maxHeaderText)
		e.Message = truncate(e.Message, maxHeaderText)
		capped[i] = e
	}
	b, _ := json.Marshal(capped) // []Violation of strings always marshals
	return b
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
