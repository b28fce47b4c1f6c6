package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataquarantine/dataquarantine/internal/pgdb"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/retry"
)

// insertColumns is the order Insert writes columns in, and the order of its
// unnest arrays.
const insertColumns = `id, partition_day, source_topic, source_partition, source_offset, key,
	record_timestamp, quarantined_at, subject, schema_version, error_type, error_field,
	errors, payload_segment, payload_offset, payload_length, payload_size, status`

const insertArrays = `$1::text[], $2::date[], $3::text[], $4::int4[], $5::int8[], $6::bytea[],
	$7::int8[], $8::int8[], $9::text[], $10::int8[], $11::text[], $12::bytea[],
	$13::text[], $14::text[], $15::int8[], $16::int8[], $17::int8[], $18::text[]`

// batch is a batch of entries as column arrays, the parameters of the
// insert statement.
type batch struct {
	ids       []string
	days      []time.Time // midnight UTC: the date partition_day
	topics    []string
	parts     []int32
	offsets   []int64
	keys      [][]byte
	ts        []*int64
	qat       []int64
	subjects  []string
	versions  []int64
	errTypes  []string
	fields    [][]byte
	errs      []string
	segments  []string
	payOffs   []int64
	payLens   []int64
	paySizes  []int64
	statuses  []string
	dayValues []int32 // the distinct days, for partition maintenance
}

func (b *batch) args() []any {
	return []any{
		b.ids, b.days, b.topics, b.parts, b.offsets, b.keys,
		b.ts, b.qat, b.subjects, b.versions, b.errTypes, b.fields,
		b.errs, b.segments, b.payOffs, b.payLens, b.paySizes, b.statuses,
	}
}

// newBatch validates and encodes entries. Repeated ids are dropped, the
// first kept, as a replay of them would be.
func newBatch(entries []quarantine.Entry) (*batch, error) {
	n := len(entries)
	b := &batch{
		ids: make([]string, 0, n), days: make([]time.Time, 0, n), topics: make([]string, 0, n),
		parts: make([]int32, 0, n), offsets: make([]int64, 0, n), keys: make([][]byte, 0, n),
		ts: make([]*int64, 0, n), qat: make([]int64, 0, n), subjects: make([]string, 0, n),
		versions: make([]int64, 0, n), errTypes: make([]string, 0, n), fields: make([][]byte, 0, n),
		errs: make([]string, 0, n), segments: make([]string, 0, n), payOffs: make([]int64, 0, n),
		payLens: make([]int64, 0, n), paySizes: make([]int64, 0, n), statuses: make([]string, 0, n),
	}
	seen := make(map[string]struct{}, n)
	order := make([]int, 0, n)
	for i := range entries {
		e := &entries[i]
		if err := validate(e); err != nil {
			return nil, fmt.Errorf("entry %d (%s): %w", i, e.ID, err)
		}
		if _, dup := seen[e.ID]; !dup {
			seen[e.ID] = struct{}{}
			order = append(order, i)
		}
	}
	// Rows are inserted, and their keys locked, in id order: two writers
	// of overlapping batches (a rebalance's zombie, the spool syncer) then
	// wait for each other at most once instead of deadlocking.
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(entries[a].ID, entries[b].ID) })
	tsValues := make([]int64, n)
	for _, i := range order {
		e := &entries[i]
		errs, err := json.Marshal(e.Errors)
		if err != nil {
			return nil, fmt.Errorf("entry %d (%s): encoding errors: %w", i, e.ID, err)
		}
		// The partition key: see the package documentation.
		dayTime := e.QuarantinedAt
		var ts *int64
		if !e.Timestamp.IsZero() {
			dayTime = partitionTime(e.Timestamp, e.QuarantinedAt)
			tsValues[i] = quarantine.ClampNanos(e.Timestamp)
			ts = &tsValues[i]
		}
		day := dayOf(dayTime)
		if !slices.Contains(b.dayValues, day) {
			b.dayValues = append(b.dayValues, day) // a batch spans a day or two
		}
		b.ids = append(b.ids, e.ID)
		b.days = append(b.days, dayStart(day))
		b.topics = append(b.topics, e.SourceTopic)
		b.parts = append(b.parts, e.SourcePartition)
		b.offsets = append(b.offsets, e.SourceOffset)
		b.keys = append(b.keys, e.Key)
		b.ts = append(b.ts, ts)
		b.qat = append(b.qat, e.QuarantinedAt.UnixNano())
		b.subjects = append(b.subjects, e.Subject)
		b.versions = append(b.versions, int64(e.SchemaVersion))
		b.errTypes = append(b.errTypes, string(e.ErrorType))
		b.fields = append(b.fields, indexedField(e.ErrorField))
		b.errs = append(b.errs, string(errs))
		b.segments = append(b.segments, e.Payload.Segment)
		b.payOffs = append(b.payOffs, e.Payload.Offset)
		b.payLens = append(b.payLens, e.Payload.Length)
		b.paySizes = append(b.paySizes, int64(e.PayloadSize))
		b.statuses = append(b.statuses, string(e.Status))
	}
	return b, nil
}

