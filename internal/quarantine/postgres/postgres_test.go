package postgres_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/migrate/migratetest"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/postgres"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

func TestMain(m *testing.M) {
	testbackend.Main(m, func() error { return goleak.Find() })
}

func newStore(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.New(context.Background(), postgres.Options{URL: url})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// connect opens a plain connection to url, for looking behind the store.
func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(ctx) })
	return conn
}

func TestConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExerciseMetadata(t, func(t *testing.T) quarantine.MetadataStore {
		return newStore(t, testbackend.Postgres(t))
	})
}

func TestLifecycleConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExerciseLifecycle(t, func(t *testing.T) (quarantinetest.ReprocessStore, audit.Log) {
		s := newStore(t, testbackend.Postgres(t))
		return s, s.AuditLog()
	})
}

func TestAuditConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExerciseAudit(t, func(t *testing.T) audit.Log {
		return newStore(t, testbackend.Postgres(t)).AuditLog()
	})
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, err := postgres.New(ctx, postgres.Options{})
	require.ErrorContains(t, err, "URL is required")

	for name, url := range map[string]string{
		"not a URL":        "postgres://dq:hunter2-secret@db:5432:99/dq",
		"bad escape":       "postgres://dq:hunter2%zz-secret@db/dq",
		"bad parameter":    "postgres://dq:hunter2-secret@db/dq?pool_max_conns=many",
		"bad sslmode":      "postgres://dq:hunter2-secret@db/dq?sslmode=sometimes",
		"keyword/value":    "host=db password=hunter2-secret port=notaport",
		"unknown protocol": "mysql://dq:hunter2-secret@db/dq",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := postgres.New(ctx, postgres.Options{URL: url})
			require.Error(t, err)
			require.NotContains(t, err.Error(), "hunter2", "the password is never in an error")
			require.Contains(t, err.Error(), "parsing the PostgreSQL URL")
		})
	}
}

// TestWrongPasswordNotInError: a refused login names neither the password
// nor the URL.
func TestWrongPasswordNotInError(t *testing.T) {
	t.Parallel()
	url := testbackend.Postgres(t)
	at := strings.Index(url, "@")
	colon := strings.LastIndex(url[:at], ":")
	bad := url[:colon+1] + "wrong-hunter2-password" + url[at:]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := postgres.New(ctx, postgres.Options{URL: bad})
	require.Error(t, err)
	require.Contains(t, err.Error(), "password authentication failed")
	require.NotContains(t, err.Error(), "hunter2")
	require.NotContains(t, err.Error(), url[colon+1:at], "nor the right one")
}

// TestReopen: rows written by one Store are there for the next, and
// migrations are applied once.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	base := time.Date(2026, 11, 3, 10, 0, 0, 1, time.UTC)
	var entries []quarantine.Entry
	for i := range 5 {
		entries = append(entries, quarantinetest.NewEntry("t", 1, int64(i), base.Add(time.Duration(i)*time.Second)))
	}

	s, err := postgres.New(ctx, postgres.Options{URL: url})
	require.NoError(t, err)
	require.NoError(t, s.Insert(ctx, entries))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")

	for range 2 {
		s, err := postgres.New(ctx, postgres.Options{URL: url})
		require.NoError(t, err)
		for _, e := range entries {
			got, err := s.Get(ctx, e.ID)
			require.NoError(t, err)
			require.Equal(t, e, got)
		}
		page, err := s.List(ctx, quarantine.Filter{})
		require.NoError(t, err)
		require.Len(t, page.Entries, len(entries))
		require.NoError(t, s.Insert(ctx, entries), "replay after restart")
		counts, err := s.CountByErrorType(ctx)
		require.NoError(t, err)
		require.Equal(t, map[record.ErrorType]int64{record.MissingField: 5}, counts)
		require.NoError(t, s.Close())
	}

	var versions []int64
	rows, err := connect(t, url).Query(ctx, `SELECT version_id FROM goose_db_version WHERE is_applied ORDER BY id`)
	require.NoError(t, err)
	versions, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Equal(t, []int64{0, 1, 2}, versions, "goose's base version, then each migration once")
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	require.NoError(t, postgres.Migrate(ctx, url))
	require.NoError(t, postgres.Migrate(ctx, url), "idempotent")
	var n int
	require.NoError(t, connect(t, url).QueryRow(ctx, `SELECT count(*) FROM quarantine_entries`).Scan(&n))
	require.Zero(t, n)
	newStore(t, url) // New on a migrated database

	err := postgres.Migrate(ctx, "postgres://dq:hunter2@[::1")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}

