package quarantine

import (
	"context"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// MetadataStore keeps one Entry per quarantined record.
//
// Implementations are safe for concurrent use.
type MetadataStore interface {
	// Insert writes the entries in one transaction. An entry whose ID is
	// already stored is skipped (ON CONFLICT DO NOTHING), so replaying a
	// batch is harmless. Insert returns only once the rows are durable.
	Insert(ctx context.Context, entries []Entry) error
	// Get returns the entry with the given id, or ErrNotFound.
	Get(ctx context.Context, id string) (Entry, error)
	// List returns entries matching f, newest QuarantinedAt first (ties
	// broken by ID), one page at a time. A malformed cursor is ErrBadCursor.
	List(ctx context.Context, f Filter) (Page, error)
	// CountByErrorType returns how many entries have each primary error type.
	CountByErrorType(ctx context.Context) (map[record.ErrorType]int64, error)
	// Count returns how many entries match f: all of them, whatever f's
	// Limit and Cursor (which it ignores), so a paged list can say how many
	// there are in total.
	Count(ctx context.Context, f Filter) (int64, error)
	Close() error
}

// PayloadStore keeps quarantined payloads, one segment per batch.
//
// Implementations are safe for concurrent use.
type PayloadStore interface {
	// WriteSegment stores the payloads of one batch as one segment named
	// name (a deterministic name derived from the batch, so a re-written
	// batch overwrites rather than multiplies), and returns where each
	// payload is, in order. It returns only once the segment is durable.
	WriteSegment(ctx context.Context, name string, payloads []Payload) ([]PayloadRef, error)
	// Read returns the payload at ref, or ErrNotFound.
	Read(ctx context.Context, ref PayloadRef) (Payload, error)
	// Preview returns the first n bytes of the value of the payload at ref
	// and the value's size, reading about n bytes of the store however big
	// the payload is: for lists. Errors are Read's. The bytes are not
	// checked against the frame's checksum (see DecodePreview); Read's are.
	Preview(ctx context.Context, ref PayloadRef, n int) (Preview, error)
	Close() error
}
