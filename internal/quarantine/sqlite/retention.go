package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/sqlitedb"
)

var _ quarantine.MetadataPurger = (*Store)(nil)

// purgeChunk bounds the rows one purge transaction deletes, so the write
// lock is never held long and inserts interleave with a large purge.
const purgeChunk = 1000

// PurgeBefore deletes the entries whose record timestamp (or quarantine time,
// for a record without one) is before cutoff, purgeChunk rows per
// transaction, oldest rows first by insertion order. Entries are inserted
// roughly in age order, so each chunk's scan stops soon after the rows
// already deleted; there is no index on the age time (one full scan per run
// finds nothing more and ends the purge).
func (s *Store) PurgeBefore(ctx context.Context, cutoff time.Time) (_ int64, err error) {
	defer sqlitedb.Classify(&err)
	before := quarantine.ClampNanos(cutoff)
	var total int64
	for {
		res, err := s.w.ExecContext(ctx, `DELETE FROM entries WHERE rowid IN (
			SELECT rowid FROM entries WHERE coalesce(record_timestamp, quarantined_at) < ?
			ORDER BY rowid LIMIT ?)`, before, purgeChunk)
		if err != nil {
			return total, fmt.Errorf("purging entries before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("purging entries before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
		}
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}