func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	require.NoError(t, postgres.Migrate(ctx, url))
	_, err := connect(t, url).Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, true)`)
	require.NoError(t, err)
	_, err = postgres.New(ctx, postgres.Options{URL: url})
	require.ErrorContains(t, err, "newer than this binary")
}

// TestConcurrentNew: processes (here Stores) starting at once on an empty
// database all migrate safely and see each other's rows.
func TestConcurrentNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	var (
		wg     sync.WaitGroup
		stores [4]*postgres.Store
		errs   [4]error
	)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = postgres.New(ctx, postgres.Options{URL: url, MaxConns: 2}) })
	}
	wg.Wait()
	for i := range stores {
		require.NoError(t, errs[i])
		t.Cleanup(func() { require.NoError(t, stores[i].Close()) })
	}
	e := quarantinetest.NewEntry("t", 0, 1, time.Now())
	require.NoError(t, stores[0].Insert(ctx, []quarantine.Entry{e}))
	for _, s := range stores[1:] {
		got, err := s.Get(ctx, e.ID)
		require.NoError(t, err)
		require.Equal(t, e.ID, got.ID)
	}
}

// partitionOf returns the partition table holding the row with id.
func partitionOf(t *testing.T, conn *pgx.Conn, id string) string {
	t.Helper()
	var p string
	require.NoError(t, conn.QueryRow(context.Background(),
		`SELECT tableoid::regclass::text FROM quarantine_entries WHERE id = $1`, id).Scan(&p))
	return p
}

func partitionNames(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT c.relname::text FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'quarantine_entries'::regclass ORDER BY 1`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

// TestPartitionsAhead: New creates yesterday's, today's and PartitionsAhead
// more days' partitions.
func TestPartitionsAhead(t *testing.T) {
	t.Parallel()
	url := testbackend.Postgres(t)
	s, err := postgres.New(context.Background(), postgres.Options{URL: url, PartitionsAhead: 3})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	var want []string
	today := time.Now().UTC()
	for d := -1; d <= 3; d++ {
		want = append(want, "quarantine_entries_p"+today.AddDate(0, 0, d).Format("20060102"))
	}
	got := partitionNames(t, connect(t, url))
	// A run across midnight may hold one day more.
	require.Subset(t, got, want[1:])
	require.LessOrEqual(t, len(got), len(want)+1)
}

