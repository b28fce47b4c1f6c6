package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.New(sqlite.Options{Path: path})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExerciseMetadata(t, func(t *testing.T) quarantine.MetadataStore {
		return newStore(t, filepath.Join(t.TempDir(), "meta.db"))
	})
}

func TestLifecycleConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExerciseLifecycle(t, func(t *testing.T) (quarantinetest.ReprocessStore, audit.Log) {
		s := newStore(t, filepath.Join(t.TempDir(), "meta.db"))
		return s, s.AuditLog()
	})
}

func TestAuditConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExerciseAudit(t, func(t *testing.T) audit.Log {
		return newStore(t, filepath.Join(t.TempDir(), "meta.db")).AuditLog()
	})
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:", "file:x.db", "a?b.db"} {
		_, err := sqlite.New(sqlite.Options{Path: path})
		require.Error(t, err, "path %q", path)
	}
	_, err := sqlite.New(sqlite.Options{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")})
	require.Error(t, err)
}

// TestReopen checks durability across restarts: rows written by one Store
// are there for the next, and migrations are not applied twice.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	base := time.Date(2026, 11, 3, 10, 0, 0, 1, time.UTC)
	var entries []quarantine.Entry
	for i := range 5 {
		entries = append(entries, quarantinetest.NewEntry("t", 1, int64(i), base.Add(time.Duration(i)*time.Second)))
	}

	s, err := sqlite.New(sqlite.Options{Path: path})
	require.NoError(t, err)
	require.NoError(t, s.Insert(ctx, entries))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")

	for range 2 {
		s, err := sqlite.New(sqlite.Options{Path: path})
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

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var versions, journal string
	require.NoError(t, db.QueryRow(`SELECT group_concat(version || ':' || name, ',') FROM schema_version`).Scan(&versions))
	require.Equal(t, "1:0001_entries,2:0002_reprocessing", versions)
	require.NoError(t, db.QueryRow(`PRAGMA journal_mode`).Scan(&journal))
	require.Equal(t, "wal", journal)
}

func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "meta.db")
	s := newStore(t, path)
	require.NoError(t, s.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 0)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = sqlite.New(sqlite.Options{Path: path})
	require.ErrorContains(t, err, "newer than this binary")
}

// TestStoresShareFile: processes (here Stores) opening one new file at the
// same moment all migrate safely and see each other's rows.
func TestStoresShareFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	var (
		wg     sync.WaitGroup
		stores [4]*sqlite.Store
		errs   [4]error
	)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = sqlite.New(sqlite.Options{Path: path}) })
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

func TestQueryPlans(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "meta.db")
	newStore(t, path)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	// Every filtered page is an index scan with no sort step.
	for col, index := range map[string]string{
		"error_type": "entries_by_error_type", "error_field": "entries_by_field",
		"source_topic": "entries_by_topic", "subject": "entries_by_subject", "status": "entries_by_status",
	} {
		plan := queryPlan(t, db, `SELECT * FROM entries WHERE `+col+` = ? AND (quarantined_at, id) < (?, ?)
			ORDER BY quarantined_at DESC, id DESC LIMIT 51`, "x", 1, "id")
		require.Contains(t, plan, index, col)
		require.NotContains(t, plan, "TEMP B-TREE", col)
	}
	plan := queryPlan(t, db, `SELECT * FROM entries WHERE quarantined_at >= ? AND (quarantined_at, id) < (?, ?)
		ORDER BY quarantined_at DESC, id DESC LIMIT 51`, 0, 1, "id")
	require.Contains(t, plan, "entries_by_time")
	require.NotContains(t, plan, "TEMP B-TREE")
}

func queryPlan(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+q, args...)
	require.NoError(t, err)
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
		plan += detail + "\n"
	}
	require.NoError(t, rows.Err())
	return plan
}

// BenchmarkInsert measures Insert of distinct batches into a growing table;
// rows/s is the figure that matters. Building the entries is not timed.
func BenchmarkInsert(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			ctx := context.Background()
			s := newStore(b, filepath.Join(b.TempDir(), "meta.db"))
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

func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, filepath.Join(b.TempDir(), "meta.db"))
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
