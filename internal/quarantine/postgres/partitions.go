package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataquarantine/dataquarantine/internal/pgdb"
)

// A day is a UTC calendar day, counted from the Unix epoch (1970-01-01 is
// 0). Every day of a storable time fits in an int32.
const secondsPerDay = 24 * 60 * 60

func dayOf(t time.Time) int32 {
	s := t.Unix()
	d := s / secondsPerDay
	if s%secondsPerDay < 0 {
		d-- // floor, for times before the epoch
	}
	return int32(d)
}

func dayStart(d int32) time.Time { return time.Unix(int64(d)*secondsPerDay, 0).UTC() }

// partitionName is the table of one day: quarantine_entries_p20261103.
func partitionName(d int32) string {
	return table + "_p" + dayStart(d).Format("20060102")
}

func dateLiteral(d int32) string { return "'" + dayStart(d).Format(time.DateOnly) + "'" }

type partition struct {
	schema, name string
	day          int32
}

// partitions lists the table's day partitions (those named as partitionName
// names them; any other partition is left alone).
func (s *Store) partitions(ctx context.Context) ([]partition, error) {
	rows, err := s.pool.Query(ctx, `SELECT n.nspname, c.relname
		FROM pg_catalog.pg_inherits i
		JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE i.inhparent = $1::regclass`, s.qtable)
	if err != nil {
		return nil, fmt.Errorf("listing partitions of %s: %w", table, err)
	}
	var parts []partition
	for rows.Next() {
		var p partition
		if err := rows.Scan(&p.schema, &p.name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing partitions of %s: %w", table, err)
		}
		date, ok := strings.CutPrefix(p.name, table+"_p")
		if !ok {
			continue
		}
		t, err := time.Parse("20060102", date)
		if err != nil {
			continue
		}
		p.day = dayOf(t)
		parts = append(parts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing partitions of %s: %w", table, err)
	}
	slices.SortFunc(parts, func(a, b partition) int { return int(a.day - b.day) })
	return parts, nil
}

// partitionLock is the advisory lock under which partitions of the table are
// created and dropped, so concurrent stores never race on one (two CREATE
// TABLE IF NOT EXISTS of one name can otherwise both try to create it).
func (s *Store) partitionLock() string {
	h := fnv.New64a()
	_, _ = h.Write([]byte("dataquarantine partitions " + s.schema + "." + table))
	return fmt.Sprintf("SELECT pg_advisory_xact_lock(%d);", int64(h.Sum64()))
}

// EnsurePartitions creates the partitions of yesterday, today and
// Options.PartitionsAhead days after today, where missing. New calls it;
// call it daily (the retention job does) so a long-running process keeps a
// week of partitions ahead and inserts never wait for one to be created.
func (s *Store) EnsurePartitions(ctx context.Context) (err error) {
	defer pgdb.Classify(&err)
	today := dayOf(time.Now())
	days := make([]int32, 0, s.ahead+2)
	for d := today - 1; d <= today+int32(s.ahead); d++ {
		days = append(days, d)
	}
	return s.ensurePartitions(ctx, days, false)
}

// ensurePartitions creates the partitions of days that this Store does not
// know to exist (all of days when force), in one round trip.
func (s *Store) ensurePartitions(ctx context.Context, days []int32, force bool) error {
	s.knownMu.Lock()
	var missing []int32
	for _, d := range days {
		if _, ok := s.known[d]; (force || !ok) && !slices.Contains(missing, d) {
			missing = append(missing, d)
		}
	}
	s.knownMu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	// One simple-protocol query: its statements run as one transaction, so
	// the advisory lock is held until every partition exists.
	var b strings.Builder
	b.WriteString(s.partitionLock())
	for _, d := range missing {
		fmt.Fprintf(&b, "\nCREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM (%s) TO (%s);",
			pgx.Identifier{s.schema, partitionName(d)}.Sanitize(), s.qtable, dateLiteral(d), dateLiteral(d+1))
	}
	if _, err := s.pool.Exec(ctx, b.String()); err != nil {
		return fmt.Errorf("creating partitions %s..%s of %s: %w", partitionName(missing[0]), partitionName(missing[len(missing)-1]), table, err)
	}
	s.knownMu.Lock()
	for _, d := range missing {
		s.known[d] = struct{}{}
	}
	s.knownMu.Unlock()
	s.logger.DebugContext(ctx, "ensured partitions", "table", table,
		"first", dayStart(missing[0]).Format(time.DateOnly), "last", dayStart(missing[len(missing)-1]).Format(time.DateOnly), "count", len(missing))
	return nil
}

// DropPartitionsBefore drops every day partition wholly before day's UTC
// date (a partition of that date or later is kept, so no row at or after day
// is dropped), and returns how many it dropped. Rows go with their
// partition, in one short transaction, without a DELETE. A late insert for
// a dropped day creates the day's partition again.
func (s *Store) DropPartitionsBefore(ctx context.Context, day time.Time) (_ int, err error) {
	defer pgdb.Classify(&err)
	cutoff := dayOf(day)
	parts, err := s.partitions(ctx)
	if err != nil {
		return 0, err
	}
	var b strings.Builder
	b.WriteString(s.partitionLock())
	var dropped []int32
	for _, p := range parts {
		if p.day < cutoff {
			fmt.Fprintf(&b, "\nDROP TABLE IF EXISTS %s;", pgx.Identifier{p.schema, p.name}.Sanitize())
			dropped = append(dropped, p.day)
		}
	}
	if len(dropped) == 0 {
		return 0, nil
	}
	if _, err := s.pool.Exec(ctx, b.String()); err != nil {
		return 0, fmt.Errorf("dropping %d partitions of %s before %s: %w", len(dropped), table, dayStart(cutoff).Format(time.DateOnly), err)
	}
	s.knownMu.Lock()
	for _, d := range dropped {
		delete(s.known, d)
	}
	s.knownMu.Unlock()
	s.logger.InfoContext(ctx, "dropped partitions", "table", table, "before", dayStart(cutoff).Format(time.DateOnly), "count", len(dropped))
	return len(dropped), nil
}