// TestPartitionKey: a row lives in the partition of its record's timestamp
// day, however far in the past or future, created on demand; a row without
// a timestamp in its quarantine day's.
func TestPartitionKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	s := newStore(t, url)
	conn := connect(t, url)
	now := time.Now().UTC()
	cases := []struct {
		name     string
		ts, qat  time.Time
		wantPart string
	}{
		{"today", now.Add(-time.Minute), now, now.Add(-time.Minute).Format("20060102")},
		{"long ago, quarantined then", time.Date(1990, 1, 2, 23, 59, 59, 999999999, time.UTC), time.Date(1990, 1, 3, 1, 0, 0, 0, time.UTC), "19900102"},
		{"before the epoch", time.Date(1969, 12, 31, 12, 0, 0, 0, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "19691231"},
		{"a year and a day old", now.Add(-366 * 24 * time.Hour), now, now.Add(-366 * 24 * time.Hour).Format("20060102")},
		// A producer's far dates file under the window's edges, so a flood
		// of random dates cannot create thousands of partitions.
		{"far past", time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC), now, now.Add(-400 * 24 * time.Hour).Format("20060102")},
		{"far future", time.Date(2200, 6, 15, 0, 0, 0, 0, time.UTC), now, now.Add(2 * 24 * time.Hour).Format("20060102")},
		{"local time zone", time.Date(2030, 1, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600)), time.Date(2030, 1, 1, 0, 30, 0, 0, time.UTC), "20300101"},
		{"west of UTC", time.Date(2030, 1, 1, 23, 0, 0, 0, time.FixedZone("X", -3600)), time.Date(2030, 1, 2, 0, 30, 0, 0, time.UTC), "20300102"},
		{"no timestamp", time.Time{}, time.Date(2011, 3, 4, 5, 6, 7, 8, time.UTC), "20110304"},
	}
	for i, tc := range cases {
		e := quarantinetest.NewEntry("t", 0, int64(i), tc.qat)
		e.Timestamp = tc.ts
		require.NoError(t, s.Insert(ctx, []quarantine.Entry{e}), tc.name)
		require.Equal(t, "quarantine_entries_p"+tc.wantPart, partitionOf(t, conn, e.ID), tc.name)
		got, err := s.Get(ctx, e.ID)
		require.NoError(t, err)
		require.True(t, tc.ts.Equal(got.Timestamp), tc.name)
	}

	// One batch spanning several new days.
	var batch []quarantine.Entry
	for d := range 5 {
		e := quarantinetest.NewEntry("batch", 0, int64(d), time.Date(1995, 5, 6, 0, 0, 0, 0, time.UTC))
		e.Timestamp = time.Date(1995, 5, 1+d, 12, 0, 0, 0, time.UTC)
		batch = append(batch, e)
	}
	require.NoError(t, s.Insert(ctx, batch))
	for d, e := range batch {
		require.Equal(t, fmt.Sprintf("quarantine_entries_p199505%02d", 1+d), partitionOf(t, conn, e.ID))
	}
}

// A flood of records dated across two centuries, before and after the
// window around their quarantine time, creates at most the window's two
// edge partitions (the upper one usually exists already).
func TestHostileTimestampsCreateFewPartitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	s := newStore(t, url)
	conn := connect(t, url)
	before := len(partitionNames(t, conn))
	now := time.Now().UTC()
	var batch []quarantine.Entry
	for i := range 500 {
		e := quarantinetest.NewEntry("flood", 0, int64(i), now)
		year := 1900 + i%100
		if i%2 == 1 {
			year += 200
		}
		e.Timestamp = time.Date(year, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
		batch = append(batch, e)
	}
	require.NoError(t, s.Insert(ctx, batch))
	created := len(partitionNames(t, conn)) - before
	require.LessOrEqual(t, created, 2, "partitions created for 500 records dated 1900-2000 and 2100-2200")
	page, err := s.List(ctx, quarantine.Filter{Topic: "flood", Limit: quarantine.MaxLimit})
	require.NoError(t, err)
	require.Len(t, page.Entries, 500)
}

// TestRedeliveryAcrossMidnight is why the partition key is the record's
// timestamp: a record redelivered the next day (a later QuarantinedAt, in
// another day) is still stored once.
func TestRedeliveryAcrossMidnight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	s := newStore(t, url)
	first := quarantinetest.NewEntry("t", 0, 1, time.Date(2026, 11, 3, 23, 59, 59, 0, time.UTC))
	again := first
	again.QuarantinedAt = time.Date(2026, 11, 4, 0, 0, 1, 0, time.UTC)
	again.Status = quarantine.StatusDiscarded
	require.NoError(t, s.Insert(ctx, []quarantine.Entry{first}))
	// A second process (its own Store) inserts the redelivery.
	s2 := newStore(t, url)
	require.NoError(t, s2.Insert(ctx, []quarantine.Entry{again}))
	var n int
	require.NoError(t, connect(t, url).QueryRow(ctx, `SELECT count(*) FROM quarantine_entries WHERE id = $1`, first.ID).Scan(&n))
	require.Equal(t, 1, n)
	got, err := s.Get(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, first, got)
}

