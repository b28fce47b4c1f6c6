// Package sqlite is the embedded-mode metadata store: quarantine entries in a
// single SQLite file (modernc.org/sqlite, pure Go), in WAL mode with
// synchronous=FULL, so an Insert that returns is on disk.
//
// All writes go through one connection, which serialises them without
// SQLITE_BUSY churn; reads use a separate read-only pool and run
// concurrently with each other and with the writer.
//
// Every method marks the errors of the file's outages (locked by another
// process past the busy timeout, an I/O error, a full disk: see
// sqlitedb.Classify) with retry.ErrUnavailable, so that the spool retries
// them instead of setting rows aside.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/migrate"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/sqlitedb"
)

// Options configure a Store.
type Options struct {
	// Path is the database file. Required; created if missing. It must be
	// a real file (not ":memory:") and contain no '?'.
	Path string
	// BusyTimeout is how long a statement waits for a lock held by another
	// process before failing. Default 5s.
	BusyTimeout time.Duration
	// MaxReaders caps the concurrent read connections. Default 4.
	MaxReaders int
}

// Store is a quarantine.MetadataStore in a SQLite file.
type Store struct {
	w *sql.DB // exactly one connection: every write
	r *sql.DB // read-only pool

	insert *sql.Stmt // on w
	get    *sql.Stmt // on r

	closeOnce sync.Once
	closeErr  error
}

var (
	_ quarantine.MetadataStore = (*Store)(nil)
	_ quarantine.Lifecycle     = (*Store)(nil)
	_ quarantine.JobStore      = (*Store)(nil)
)

// columns is the order every query selects and inserts entries in.
const columns = `id, source_topic, source_partition, source_offset, key, key IS NULL,
	record_timestamp, quarantined_at, subject, schema_version, error_type, error_field,
	errors, payload_segment, payload_offset, payload_length, payload_size, status,
	status_changed_at, status_actor, status_reason, job, replay_count, corrected IS NOT NULL`

const insertSQL = `INSERT INTO entries (id, source_topic, source_partition, source_offset, key,
	record_timestamp, quarantined_at, subject, schema_version, error_type, error_field,
	errors, payload_segment, payload_offset, payload_length, payload_size, status)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO NOTHING`

// New opens (creating if needed) the database at opts.Path and migrates its
// schema to the newest version.
func New(opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("sqlite metadata store: Options.Path is required")
	}
	if strings.ContainsRune(opts.Path, '?') || opts.Path == ":memory:" || strings.HasPrefix(opts.Path, "file:") {
		return nil, fmt.Errorf("sqlite metadata store: Path %q must be a plain file path", opts.Path)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.MaxReaders <= 0 {
		opts.MaxReaders = 4
	}
	ctx := context.Background()

	busy := "busy_timeout(" + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10) + ")"
	w, err := sqlitedb.Open(opts.Path, url.Values{
		"_txlock": {"immediate"},
		"_pragma": {busy, "journal_mode(WAL)", "synchronous(FULL)", "cache_size(-16384)"},
	}, 1, opts.BusyTimeout)
	if err != nil {
		return nil, err
	}
	s := &Store{w: w}
	if err := migrate.Up(ctx, w, Migrations(), nil); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("migrating %s: %w", opts.Path, err)
	}
	s.r, err = sqlitedb.Open(opts.Path, url.Values{
		"_pragma": {busy, "query_only(1)"},
	}, opts.MaxReaders, opts.BusyTimeout)
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	if s.insert, err = w.PrepareContext(ctx, insertSQL); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("preparing insert: %w", err)
	}
	if s.get, err = s.r.PrepareContext(ctx, `SELECT `+columns+` FROM entries WHERE id = ?`); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("preparing get: %w", err)
	}
	return s, nil
}

