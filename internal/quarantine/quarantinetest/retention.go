package quarantinetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// RetentionStore is a metadata store with retention.
type RetentionStore interface {
	quarantine.MetadataStore
	quarantine.MetadataPurger
}

// retentionSuite holds ExerciseMetadataRetention's subtests, one method
// each.
type retentionSuite struct {
	newStore func(t *testing.T) RetentionStore
	// cutoff is at noon, days ago, so that rows fall on whole days before
	// it and on both sides of it within its own day (PostgreSQL drops the
	// former as partitions and deletes the latter).
	cutoff time.Time
}

// retentionEntry returns an entry whose age time is ts (its record
// timestamp; or, with noTimestamp, its quarantine time).
func retentionEntry(offset int64, ts time.Time, noTimestamp bool) quarantine.Entry {
	e := NewEntry("retention", 0, offset, time.Now().UTC())
	if noTimestamp {
		e.Timestamp, e.QuarantinedAt = time.Time{}, ts
	} else {
		e.Timestamp = ts
	}
	return e
}

// countEntries is how many entries s holds, by CountByErrorType.
func countEntries(t *testing.T, s quarantine.MetadataStore) int64 {
	t.Helper()
	counts, err := s.CountByErrorType(context.Background())
	require.NoError(t, err)
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

// ExerciseMetadataRetention runs the MetadataPurger conformance suite.
// newStore must return an empty store private to the calling test.
func ExerciseMetadataRetention(t *testing.T, newStore func(t *testing.T) RetentionStore) {
	t.Helper()
	r := retentionSuite{
		newStore: newStore,
		cutoff:   time.Now().UTC().Truncate(24 * time.Hour).Add(-5*24*time.Hour + 12*time.Hour),
	}
	t.Run("PurgesExactlyTheOldEntries", r.purgesExactlyTheOldEntries)
	t.Run("EmptyStore", r.emptyStore)
	t.Run("ManyRows", r.manyRows)
}

// seed returns a fresh store holding the entries the cutoff purges, on
// both sides of its day's midnight, and those it keeps.
func (r retentionSuite) seed(t *testing.T) (s RetentionStore, purged, kept []quarantine.Entry) {
	t.Helper()
	s = r.newStore(t)
	purged = []quarantine.Entry{
		retentionEntry(1, r.cutoff.Add(-30*24*time.Hour), false), // a month before
		retentionEntry(2, r.cutoff.Add(-30*24*time.Hour+time.Minute), false),
		retentionEntry(3, r.cutoff.Add(-72*time.Hour), false),                 // a whole day partition before
		retentionEntry(4, r.cutoff.Add(-time.Hour), false),                    // the cutoff's own day
		retentionEntry(5, r.cutoff.Add(-time.Nanosecond), false),              // just before
		retentionEntry(6, r.cutoff.Add(-2*time.Hour), true),                   // no timestamp: quarantine time
		retentionEntry(7, r.cutoff.Truncate(24*time.Hour), false),             // midnight of the cutoff's day
		retentionEntry(8, r.cutoff.Truncate(24*time.Hour).Add(-1), false),     // the nanosecond before it
		retentionEntry(9, r.cutoff.Add(-12*time.Hour-time.Nanosecond), false), // the day before, last nanosecond
	}
	kept = []quarantine.Entry{
		retentionEntry(10, r.cutoff, false),                // at the cutoff
		retentionEntry(11, r.cutoff.Add(time.Hour), false), // later the same day
		retentionEntry(12, r.cutoff.Add(48*time.Hour), false),
		retentionEntry(13, time.Now().UTC(), false),
		retentionEntry(14, time.Now().UTC(), true),
		retentionEntry(15, r.cutoff.Add(time.Nanosecond), true),
	}
	require.NoError(t, s.Insert(context.Background(), append(append([]quarantine.Entry(nil), purged...), kept...)))
	return s, purged, kept
}

func (r retentionSuite) purgesExactlyTheOldEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, purged, kept := r.seed(t)

	n, err := s.PurgeBefore(ctx, r.cutoff)
	require.NoError(t, err)
	require.Equal(t, int64(len(purged)), n)
	for _, e := range purged {
		_, err := s.Get(ctx, e.ID)
		require.ErrorIs(t, err, quarantine.ErrNotFound, "offset %d (age time %s) is purged", e.SourceOffset, e.Timestamp)
	}
	for _, e := range kept {
		got, err := s.Get(ctx, e.ID)
		require.NoError(t, err, "offset %d is kept", e.SourceOffset)
		require.Equal(t, e.ID, got.ID)
	}
	require.Equal(t, int64(len(kept)), countEntries(t, s))
	page, err := s.List(ctx, quarantine.Filter{Limit: quarantine.MaxLimit})
	require.NoError(t, err)
	require.Len(t, page.Entries, len(kept))

	// Nothing more to purge at the same cutoff.
	n, err = s.PurgeBefore(ctx, r.cutoff)
	require.NoError(t, err)
	require.Zero(t, n)

	// A late insert of an old record (a redelivery, a slow producer)
	// is stored, and purged by the next run.
	late := retentionEntry(20, r.cutoff.Add(-10*24*time.Hour), false)
	require.NoError(t, s.Insert(ctx, []quarantine.Entry{late}))
	_, err = s.Get(ctx, late.ID)
	require.NoError(t, err)
	n, err = s.PurgeBefore(ctx, r.cutoff)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	require.Equal(t, int64(len(kept)), countEntries(t, s))

	// A later cutoff takes the rest.
	n, err = s.PurgeBefore(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(len(kept)), n)
	require.Zero(t, countEntries(t, s))
}

func (r retentionSuite) emptyStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := r.newStore(t)
	n, err := s.PurgeBefore(ctx, time.Now())
	require.NoError(t, err)
	require.Zero(t, n)
}

func (r retentionSuite) manyRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// More rows than one purge chunk, over several days.
	s := r.newStore(t)
	const rows = 2500
	entries := make([]quarantine.Entry, rows)
	for i := range entries {
		entries[i] = retentionEntry(int64(i), r.cutoff.Add(-time.Duration(i)*time.Minute), false)
	}
	require.NoError(t, s.Insert(ctx, entries))
	n, err := s.PurgeBefore(ctx, r.cutoff)
	require.NoError(t, err)
	require.Equal(t, int64(rows-1), n, "all but the one at the cutoff")
	require.Equal(t, int64(1), countEntries(t, s))
}
