package spool_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

func TestMetadataConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExerciseMetadata(t, func(t *testing.T) quarantine.MetadataStore {
		m := newMetadata(t, newPostgres(t, testbackend.Postgres(t)), t.TempDir())
		t.Cleanup(func() {
			require.NoError(t, m.Close())
			batches, _, _ := m.Depth()
			require.Zero(t, batches, "a healthy primary never spools")
		})
		return m
	})
}

var qat = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

// batch returns entries for offsets [from, to) of one partition.
func batch(from, to int64) []quarantine.Entry {
	var es []quarantine.Entry
	for o := from; o < to; o++ {
		es = append(es, quarantinetest.NewEntry("orders", 0, o, qat.Add(time.Duration(o)*time.Millisecond)))
	}
	return es
}

// requireExactlyOnce checks that the primary holds the entries of offsets
// [0, n) once each and nothing else.
func requireExactlyOnce(t *testing.T, s quarantine.MetadataStore, n int64) {
	t.Helper()
	ctx := context.Background()
	var got []string
	f := quarantine.Filter{Limit: quarantine.MaxLimit}
	for {
		page, err := s.List(ctx, f)
		require.NoError(t, err)
		for _, e := range page.Entries {
			got = append(got, e.ID)
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	var want []string
	for _, e := range batch(0, n) {
		want = append(want, e.ID)
		stored, err := s.Get(ctx, e.ID)
		require.NoError(t, err)
		require.Equal(t, e.SourceOffset, stored.SourceOffset)
	}
	slices.Sort(got)
	slices.Sort(want)
	require.Equal(t, want, got)
	counts, err := s.CountByErrorType(ctx)
	require.NoError(t, err)
	var total int64
	for _, c := range counts {
		total += c
	}
	require.Equal(t, n, total)
}

func TestMetadataRejectsInvalidWithoutSpooling(t *testing.T) {
	t.Parallel()
	m := newMetadata(t, newPostgres(t, testbackend.Postgres(t)), t.TempDir())
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	bad := batch(0, 2)
	bad[1].ID = ""
	require.Error(t, m.Insert(context.Background(), bad))
	batches, _, _ := m.Depth()
	require.Zero(t, batches)
}

// TestMetadataPostgresOutage: PostgreSQL stopped mid-stream; inserts are
// spooled, including a redelivered batch, and drained once it is back,
// every row exactly once.
func TestMetadataPostgresOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testbackend.NewPostgresServer(t)
	m := newMetadata(t, newPostgres(t, srv.NewSchema(t)), t.TempDir())
	t.Cleanup(func() { require.NoError(t, m.Close()) })

	require.NoError(t, m.Insert(ctx, batch(0, 10)))
	batches, _, _ := m.Depth()
	require.Zero(t, batches)

	require.NoError(t, srv.Stop())
	require.NoError(t, m.Insert(ctx, batch(10, 20)))
	require.NoError(t, m.Insert(ctx, batch(15, 30)), "a redelivered, overlapping batch")
	require.NoError(t, m.Insert(ctx, batch(30, 40)))
	batches, rows, bytes := m.Depth()
	require.Equal(t, int64(3), batches)
	require.Equal(t, int64(35), rows)
	require.Positive(t, bytes)

	// Concurrent writers while spooling: all durable, none lost.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range int64(8) {
		wg.Go(func() { errs <- m.Insert(ctx, batch(60+i*5, 65+i*5)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	batches, rows, bytes = m.Depth()
	require.Equal(t, int64(11), batches)
	require.Equal(t, int64(75), rows)
	require.Positive(t, bytes)

	// Invalid entries are still returned, not spooled.
	bad := batch(40, 41)
	bad[0].ID = ""
	require.Error(t, m.Insert(ctx, bad))

	require.NoError(t, srv.Start())
	// A spooled row is found by id before it is drained (not listed yet);
	// new batches queue behind.
	want := batch(35, 36)[0]
	got, err := m.Get(ctx, want.ID)
	require.NoError(t, err)
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.SourceOffset, got.SourceOffset)
	page, err := m.List(ctx, quarantine.Filter{Limit: quarantine.MaxLimit})
	require.NoError(t, err)
	require.NotContains(t, ids(page.Entries), want.ID, "listed only once drained")
	require.NoError(t, m.Insert(ctx, batch(40, 50)))
	batches, _, _ = m.Depth()
	require.Equal(t, int64(12), batches, "while the spool is not empty, new batches join it")

	drain(t, m.Run, m.Depth)
	batches, rows, bytes = m.Depth()
	require.Zero(t, batches+rows+bytes)
	require.NoError(t, m.Insert(ctx, batch(50, 60)))
	batches, _, _ = m.Depth()
	require.Zero(t, batches, "an empty spool sends writes to the primary again")
	requireExactlyOnce(t, m, 100)
}

// TestMetadataRestartAndTornTail: a process leaves a spool behind, its last
// file torn; the next one drains the intact batches and sets the torn one
// aside.
func TestMetadataRestartAndTornTail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testbackend.NewPostgresServer(t)
	url := srv.NewSchema(t)
	dir := t.TempDir()

	m1 := newMetadata(t, newPostgres(t, url), dir)
	require.NoError(t, srv.Stop())
	for i := int64(0); i < 4; i++ {
		require.NoError(t, m1.Insert(ctx, batch(i*10, i*10+10)))
	}
	require.NoError(t, m1.Close())

	files, err := filepath.Glob(filepath.Join(dir, "*.batch"))
	require.NoError(t, err)
	require.Len(t, files, 4)
	slices.Sort(files)
	last := files[len(files)-1]
	fi, err := os.Stat(last)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(last, fi.Size()/2))

	require.NoError(t, srv.Start())
	m2 := newMetadata(t, newPostgres(t, url), dir)
	t.Cleanup(func() { require.NoError(t, m2.Close()) })
	batches, rows, _ := m2.Depth()
	require.Equal(t, int64(4), batches)
	require.Equal(t, int64(30), rows, "the torn batch's rows are not counted")

	drain(t, m2.Run, m2.Depth)
	requireExactlyOnce(t, m2, 30)
	_, err = os.Stat(last + "~corrupt")
	require.NoError(t, err, "the torn file is kept for an operator")
	left, err := filepath.Glob(filepath.Join(dir, "*.batch"))
	require.NoError(t, err)
	require.Empty(t, left)
}

// TestMetadataRejectedRowsAndUnwritableSpool: a spooled batch holding a row
// the primary rejects drains its good rows and keeps the bad one aside; with
// the primary down and the spool unwritable, Insert fails, so the pipeline
// does not commit.
func TestMetadataRejectedRowsAndUnwritableSpool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testbackend.NewPostgresServer(t)
	dir := filepath.Join(t.TempDir(), "spool")
	m := newMetadata(t, newPostgres(t, srv.NewSchema(t)), dir)
	t.Cleanup(func() { require.NoError(t, m.Close()) })

	require.NoError(t, srv.Stop())
	mixed := batch(0, 4)
	mixed[2].QuarantinedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) // beyond what PostgreSQL stores
	require.Error(t, m.Insert(ctx, mixed), "the primary validates before it connects")
	require.NoError(t, m.Insert(ctx, batch(4, 6)))
	require.NoError(t, m.Insert(ctx, mixed), "spooled behind the first: the primary is not asked")
	require.NoError(t, srv.Start())
	drain(t, m.Run, m.Depth)
	for i, e := range mixed {
		_, err := m.Get(ctx, e.ID)
		if i == 2 {
			require.ErrorIs(t, err, quarantine.ErrNotFound)
		} else {
			require.NoError(t, err)
		}
	}
	rejected, err := filepath.Glob(filepath.Join(dir, "*.batch~rejected"))
	require.NoError(t, err)
	require.Len(t, rejected, 1, "the rejected row is kept for an operator")

	require.NoError(t, srv.Stop())
	makeUnwritable(t, dir)
	err = m.Insert(ctx, batch(10, 15))
	require.ErrorContains(t, err, "metadata spool")
	batches, _, _ := m.Depth()
	require.Zero(t, batches)
	require.NoError(t, srv.Start())
}

func TestMetadataDepthCountsRows(t *testing.T) {
	t.Parallel()
	// A format check without a server: a spool file from an earlier run is
	// counted on open.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d.batch", 7)), []byte("garbage"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "~00000000000000000008.batch123"), []byte("temp"), 0o600))
	m := newMetadata(t, newPostgres(t, testbackend.Postgres(t)), dir)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	batches, rows, bytes := m.Depth()
	require.Equal(t, []int64{1, 0, 7}, []int64{batches, rows, bytes})
	_, err := os.Stat(filepath.Join(dir, "~00000000000000000008.batch123"))
	require.ErrorIs(t, err, os.ErrNotExist, "temporaries of a crashed write are removed")
	require.True(t, m.Drain(context.Background()))
	_, err = os.Stat(filepath.Join(dir, fmt.Sprintf("%020d.batch~corrupt", 7)))
	require.NoError(t, err)
	// The next batch is numbered after the one found.
	require.NoError(t, m.Insert(context.Background(), batch(0, 1)))
}

func ids(entries []quarantine.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	return out
}