// Close closes the database; it is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, st := range []*sql.Stmt{s.insert, s.get} {
			if st != nil {
				errs = append(errs, st.Close())
			}
		}
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		errs = append(errs, s.w.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Insert writes entries in one transaction; ids already stored (including
// repeats within entries) are skipped, the first write winning. Times are
// stored with nanosecond precision and come back in UTC.
func (s *Store) Insert(ctx context.Context, entries []quarantine.Entry) (err error) {
	defer sqlitedb.Classify(&err)
	if len(entries) == 0 {
		return nil
	}
	// Encode before taking the write lock, so the transaction holds it only
	// for SQLite's own work.
	rows := make([][17]any, len(entries))
	for i := range entries {
		if err := encodeEntry(&entries[i], &rows[i]); err != nil {
			return fmt.Errorf("entry %d (%s): %w", i, entries[i].ID, err)
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning insert: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	stmt := tx.StmtContext(ctx, s.insert)
	defer stmt.Close() //nolint:errcheck // closed with the transaction anyway
	for i := range rows {
		if _, err := stmt.ExecContext(ctx, rows[i][:]...); err != nil {
			return fmt.Errorf("inserting entry %s: %w", entries[i].ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing %d entries: %w", len(entries), err)
	}
	return nil
}

func encodeEntry(e *quarantine.Entry, row *[17]any) error {
	if e.ID == "" {
		return errors.New("empty id")
	}
	if e.QuarantinedAt.IsZero() {
		return errors.New("zero QuarantinedAt")
	}
	if err := quarantine.CheckTime(e.QuarantinedAt); err != nil {
		return fmt.Errorf("QuarantinedAt: %w", err)
	}
	var ts any // NULL for the zero time
	if !e.Timestamp.IsZero() {
		// A producer's timestamp may lie beyond what int64 nanoseconds
		// hold (year 1678 to 2262): saturated, never refused.
		ts = quarantine.ClampNanos(e.Timestamp)
	}
	errs, err := json.Marshal(e.Errors)
	if err != nil {
		return fmt.Errorf("encoding errors: %w", err)
	}
	*row = [17]any{
		e.ID, e.SourceTopic, int64(e.SourcePartition), e.SourceOffset, e.Key,
		ts, e.QuarantinedAt.UnixNano(), e.Subject, int64(e.SchemaVersion), string(e.ErrorType), e.ErrorField,
		string(errs), e.Payload.Segment, e.Payload.Offset, e.Payload.Length, int64(e.PayloadSize), string(e.Status),
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanEntry(sc scanner) (quarantine.Entry, error) {
	var (
		e              quarantine.Entry
		keyNull        bool
		ts             sql.NullInt64
		qat            int64
		errs           string
		errType, state string
		changed        sql.NullInt64
	)
	if err := sc.Scan(&e.ID, &e.SourceTopic, &e.SourcePartition, &e.SourceOffset, &e.Key, &keyNull,
		&ts, &qat, &e.Subject, &e.SchemaVersion, &errType, &e.ErrorField,
		&errs, &e.Payload.Segment, &e.Payload.Offset, &e.Payload.Length, &e.PayloadSize, &state,
		&changed, &e.StatusActor, &e.StatusReason, &e.Job, &e.ReplayCount, &e.Corrected); err != nil {
		return quarantine.Entry{}, err
	}
	// The driver returns an empty BLOB as nil; key IS NULL tells them apart.
	if !keyNull && e.Key == nil {
		e.Key = []byte{}
	}
	if ts.Valid {
		e.Timestamp = time.Unix(0, ts.Int64).UTC()
	}
	e.QuarantinedAt = time.Unix(0, qat).UTC()
	if changed.Valid {
		e.StatusChangedAt = time.Unix(0, changed.Int64).UTC()
	}
	e.ErrorType = record.ErrorType(errType)
	e.Status = quarantine.Status(state)
	if err := json.Unmarshal([]byte(errs), &e.Errors); err != nil {
		return quarantine.Entry{}, fmt.Errorf("entry %s: decoding errors: %w", e.ID, err)
	}
	return e, nil
}

// Get returns the entry with the given id, or quarantine.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (_ quarantine.Entry, err error) {
	defer sqlitedb.Classify(&err)
	e, err := scanEntry(s.get.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return quarantine.Entry{}, fmt.Errorf("entry %s: %w", id, quarantine.ErrNotFound)
	}
	if err != nil {
		return quarantine.Entry{}, fmt.Errorf("getting entry %s: %w", id, err)
	}
	return e, nil
}

// where returns the WHERE clause (with a leading space, "" for none) and
// its arguments selecting the entries f matches, its cursor included.
func where(f quarantine.Filter, cursor bool) (string, []any, error) {
	var (
		conds []string
		args  []any
	)
	eq := func(col, v string) {
		if v != "" {
			conds = append(conds, col+" = ?")
			args = append(args, v)
		}
	}
	eq("error_type", string(f.ErrorType))
	eq("error_field", f.Field)
	eq("source_topic", f.Topic)
	eq("subject", f.Subject)
	eq("status", string(f.Status))
	if !f.Since.IsZero() {
		conds = append(conds, "quarantined_at >= ?")
		args = append(args, quarantine.ClampNanos(f.Since))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "quarantined_at < ?")
		args = append(args, quarantine.ClampNanos(f.Until))
	}
	if cursor && f.Cursor != "" {
		qat, id, err := quarantine.DecodeCursor(f.Cursor)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, "(quarantined_at, id) < (?, ?)")
		args = append(args, qat, id)
	}
	if len(conds) == 0 {
		return "", args, nil
	}
	// conds holds only constant clauses with ? placeholders.
	return ` WHERE ` + strings.Join(conds, " AND "), args, nil
}

// List returns one page of entries matching f, newest first, by keyset
// pagination on (quarantined_at, id): a page costs the same however deep it
// is, and rows inserted while paging never shift later pages.
func (s *Store) List(ctx context.Context, f quarantine.Filter) (_ quarantine.Page, err error) {
	defer sqlitedb.Classify(&err)
	cond, args, err := where(f, true)
	if err != nil {
		return quarantine.Page{}, err
	}
	limit := f.EffectiveLimit()
	q := `SELECT ` + columns + ` FROM entries` + cond //nolint:gosec // no input is concatenated
	// One row more than the page tells whether there is a next page, so the
	// last page has no cursor and never leads to an empty one.
	q += ` ORDER BY quarantined_at DESC, id DESC LIMIT ?`
	args = append(args, limit+1)

	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return quarantine.Page{}, fmt.Errorf("listing entries: %w", err)
	}
	defer rows.Close() //nolint:errcheck // rows.Err is checked after the loop
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
func (s *Store) Count(ctx context.Context, f quarantine.Filter) (_ int64, err error) {
	defer sqlitedb.Classify(&err)
	cond, args, err := where(f, false)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM entries`+cond, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting entries: %w", err)
	}
	return n, nil
}

// CountByErrorType returns how many entries have each primary error type.
func (s *Store) CountByErrorType(ctx context.Context) (_ map[record.ErrorType]int64, err error) {
	defer sqlitedb.Classify(&err)
	rows, err := s.r.QueryContext(ctx, `SELECT error_type, COUNT(*) FROM entries GROUP BY error_type`)
	if err != nil {
		return nil, fmt.Errorf("counting entries by error type: %w", err)
	}
	defer rows.Close() //nolint:errcheck // rows.Err is checked after the loop
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
