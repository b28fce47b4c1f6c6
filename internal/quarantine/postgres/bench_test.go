package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

// BenchmarkInsert measures Insert of distinct batches into a growing table
// (every index maintained, synchronous commit); rows/s is the figure that
// matters. Building the entries is not timed.
func BenchmarkInsert(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			ctx := context.Background()
			s := newStore(b, testbackend.Postgres(b))
			base := time.Now()
			batch := make([]quarantine.Entry, size)
			n := int64(0)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				for i := range batch {
					batch[i] = quarantinetest.NewEntry("orders", int32(n%12), n, base.Add(time.Duration(n)))
					n++
				}
				b.StartTimer()
				if err := s.Insert(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkList pages through a filtered table of 50,000 rows.
func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, testbackend.Postgres(b))
	base := time.Now()
	batch := make([]quarantine.Entry, 1000)
	for n := range 50 {
		for i := range batch {
			off := int64(n*len(batch) + i)
			batch[i] = quarantinetest.NewEntry("orders", 0, off, base.Add(time.Duration(off)))
			if off%3 == 0 {
				batch[i].ErrorType = record.TypeMismatch
			}
		}
		require.NoError(b, s.Insert(ctx, batch))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.List(ctx, quarantine.Filter{ErrorType: record.TypeMismatch, Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
}