// maxIndexedField is the most of Entry.ErrorField the error_field column
// holds. The column is indexed for List's Field filter, and a btree index
// entry holds at most 2704 bytes; the field is a JSON pointer a producer
// makes as long as it likes (a key of any length, a value nested deep), and
// one over the limit failed its whole batch's insert, for good, stopping the
// pipeline's partition. A longer field is cut as the DLQ headers cut theirs;
// errors keeps every violation whole, and scanEntry gives the whole field
// back from it.
const maxIndexedField = 2048

// indexedField is what the error_field column holds of field: field, cut to
// maxIndexedField bytes (never nil: the column is NOT NULL).
func indexedField(field string) []byte {
	return append([]byte{}, record.Truncate(field, maxIndexedField)...)
}

func validate(e *quarantine.Entry) error {
	if e.ID == "" {
		return errors.New("empty id")
	}
	if e.QuarantinedAt.IsZero() {
		return errors.New("zero QuarantinedAt")
	}
	if err := quarantine.CheckTime(e.QuarantinedAt); err != nil {
		return fmt.Errorf("QuarantinedAt: %w", err)
	}
	return nil
}

// The window of days around a row's quarantine time its record timestamp
// may file it under. A producer sets record timestamps at will: without a
// bound, records dated across the centuries would each create a day
// partition (thousands of tables). Outside the window the nearest edge is
// taken.
const (
	partitionPastDays   = 400
	partitionFutureDays = 2
)

// partitionTime is the time whose UTC day files a row: its record's
// timestamp, moved into [quarantined-400d, quarantined+2d]. The same record
// redelivered on another day lands in the same partition unless its
// timestamp lies outside the window (then, at worst, it is stored twice:
// the API returns the first).
func partitionTime(ts, quarantined time.Time) time.Time {
	lo := quarantined.Add(-partitionPastDays * 24 * time.Hour)
	hi := quarantined.Add(partitionFutureDays * 24 * time.Hour)
	switch {
	case ts.Before(lo):
		return lo
	case ts.After(hi):
		return hi
	}
	return ts
}

// Insert writes entries with one statement, so atomically; ids already
// stored (including repeats within entries) are skipped, the first write
// winning. Times are stored with nanosecond precision and come back in UTC.
// A day without a partition gets one: see the package documentation.
func (s *Store) Insert(ctx context.Context, entries []quarantine.Entry) (err error) {
	defer pgdb.Classify(&err)
	if len(entries) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inserting %d entries: %w", len(entries), err)
	}
	b, err := newBatch(entries)
	if err != nil {
		return err
	}
	if err := s.ensurePartitions(ctx, b.dayValues, false); err != nil {
		return fmt.Errorf("inserting %d entries: %w", len(entries), err)
	}
	q := `INSERT INTO ` + s.qtable + ` (` + insertColumns + `) SELECT * FROM unnest(` + insertArrays + `) ON CONFLICT DO NOTHING`
	for attempt := 1; ; attempt++ {
		_, err = s.pool.Exec(ctx, q, b.args()...)
		switch code := sqlState(err); {
		case err == nil:
			return nil
		case code == noPartition && attempt == 1:
			// A partition this Store believed in was dropped meanwhile (by
			// retention, perhaps in another process): create it, retry.
			if err := s.ensurePartitions(ctx, b.dayValues, true); err != nil {
				return fmt.Errorf("inserting %d entries: %w", len(entries), err)
			}
		case code == deadlockDetected && attempt < 3:
			// Rows go in id order, so only a writer outside this package
			// can deadlock with us; the statement was rolled back whole.
			// A jittered wait keeps the two from meeting again.
			retry.Sleep(ctx, deadlockBackoff.Delay(attempt-1))
		default:
			return fmt.Errorf("inserting %d entries into %s: %w", len(entries), table, err)
		}
	}
}

// deadlockBackoff spaces Insert's retries after a deadlock.
var deadlockBackoff = retry.Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond}

// SQLSTATEs Insert handles.
const (
	// noPartition is "no partition of relation found for row": a
	// check_violation, and the table has no CHECK constraints of its own.
	noPartition      = "23514"
	deadlockDetected = "40P01"
)

// sqlState returns err's SQLSTATE, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
