package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataquarantine/dataquarantine/internal/pgdb"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// selectColumns is the order every query selects entries in (scanEntry's).
const selectColumns = `id, source_topic, source_partition, source_offset, key,
	record_timestamp, quarantined_at, subject, schema_version, error_type, error_field,
	errors, payload_segment, payload_offset, payload_length, payload_size, status,
	status_changed_at, status_actor, status_reason, job, replay_count, corrected IS NOT NULL`

func scanEntry(row pgx.Row) (quarantine.Entry, error) {
	var (
		e                     quarantine.Entry
		ts                    *int64
		qat, version, size    int64
		field                 []byte
		errs, errType, status string
		changed               *int64
		replays               int64
	)
	if err := row.Scan(&e.ID, &e.SourceTopic, &e.SourcePartition, &e.SourceOffset, &e.Key,
		&ts, &qat, &e.Subject, &version, &errType, &field,
		&errs, &e.Payload.Segment, &e.Payload.Offset, &e.Payload.Length, &size, &status,
		&changed, &e.StatusActor, &e.StatusReason, &e.Job, &replays, &e.Corrected); err != nil {
		return quarantine.Entry{}, err
	}
	if ts != nil {
		e.Timestamp = time.Unix(0, *ts).UTC()
	}
	e.QuarantinedAt = time.Unix(0, qat).UTC()
	if changed != nil {
		e.StatusChangedAt = time.Unix(0, *changed).UTC()
	}
	e.ReplayCount = int(replays)
	e.SchemaVersion = int(version)
	e.ErrorType = record.ErrorType(errType)
	e.ErrorField = string(field)
	e.PayloadSize = int(size)
	e.Status = quarantine.Status(status)
	if err := json.Unmarshal([]byte(errs), &e.Errors); err != nil {
		return quarantine.Entry{}, fmt.Errorf("entry %s: decoding errors: %w", e.ID, err)
	}
	if len(e.Errors) > 0 && len(e.Errors[0].Field) > maxIndexedField && record.Truncate(e.Errors[0].Field, maxIndexedField) == e.ErrorField {
		e.ErrorField = e.Errors[0].Field // the whole of a field cut to fit the index
	}
	return e, nil
}

// Get returns the entry with the given id, or quarantine.ErrNotFound. Of the
// rare record stored twice (no timestamp, redelivered on another day: see
// the package documentation) it returns the first.
func (s *Store) Get(ctx context.Context, id string) (_ quarantine.Entry, err error) {
	defer pgdb.Classify(&err)
	q := `SELECT ` + selectColumns + ` FROM ` + s.qtable + ` WHERE id = $1 ORDER BY quarantined_at LIMIT 1`
	e, err := scanEntry(s.pool.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return quarantine.Entry{}, fmt.Errorf("entry %s: %w", id, quarantine.ErrNotFound)
	}
	if err != nil {
		return quarantine.Entry{}, fmt.Errorf("getting entry %s: %w", id, err)
	}
	return e, nil
}

// where returns the WHERE clause (with a leading space, "" for none) and
// its arguments ($1 on) selecting the entries f matches, its cursor
// included when cursor is set.
func where(f quarantine.Filter, cursor bool) (string, []any, error) {
	var (
		conds []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	eq := func(col, v string) {
		if v != "" {
			conds = append(conds, col+" = "+arg(v))
		}
	}
	eq("error_type", string(f.ErrorType))
	if f.Field != "" {
		conds = append(conds, "error_field = "+arg(indexedField(f.Field))) // a long one by its first 2 KiB
	}
	eq("source_topic", f.Topic)
	eq("subject", f.Subject)
	eq("status", string(f.Status))
	if !f.Since.IsZero() {
		conds = append(conds, "quarantined_at >= "+arg(quarantine.ClampNanos(f.Since)))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "quarantined_at < "+arg(quarantine.ClampNanos(f.Until)))
	}
	if cursor && f.Cursor != "" {
		qat, id, err := quarantine.DecodeCursor(f.Cursor)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, "(quarantined_at, id) < ("+arg(qat)+", "+arg(id)+")")
	}
	if len(conds) == 0 {
		return "", args, nil
	}
	// conds holds only constant clauses with $n placeholders.
	return ` WHERE ` + strings.Join(conds, " AND "), args, nil
}

// List returns one page of entries matching f, newest first, by keyset
// pagination on (quarantined_at, id): a page costs the same however deep it
// is, and rows inserted while paging never shift later pages.
func (s *Store) List(ctx context.Context, f quarantine.Filter) (_ quarantine.Page, err error) {
	defer pgdb.Classify(&err)
	cond, args, err := where(f, true)
	if err != nil {
		return quarantine.Page{}, err
	}
	limit := f.EffectiveLimit()
	// One row more than the page tells whether there is a next page, so the
	// last page has no cursor and never leads to an empty one.
	args = append(args, limit+1)
	q := `SELECT ` + selectColumns + ` FROM ` + s.qtable + cond +
		` ORDER BY quarantined_at DESC, id DESC LIMIT $` + strconv.Itoa(len(args))

	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return quarantine.Page{}, fmt.Errorf("listing entries: %w", err)
	}
	defer rows.Close()
	page := quarantine.Page{Entries: make([]quarantine.Entry, 0, min(limit, 64))}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return quarantine.Page{}, fmt.Errorf("listing entries: %w", err)
		}
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return quarantine.Page{}, fmt.Errorf("listing entries: %w", err)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		last := page.Entries[limit-1]
		page.NextCursor = quarantine.EncodeCursor(last.QuarantinedAt.UnixNano(), last.ID)
	}
	return page, nil
}

// Count returns how many entries match f, ignoring its Limit and Cursor.
// The rare record stored twice (see Get) counts twice, as List lists it
// twice.
func (s *Store) Count(ctx context.Context, f quarantine.Filter) (_ int64, err error) {
	defer pgdb.Classify(&err)
	cond, args, err := where(f, false)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+s.qtable+cond, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting entries: %w", err)
	}
	return n, nil
}

// CountByErrorType returns how many entries have each primary error type.
func (s *Store) CountByErrorType(ctx context.Context) (_ map[record.ErrorType]int64, err error) {
	defer pgdb.Classify(&err)
	rows, err := s.pool.Query(ctx, `SELECT error_type, count(*) FROM `+s.qtable+` GROUP BY error_type`)
	if err != nil {
		return nil, fmt.Errorf("counting entries by error type: %w", err)
	}
	defer rows.Close()
	counts := make(map[record.ErrorType]int64)
	for rows.Next() {
		var (
			t string
			n int64
		)
		if err := rows.Scan(&t, &n); err != nil {
			return nil, fmt.Errorf("counting entries by error type: %w", err)
		}
		counts[record.ErrorType(t)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting entries by error type: %w", err)
	}
	return counts, nil
}
