package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

func TestRetentionConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExerciseMetadataRetention(t, func(t *testing.T) quarantinetest.RetentionStore {
		return newStore(t, testbackend.Postgres(t))
	})
}

// PurgeBefore drops the partitions wholly before the cutoff's day, rather
// than deleting their rows, and deletes only within the cutoff's own day,
// whose partition stays.
func TestPurgeBeforeDropsPartitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	s := newStore(t, url)
	conn := connect(t, url)
	day := func(d, hour int) time.Time { return time.Date(2001, 1, d, hour, 0, 0, 0, time.UTC) }
	var entries []quarantine.Entry
	for d := 1; d <= 3; d++ {
		for h := range 3 {
			e := quarantinetest.NewEntry("t", 0, int64(d*10+h), day(d, 23)) // quarantined the day it was produced
			e.Timestamp = day(d, 6*h+6)                                     // 06:00, 12:00, 18:00
			entries = append(entries, e)
		}
	}
	require.NoError(t, s.Insert(ctx, entries))
	before := partitionNames(t, conn)

	n, err := s.PurgeBefore(ctx, day(3, 12))
	require.NoError(t, err)
	require.Equal(t, int64(7), n, "two whole days and the 3rd's 06:00")
	require.Equal(t, []string{"quarantine_entries_p20010101", "quarantine_entries_p20010102"}, diff(before, partitionNames(t, conn)))
	counts, err := s.CountByErrorType(ctx)
	require.NoError(t, err)
	require.Equal(t, map[record.ErrorType]int64{record.MissingField: 2}, counts)
}