// TestPartitionDroppedElsewhere: a partition this Store knows of, dropped by
// another (retention in another process), is created again on insert.
func TestPartitionDroppedElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	a, b := newStore(t, url), newStore(t, url)
	day := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	e1 := quarantinetest.NewEntry("t", 0, 1, day)
	require.NoError(t, a.Insert(ctx, []quarantine.Entry{e1}))
	n, err := b.DropPartitionsBefore(ctx, day.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = a.Get(ctx, e1.ID)
	require.ErrorIs(t, err, quarantine.ErrNotFound)

	e2 := quarantinetest.NewEntry("t", 0, 2, day)
	require.NoError(t, a.Insert(ctx, []quarantine.Entry{e2}), "a believes the partition exists")
	got, err := a.Get(ctx, e2.ID)
	require.NoError(t, err)
	require.Equal(t, e2, got)
}

func TestDropPartitionsBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	s := newStore(t, url)
	conn := connect(t, url)
	day := func(d int) time.Time { return time.Date(2001, 1, d, 12, 0, 0, 0, time.UTC) }
	var entries []quarantine.Entry
	for d := 1; d <= 4; d++ {
		for i := range 3 {
			entries = append(entries, quarantinetest.NewEntry("t", 0, int64(d*10+i), day(d)))
		}
	}
	require.NoError(t, s.Insert(ctx, entries))
	before := partitionNames(t, conn)

	// Noon on the 3rd: the partitions of the 1st and 2nd end before it; the
	// 3rd's holds rows before noon and is kept whole.
	n, err := s.DropPartitionsBefore(ctx, day(3))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	after := partitionNames(t, conn)
	require.Equal(t, []string{"quarantine_entries_p20010101", "quarantine_entries_p20010102"}, diff(before, after))
	for _, e := range entries {
		_, err := s.Get(ctx, e.ID)
		if e.QuarantinedAt.Before(day(3).Add(-12 * time.Hour)) {
			require.ErrorIs(t, err, quarantine.ErrNotFound)
		} else {
			require.NoError(t, err)
		}
	}
	counts, err := s.CountByErrorType(ctx)
	require.NoError(t, err)
	require.Equal(t, map[record.ErrorType]int64{record.MissingField: 6}, counts)

	n, err = s.DropPartitionsBefore(ctx, day(3))
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to drop")

	// A late record for a dropped day brings its partition back.
	late := quarantinetest.NewEntry("t", 0, 99, day(1))
	require.NoError(t, s.Insert(ctx, []quarantine.Entry{late}))
	require.Equal(t, "quarantine_entries_p20010101", partitionOf(t, conn, late.ID))

	// The partitions made ahead of time (today's and later) are kept.
	n, err = s.DropPartitionsBefore(ctx, time.Now().AddDate(0, 0, -2))
	require.NoError(t, err)
	require.Equal(t, 3, n)
	for _, p := range partitionNames(t, conn) {
		require.GreaterOrEqual(t, p, "quarantine_entries_p"+time.Now().UTC().AddDate(0, 0, -2).Format("20060102"))
	}
}

func diff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestConcurrentSameIDs: two writers inserting the same ids at the same
// time, in different orders and batchings, store each exactly once.
func TestConcurrentSameIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	a, b := newStore(t, url), newStore(t, url)
	const n = 2000
	base := time.Now()
	entries := make([]quarantine.Entry, n)
	for i := range entries {
		// Spread over three days, so batches span partitions.
		entries[i] = quarantinetest.NewEntry("t", int32(i%4), int64(i), base.Add(time.Duration(i%3)*24*time.Hour))
	}
	reversed := slices.Clone(entries)
	slices.Reverse(reversed)

	for round := range 3 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		write := func(s *postgres.Store, es []quarantine.Entry, size int, errp *error) {
			for i := 0; i < len(es); i += size {
				if err := s.Insert(ctx, es[i:min(i+size, len(es))]); err != nil {
					*errp = err
					return
				}
			}
		}
		wg.Go(func() { write(a, entries, 100+round*50, &errs[0]) })
		wg.Go(func() { write(b, reversed, 333, &errs[1]) })
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
	}
	var rows, distinct int
	require.NoError(t, connect(t, url).QueryRow(ctx, `SELECT count(*), count(DISTINCT id) FROM quarantine_entries`).Scan(&rows, &distinct))
	require.Equal(t, n, rows)
	require.Equal(t, n, distinct)
}

