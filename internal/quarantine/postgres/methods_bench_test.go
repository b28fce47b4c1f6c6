package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

// BenchmarkInsertMethods compares the two one-transaction ways to write an
// idempotent batch that the package documentation weighs: the unnest
// statement Insert uses (one round trip), and COPY into a temporary staging
// table followed by INSERT ... SELECT ... ON CONFLICT DO NOTHING (COPY
// cannot skip conflicts itself; four round trips). Keep Insert on the
// faster.
func BenchmarkInsertMethods(b *testing.B) {
	methods := map[string]func(ctx context.Context, s *Store, bt *batch) error{
		"unnest": func(ctx context.Context, s *Store, bt *batch) error {
			_, err := s.pool.Exec(ctx, `INSERT INTO `+s.qtable+` (`+insertColumns+`) SELECT * FROM unnest(`+insertArrays+`) ON CONFLICT DO NOTHING`, bt.args()...)
			return err
		},
		"copy": func(ctx context.Context, s *Store, bt *batch) error {
			tx, err := s.pool.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx) // after Commit, a no-op
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS staging (LIKE `+s.qtable+`) ON COMMIT DELETE ROWS`); err != nil {
				return err
			}
			cols := []string{
				"id", "partition_day", "source_topic", "source_partition", "source_offset", "key",
				"record_timestamp", "quarantined_at", "subject", "schema_version", "error_type", "error_field",
				"errors", "payload_segment", "payload_offset", "payload_length", "payload_size", "status",
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"staging"}, cols, pgx.CopyFromSlice(len(bt.ids), func(i int) ([]any, error) {
				return []any{
					bt.ids[i], bt.days[i], bt.topics[i], bt.parts[i], bt.offsets[i], bt.keys[i],
					bt.ts[i], bt.qat[i], bt.subjects[i], bt.versions[i], bt.errTypes[i], bt.fields[i],
					bt.errs[i], bt.segments[i], bt.payOffs[i], bt.payLens[i], bt.paySizes[i], bt.statuses[i],
				}, nil
			})); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+s.qtable+` (`+insertColumns+`) SELECT `+insertColumns+` FROM staging ORDER BY id ON CONFLICT DO NOTHING`); err != nil {
				return err
			}
			return tx.Commit(ctx)
		},
	}
	for _, name := range []string{"unnest", "copy"} {
		b.Run(fmt.Sprintf("method=%s/batch=1000", name), func(b *testing.B) {
			ctx := context.Background()
			s, err := New(ctx, Options{URL: testbackend.Postgres(b)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			base := time.Now()
			entries := make([]quarantine.Entry, 1000)
			n := int64(0)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				for i := range entries {
					entries[i] = quarantinetest.NewEntry("orders", int32(n%12), n, base.Add(time.Duration(n)))
					n++
				}
				bt, err := newBatch(entries)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.ensurePartitions(ctx, bt.dayValues, false); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := methods[name](ctx, s, bt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
