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
	StatusReprocessed Status = "reprocessed"
	StatusFailedAgain Status = "failed_again"
	StatusDiscarded   Status = "discarded"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{StatusQuarantined, StatusReprocessed, StatusFailedAgain, StatusDiscarded}

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