// TestHostileStrings: an error field or message built from a hostile
// payload (NUL, invalid UTF-8) is stored, read and filtered on exactly.
func TestHostileStrings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, testbackend.Postgres(t))
	base := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	fields := []string{"/a\x00b", "/\xff\xfe", "/x\\y", "/'; DROP TABLE quarantine_entries; --", ""}
	var entries []quarantine.Entry
	for i, f := range fields {
		e := quarantinetest.NewEntry("t", 0, int64(i), base)
		e.ErrorField = f
		e.Errors = []record.Violation{{Type: record.MissingField, Field: "/a\x00b", Message: "nul \x00 inside"}}
		entries = append(entries, e)
	}
	require.NoError(t, s.Insert(ctx, entries))
	for _, e := range entries {
		got, err := s.Get(ctx, e.ID)
		require.NoError(t, err)
		require.Equal(t, e, got)
		page, err := s.List(ctx, quarantine.Filter{Field: e.ErrorField})
		require.NoError(t, err)
		if e.ErrorField == "" {
			require.Len(t, page.Entries, len(entries), "an empty Field does not filter")
			continue
		}
		require.Len(t, page.Entries, 1, "field %q", e.ErrorField)
		require.Equal(t, e.ID, page.Entries[0].ID)
	}
}

func TestBadCursorContents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, testbackend.Postgres(t))
	// Well-formed base64 of version 1 and a time, but an id no store issues.
	for _, id := range []string{"a\x00b", "\xff"} {
		raw := append([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1}, id...)
		_, err := s.List(ctx, quarantine.Filter{Cursor: base64.RawURLEncoding.EncodeToString(raw)})
		require.ErrorIs(t, err, quarantine.ErrBadCursor)
	}
}

func TestPoolStats(t *testing.T) {
	t.Parallel()
	url := testbackend.Postgres(t)
	s := newStore(t, url)
	active, maxConns := s.PoolStats()
	require.Equal(t, int32(8), maxConns, "the default")
	require.Zero(t, active, "nothing in use between calls")

	s3, err := postgres.New(context.Background(), postgres.Options{URL: url + "&pool_max_conns=20", MaxConns: 3})
	require.NoError(t, err)
	defer s3.Close()
	_, maxConns = s3.PoolStats()
	require.Equal(t, int32(3), maxConns, "MaxConns overrides the URL")
}

