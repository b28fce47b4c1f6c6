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

// ExerciseMetadataRetention runs the MetadataPurger conformance suite.
// newStore must return an empty store private to the calling test.
func ExerciseMetadataRetention(t *testing.T, newStore func(t *testing.T) RetentionStore) {
	t.Helper()
	ctx := context.Background()
	// The cutoff is at noon, days ago, so that rows fall on whole days
	// before it and on both sides of it within its own day (PostgreSQL
	// drops the former as partitions and deletes the latter).
	cutoff := time.Now().UTC().Truncate(24 * time.Hour).Add(-5*24*time.Hour + 12*time.Hour)

	// at returns an entry whose age time is ts (its record timestamp; or,
	// with noTimestamp, its quarantine time).
	at := func(offset int64, ts time.Time, noTimestamp bool) quarantine.Entry {
		e := NewEntry("retention", 0, offset, time.Now().UTC())
		if noTimestamp {
			e.Timestamp, e.QuarantinedAt = time.Time{}, ts
		} else {
			e.Timestamp = ts
		}
		return e
	}
	count := func(t *testing.T, s quarantine.MetadataStore) int64 {
		t.Helper()
		counts, err := s.CountByErrorType(ctx)
		require.NoError(t, err)
		var n int64
		for _, c := range counts {
			n += c
		}
		return n
	}

	t.Run("PurgesExactlyTheOldEntries", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		purged := []quarantine.Entry{
			at(1, cutoff.Add(-30*24*time.Hour), false), // a month before
			at(2, cutoff.Add(-30*24*time.Hour+time.Minute), false),
			at(3, cutoff.Add(-72*time.Hour), false),                 // a whole day partition before
			at(4, cutoff.Add(-time.Hour), false),                    // the cutoff's own day
			at(5, cutoff.Add(-time.Nanosecond), false),              // just before
			at(6, cutoff.Add(-2*time.Hour), true),                   // no timestamp: quarantine time
			at(7, cutoff.Truncate(24*time.Hour), false),             // midnight of the cutoff's day
			at(8, cutoff.Truncate(24*time.Hour).Add(-1), false),     // the nanosecond before it
			at(9, cutoff.Add(-12*time.Hour-time.Nanosecond), false), // the day before, last nanosecond
		}
		kept := []quarantine.Entry{
			at(10, cutoff, false),                // at the cutoff
			at(11, cutoff.Add(time.Hour), false), // later the same day
			at(12, cutoff.Add(48*time.Hour), false),
			at(13, time.Now().UTC(), false),
			at(14, time.Now().UTC(), true),
			at(15, cutoff.Add(time.Nanosecond), true),
		}
		require.NoError(t, s.Insert(ctx, append(append([]quarantine.Entry(nil), purged...), kept...)))

		n, err := s.PurgeBefore(ctx, cutoff)
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
		require.Equal(t, int64(len(kept)), count(t, s))
		page, err := s.List(ctx, quarantine.Filter{Limit: quarantine.MaxLimit})
		require.NoError(t, err)
		require.Len(t, page.Entries, len(kept))

		// Nothing more to purge at the same cutoff.
		n, err = s.PurgeBefore(ctx, cutoff)
		require.NoError(t, err)
		require.Zero(t, n)

		// A late insert of an old record (a redelivery, a slow producer)
		// is stored, and purged by the next run.
		late := at(20, cutoff.Add(-10*24*time.Hour), false)
		require.NoError(t, s.Insert(ctx, []quarantine.Entry{late}))
		_, err = s.Get(ctx, late.ID)
		require.NoError(t, err)
		n, err = s.PurgeBefore(ctx, cutoff)
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
		require.Equal(t, int64(len(kept)), count(t, s))

		// A later cutoff takes the rest.
		n, err = s.PurgeBefore(ctx, time.Now().Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, int64(len(kept)), n)
		require.Zero(t, count(t, s))
	})

	t.Run("EmptyStore", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		n, err := s.PurgeBefore(ctx, time.Now())
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("ManyRows", func(t *testing.T) {
		t.Parallel()
		// More rows than one purge chunk, over several days.
		s := newStore(t)
		const rows = 2500
		entries := make([]quarantine.Entry, rows)
		for i := range entries {
			entries[i] = at(int64(i), cutoff.Add(-time.Duration(i)*time.Minute), false)
		}
		require.NoError(t, s.Insert(ctx, entries))
		n, err := s.PurgeBefore(ctx, cutoff)
		require.NoError(t, err)
		require.Equal(t, int64(rows-1), n, "all but the one at the cutoff")
		require.Equal(t, int64(1), count(t, s))
	})
}
