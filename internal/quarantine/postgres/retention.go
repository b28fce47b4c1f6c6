package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataquarantine/dataquarantine/internal/pgdb"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

var _ quarantine.MetadataPurger = (*Store)(nil)

// PurgeBefore deletes the entries whose record timestamp (or quarantine
// time, for a record without one) is before cutoff. The day partitions
// wholly before cutoff's UTC date go whole, with DropPartitionsBefore (no
// DELETE, no dead tuples, no vacuum); only the rows of cutoff's own date
// that are before it are deleted row by row. The count of dropped rows is
// taken just before the drop: a late insert into a day being dropped, in
// between, goes with it uncounted.
func (s *Store) PurgeBefore(ctx context.Context, cutoff time.Time) (_ int64, err error) {
	defer pgdb.Classify(&err)
	cutoffDay := dayOf(cutoff)
	parts, err := s.partitions(ctx)
	if err != nil {
		return 0, err
	}
	var counts []string
	for _, p := range parts {
		if p.day < cutoffDay {
			counts = append(counts, "SELECT count(*) FROM "+pgx.Identifier{p.schema, p.name}.Sanitize())
		}
	}
	var total int64
	if len(counts) > 0 {
		if err := s.pool.QueryRow(ctx, "SELECT coalesce(sum(n), 0)::bigint FROM ("+strings.Join(counts, " UNION ALL ")+") AS c(n)").Scan(&total); err != nil {
			return 0, fmt.Errorf("counting rows of partitions before %s: %w", dayStart(cutoffDay).Format(time.DateOnly), err)
		}
		if _, err := s.DropPartitionsBefore(ctx, cutoff); err != nil {
			return 0, err
		}
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM `+s.qtable+`
		WHERE partition_day = $1::date AND coalesce(record_timestamp, quarantined_at) < $2`,
		dayStart(cutoffDay).Format(time.DateOnly), quarantine.ClampNanos(cutoff))
	if err != nil {
		return total, fmt.Errorf("purging entries of %s before %s: %w", dayStart(cutoffDay).Format(time.DateOnly), cutoff.UTC().Format(time.RFC3339), err)
	}
	return total + tag.RowsAffected(), nil
}
