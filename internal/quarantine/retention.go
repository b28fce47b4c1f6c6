package quarantine

import (
	"context"
	"time"
)

// Retention (PRODUCT.md §6): quarantined records older than a configured
// age are purged from both stores. The methods are interfaces of their own,
// beside MetadataStore and PayloadStore rather than in them, so that read
// adapters and test doubles of those interfaces need not implement a purge;
// every driver implements them and passes the retention conformance suite
// (quarantinetest.ExerciseMetadataRetention and ExercisePayloadRetention).

// MetadataPurger removes old metadata rows.
type MetadataPurger interface {
	// PurgeBefore deletes every entry whose age time is before cutoff and
	// returns how many it deleted. An entry's age time is its record's
	// Kafka timestamp, or its QuarantinedAt when the record had none: the
	// time PostgreSQL partitions by, so that whole day partitions can be
	// dropped. Entries at or after cutoff are kept.
	PurgeBefore(ctx context.Context, cutoff time.Time) (int64, error)
}

// SegmentPurger removes old payload segments.
type SegmentPurger interface {
	// DeleteSegmentsBefore deletes every segment last written before cutoff
	// (a segment is written once per batch, so this is when its newest
	// payload was quarantined; a re-written batch counts from the rewrite)
	// and returns how many it deleted. Segments written at or after cutoff
	// are kept. Reading a deleted segment's payloads is ErrNotFound.
	DeleteSegmentsBefore(ctx context.Context, cutoff time.Time) (int64, error)
}
