package quarantine

import (
	"time"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Status is the lifecycle state of a quarantined record.
type Status string

// The statuses of PRODUCT.md §6.
const (
	StatusQuarantined Status = "quarantined"
	// StatusReprocessing: a reprocess job has claimed the record (see
	// Lifecycle.Claim) and is re-validating and publishing it. It is the
	// compare-and-set token that keeps two jobs from publishing one record.
	StatusReprocessing Status = "reprocessing"
	StatusReprocessed  Status = "reprocessed"
	StatusFailedAgain  Status = "failed_again"
	StatusDiscarded    Status = "discarded"
	// StatusObserved: a record of an input in observe mode that failed
	// validation and went to the clean topic all the same, stored for
	// browsing (topics.inputs[].observed_rows). Never reprocessed,
	// discarded or corrected: it was delivered.
	StatusObserved Status = "observed"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{StatusQuarantined, StatusReprocessing, StatusReprocessed, StatusFailedAgain, StatusDiscarded, StatusObserved}

// Actionable reports whether a record in status s may be claimed for
// reprocessing, discarded or corrected: quarantined or failed_again.
func (s Status) Actionable() bool {
	return s == StatusQuarantined || s == StatusFailedAgain
}

// Known reports whether s is one of Statuses.
func (s Status) Known() bool {
	for _, k := range Statuses {
		if k == s {
			return true
		}
	}
	return false
}

// PayloadRef locates one payload inside a payload store: a segment (file or
// object) and a byte range within it.
type PayloadRef struct {
	Segment string `json:"segment"`
	Offset  int64  `json:"offset"`
	Length  int64  `json:"length"`
}

// Payload is a quarantined record's content exactly as received.
type Payload struct {
	Value   []byte
	Headers []record.Header
}

// Entry is the metadata row of one quarantined record.
type Entry struct {
	ID              string
	SourceTopic     string
	SourcePartition int32
	SourceOffset    int64
	Key             []byte
	// Timestamp is the Kafka record's own timestamp.
	Timestamp     time.Time
	QuarantinedAt time.Time
	Subject       string
	SchemaVersion int
	// ErrorType and ErrorField are the primary (first) violation's.
	ErrorType  record.ErrorType
	ErrorField string
	Errors     []record.Violation
	Payload    PayloadRef
	// PayloadSize is the length of the record's value in bytes.
	PayloadSize int
	Status      Status

	// The lifecycle fields below are written by Lifecycle, never by
	// Insert (which stores a new record with them zero).

	// StatusChangedAt, StatusActor and StatusReason say when, by whom and
	// why Status last changed; zero and "" while it never has.
	StatusChangedAt time.Time
	StatusActor     string
	StatusReason    string
	// Job is the reprocess job that last claimed the record, "" if none.
	Job string
	// ReplayCount is how many times the record has been republished.
	ReplayCount int
	// Corrected reports that a corrected payload is stored for the record
	// (Lifecycle.Correction returns it); the original stays in the payload
	// store for the audit trail.
	Corrected bool
}

// Filter selects entries for List. Zero fields do not filter.
type Filter struct {
	ErrorType record.ErrorType
	// Field matches ErrorField exactly.
	Field   string
	Topic   string
	Subject string
	Status  Status
	// Since and Until bound QuarantinedAt: Since inclusive, Until exclusive.
	Since time.Time
	Until time.Time
	// Limit caps the page size; 0 means DefaultLimit, values above MaxLimit
	// are clamped to it.
	Limit int
	// Cursor is the NextCursor of the previous page, "" for the first.
	Cursor string
}

// Paging bounds for Filter.Limit.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// EffectiveLimit returns the page size f asks for, after defaults and clamps.
func (f Filter) EffectiveLimit() int {
	switch {
	case f.Limit <= 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	default:
		return f.Limit
	}
}

// Page is one page of List results, newest first.
type Page struct {
	Entries []Entry
	// NextCursor is "" on the last page.
	NextCursor string
}