// TestQueryPlans: with a table of realistic size, every filter of List is
// an index scan per partition, merged in order, with no sort and no
// sequential scan, and Get is a primary key lookup.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	s := newStore(t, url)
	// The rows (30,000, 5 s apart: 41.7 hours) fill two whole days'
	// partitions, from 01:00 three days ago, whatever the time now: a
	// partition holding a few rows at the end would rightly be scanned
	// sequentially (the test failed so at 06:22 UTC, when 40 rows fell
	// into today's).
	base := time.Now().UTC().Truncate(24 * time.Hour).Add(-71 * time.Hour)
	types := []record.ErrorType{record.MissingField, record.TypeMismatch, record.PatternMismatch, record.ParseError}
	topics := []string{"topic-0", "topic-1", "topic-2", "topic-3"}
	batch := make([]quarantine.Entry, 1000)
	for n := range 30 {
		for i := range batch {
			off := int64(n*len(batch) + i)
			e := quarantinetest.NewEntry(topics[min(off%100, 3)], int32(off%3), off, base.Add(time.Duration(off)*5*time.Second))
			// The values filtered on below are rare (1%), as a filter
			// that is worth an index makes them; common ones may rightly
			// walk the time index instead.
			e.ErrorType = types[min(off%100, 3)]
			e.ErrorField = fmt.Sprintf("/f%d", off%100)
			e.Subject = fmt.Sprintf("subject-%d", off%100)
			e.Status = quarantine.Statuses[min(off%100, 3)]
			batch[i] = e
		}
		require.NoError(t, s.Insert(ctx, batch))
	}
	conn := connect(t, url)
	_, err := conn.Exec(ctx, `ANALYZE quarantine_entries`)
	require.NoError(t, err)

	const keyset = `(quarantined_at, id) < ($2, $3) ORDER BY quarantined_at DESC, id DESC LIMIT 51`
	cursorAt := base.Add(100 * time.Hour).UnixNano()
	cases := []struct {
		name, where string
		arg         any
		index       string
	}{
		{"error type", `error_type = $1`, "MISSING_FIELD", "error_type_quarantined_at_id_idx"},
		{"field", `error_field = $1`, []byte("/f7"), "error_field_quarantined_at_id_idx"},
		{"topic", `source_topic = $1`, "topic-0", "source_topic_quarantined_at_id_idx"},
		{"subject", `subject = $1`, "subject-2", "subject_quarantined_at_id_idx"},
		{"status", `status = $1`, "quarantined", "status_quarantined_at_id_idx"},
		{"since", `quarantined_at >= $1`, base.Add(time.Hour).UnixNano(), "_quarantined_at_id_idx"},
	}
	for _, tc := range cases {
		plan := explain(t, conn, `SELECT * FROM quarantine_entries WHERE `+tc.where+` AND `+keyset, tc.arg, cursorAt, "id")
		requireIndexOnly(t, plan, tc.name)
		for line := range strings.SplitSeq(plan, "\n") {
			if strings.Contains(line, "Index Scan") {
				require.Contains(t, line, tc.index, "%s:\n%s", tc.name, plan)
			}
		}
	}
	plan := explain(t, conn, `SELECT * FROM quarantine_entries WHERE (quarantined_at, id) < ($1, $2)
		ORDER BY quarantined_at DESC, id DESC LIMIT 51`, cursorAt, "id")
	require.Contains(t, plan, "_quarantined_at_id_idx", plan)
	requireIndexOnly(t, plan, "unfiltered")

	e := batch[0]
	plan = explain(t, conn, `SELECT * FROM quarantine_entries WHERE id = $1 ORDER BY quarantined_at LIMIT 1`, e.ID)
	require.Contains(t, plan, "_pkey", plan)
	requireNoSeqScan(t, plan, "get")
}

// requireNoSeqScan fails if plan scans a table sequentially, except an
// empty one (a partition ahead of time), which costs nothing either way.
func requireNoSeqScan(t *testing.T, plan, name string) {
	t.Helper()
	for line := range strings.SplitSeq(plan, "\n") {
		if strings.Contains(line, "Seq Scan") || strings.Contains(line, "Bitmap") {
			require.Contains(t, line, "(cost=0.00..0.00 ", "%s scans a table:\n%s", name, plan)
		}
	}
}

func explain(t *testing.T, conn *pgx.Conn, q string, args ...any) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `EXPLAIN `+q, args...)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return strings.Join(lines, "\n")
}

// requireIndexOnly fails unless every scan in plan is an index scan and
// nothing is sorted (Merge Append's "Sort Key" merges sorted inputs).
func requireIndexOnly(t *testing.T, plan, name string) {
	t.Helper()
	requireNoSeqScan(t, plan, name)
	for line := range strings.SplitSeq(plan, "\n") {
		l := strings.TrimLeft(line, " ->")
		require.False(t, strings.HasPrefix(l, "Sort  (") || strings.HasPrefix(l, "Incremental Sort  ("), "%s sorts:\n%s", name, plan)
	}
}

// TestEarlierReleaseDatabase: a database made by an earlier release, its
// version table as that release's runner left it, opens with its rows.
func TestEarlierReleaseDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	dump, err := os.ReadFile("testdata/earlier_release.sql")
	require.NoError(t, err)
	_, err = connect(t, url).Exec(ctx, string(dump))
	require.NoError(t, err)

	s := newStore(t, url)
	quarantinetest.CheckEarlierRelease(t, s, s.AuditLog())
	rows, err := connect(t, url).Query(ctx, `SELECT version_id FROM goose_db_version WHERE is_applied ORDER BY id`)
	require.NoError(t, err)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Equal(t, []int64{0, 1, 2}, versions, "the release's history, then each new migration once")
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	migratetest.Exercise(t, postgres.Migrations(), func(t *testing.T) func() *sql.DB {
		url := testbackend.Postgres(t)
		return func() *sql.DB {
			db, err := sql.Open("pgx", url)
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, db.Close()) })
			return db
		}
	})
}
