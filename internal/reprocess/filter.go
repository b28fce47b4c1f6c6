package reprocess

import (
	"fmt"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// MaxIDs bounds Filter.IDs.
const MaxIDs = 1000

// Filter selects the records to reprocess: by IDs, or by the quarantine
// list filters, or both (a listed record must then match the filters too).
// Only quarantined and failed_again records are ever reprocessed; Status,
// when set, must be one of those two.
type Filter struct {
	IDs       []string          `json:"ids,omitempty"`
	ErrorType record.ErrorType  `json:"error_type,omitempty"`
	Field     string            `json:"field,omitempty"`
	Topic     string            `json:"topic,omitempty"`
	Subject   string            `json:"subject,omitempty"`
	Status    quarantine.Status `json:"status,omitempty"`
	// Since (inclusive) and Until (exclusive) bound QuarantinedAt.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
}

// Validate reports what is wrong with f, wrapping ErrInvalidRequest.
func (f *Filter) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalidRequest)
	}
	switch {
	case len(f.IDs) > MaxIDs:
		return bad("filter.ids lists %d records; at most %d", len(f.IDs), MaxIDs)
	case f.ErrorType != "" && !f.ErrorType.Known():
		return bad("filter.error_type %q is not an error type", f.ErrorType)
	case f.Status != "" && !f.Status.Actionable():
		return bad("filter.status %q: only quarantined or failed_again records can be reprocessed", f.Status)
	case !f.Since.IsZero() && !f.Until.IsZero() && f.Since.After(f.Until):
		return bad("filter.since is after filter.until")
	}
	for _, id := range f.IDs {
		if id == "" {
			return bad("filter.ids holds an empty id")
		}
	}
	return nil
}

func (f *Filter) listFilter() quarantine.Filter {
	return quarantine.Filter{
		ErrorType: f.ErrorType, Field: f.Field, Topic: f.Topic, Subject: f.Subject,
		Status: f.Status, Since: f.Since, Until: f.Until,
	}
}

// matches reports whether e matches f's fields other than IDs.
func (f *Filter) matches(e *quarantine.Entry) bool {
	return (f.ErrorType == "" || e.ErrorType == f.ErrorType) &&
		(f.Field == "" || e.ErrorField == f.Field) &&
		(f.Topic == "" || e.SourceTopic == f.Topic) &&
		(f.Subject == "" || e.Subject == f.Subject) &&
		(f.Status == "" || e.Status == f.Status) &&
		(f.Since.IsZero() || !e.QuarantinedAt.Before(f.Since)) &&
		(f.Until.IsZero() || e.QuarantinedAt.Before(f.Until))
}
