package spool_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/spool"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/retry"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// newDeferred opens a deferred spool over primary in dir; opts, when
// given, adjust its options first.
func newDeferred(t *testing.T, primary quarantine.MetadataStore, dir string, maxRows int64, opts ...func(*spool.MetadataOptions)) *spool.Metadata {
	t.Helper()
	o := spool.MetadataOptions{
		Primary: primary, Dir: dir, Timeout: testTimeout, SyncInterval: time.Hour, // only the wake-up drains
		Deferred: true, MaxDeferredRows: maxRows, Logger: testLogger(t),
	}
	for _, opt := range opts {
		opt(&o)
	}
	m, err := spool.NewMetadata(o)
	require.NoError(t, err)
	return m
}

// runSyncer runs m's syncer in the background; stop ends it and requires
// that it ended cleanly.
func runSyncer(t *testing.T, m *spool.Metadata) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		require.NoError(t, <-done)
	}
}

// waitDrained waits until m holds no spooled rows.
func waitDrained(t *testing.T, m *spool.Metadata, what string) {
	t.Helper()
	testwait.For(t, time.Minute, what, func() error {
		if _, rows, _ := m.Depth(); rows != 0 {
			return fmt.Errorf("%d rows spooled", rows)
		}
		return nil
	})
}

func newSQLite(t *testing.T, dir string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "dq.db")})
	require.NoError(t, err)
	return s
}

// The deferred spool is a MetadataStore like any other once drained.
func TestDeferredConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExerciseMetadata(t, func(t *testing.T) quarantine.MetadataStore {
		dir := t.TempDir()
		m, err := spool.NewMetadata(spool.MetadataOptions{
			Primary: newSQLite(t, dir), Dir: filepath.Join(dir, "spool"), Deferred: true, Logger: testLogger(t),
		})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, m.Close()) })
		return listAfterDrain{m}
	})
}

// listAfterDrain drains the spool before each read, so a conformance
// suite written for synchronous stores reads what it wrote.
type listAfterDrain struct{ *spool.Metadata }

func (l listAfterDrain) List(ctx context.Context, f quarantine.Filter) (quarantine.Page, error) {
	l.Drain(ctx)
	return l.Metadata.List(ctx, f)
}

func (l listAfterDrain) CountByErrorType(ctx context.Context) (map[record.ErrorType]int64, error) {
	l.Drain(ctx)
	return l.Metadata.CountByErrorType(ctx)
}

// With Deferred, Insert only makes the rows durable in the spool; the
// syncer indexes them into the primary as soon as it is woken. Before that
// a row is found by id, and after it listed.
func TestDeferredWritesAheadAndDrainsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	primary := newSQLite(t, dir)
	m := newDeferred(t, primary, filepath.Join(dir, "spool"), 0)
	defer m.Close()

	require.NoError(t, m.Insert(ctx, batch(0, 10)))
	_, rows, _ := m.Depth()
	require.Equal(t, int64(10), rows, "spooled, not yet indexed")
	page, err := primary.List(ctx, quarantine.Filter{})
	require.NoError(t, err)
	require.Empty(t, page.Entries)
	got, err := m.Get(ctx, batch(3, 4)[0].ID)
	require.NoError(t, err, "a spooled row is found by id")
	require.Equal(t, int64(3), got.SourceOffset)

	stop := runSyncer(t, m)
	require.NoError(t, m.Insert(ctx, batch(10, 20)))
	waitDrained(t, m, "the spool drained, woken by the inserts, not by the hourly tick")
	stop()
	requireExactlyOnce(t, primary, 20)
}

// countingPrimary counts the primary's Insert calls (its transactions);
// while down, each fails as an outage.
type countingPrimary struct {
	quarantine.MetadataStore
	inserts atomic.Int64
	down    atomic.Bool
}

func (c *countingPrimary) Insert(ctx context.Context, entries []quarantine.Entry) error {
	c.inserts.Add(1)
	if c.down.Load() {
		return retry.Unavailable(errors.New("primary down"))
	}
	return c.MetadataStore.Insert(ctx, entries)
}

// While the primary is down a drain makes one attempt and stops (not a
// merge, then the oldest batch alone); once it is back, one merged insert
// takes every batch.
func TestDeferredDrainStopsWhileThePrimaryIsDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	sq := newSQLite(t, dir)
	primary := &countingPrimary{MetadataStore: sq}
	m := newDeferred(t, primary, filepath.Join(dir, "spool"), 0)
	defer m.Close()
	for i := range int64(3) {
		require.NoError(t, m.Insert(ctx, batch(i*10, i*10+10)))
	}
	primary.down.Store(true)
	require.False(t, m.Drain(ctx))
	require.Equal(t, int64(1), primary.inserts.Load(), "one attempt per drain while down")
	_, rows, _ := m.Depth()
	require.Equal(t, int64(30), rows, "nothing lost")

	primary.down.Store(false)
	require.True(t, m.Drain(ctx))
	require.Equal(t, int64(2), primary.inserts.Load(), "then one merged insert")
	requireExactlyOnce(t, sq, 30)
}

// At a steady rate the syncer lets spooled batches gather for the
// IndexDelay, so they reach the primary in one Insert (one SQLite commit,
// one fsync), not one each; a spool holding a full merge's rows is drained
// without waiting.
func TestDeferredGathersBatchesIntoOneInsert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	sq := newSQLite(t, dir)
	primary := &countingPrimary{MetadataStore: sq}
	m := newDeferred(t, primary, filepath.Join(dir, "spool"), 0, func(o *spool.MetadataOptions) {
		o.IndexDelay = time.Hour
		// The merged insert of 5,000 rows can take over testTimeout under
		// -race on a loaded machine; timed out, the drain would wait for
		// the hourly tick and never come back within the test.
		o.Timeout = time.Minute
	})
	defer m.Close()
	stop := runSyncer(t, m)

	for i := range int64(10) {
		require.NoError(t, m.Insert(ctx, batch(i*10, i*10+10)))
	}
	require.Zero(t, primary.inserts.Load(), "an hour's delay: nothing indexed yet")
	require.NoError(t, m.Insert(ctx, batch(100, 5000)), "the spool now holds a full merge")
	waitDrained(t, m, "the gathered batches drained")
	stop()
	require.Equal(t, int64(1), primary.inserts.Load(), "eleven batches, one insert")
	requireExactlyOnce(t, sq, 5000)
}

// A deferred spool holding MaxDeferredRows makes Insert wait for the
// syncer (back-pressure); the wait ends when a batch drains, or with the
// caller's context.
func TestDeferredBackPressure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	primary := newSQLite(t, dir)
	m := newDeferred(t, primary, filepath.Join(dir, "spool"), 10)
	defer m.Close()
	require.NoError(t, m.Insert(ctx, batch(0, 10)))

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, m.Insert(short, batch(10, 20)), context.DeadlineExceeded, "full: the insert waits")

	inserted := make(chan error, 1)
	go func() { inserted <- m.Insert(ctx, batch(10, 20)) }()
	require.True(t, m.Drain(ctx))
	require.NoError(t, <-inserted, "room made: the waiting insert goes through")
	require.True(t, m.Drain(ctx))
	requireExactlyOnce(t, primary, 20)
}

// A crash between the spool write and the index leaves rows in the spool;
// the next process drains them.
func TestDeferredRowsSurviveARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	m := newDeferred(t, newSQLite(t, dir), filepath.Join(dir, "spool"), 0)
	require.NoError(t, m.Insert(ctx, batch(0, 5)))
	require.NoError(t, m.Close()) // never drained

	primary := newSQLite(t, dir)
	m = newDeferred(t, primary, filepath.Join(dir, "spool"), 0)
	defer m.Close()
	_, rows, _ := m.Depth()
	require.Equal(t, int64(5), rows)
	require.True(t, m.Drain(ctx))
	requireExactlyOnce(t, primary, 5)
}

// A backlog of spooled batches drains in merged inserts, and a damaged
// batch among them is set aside while the others reach the primary.
func TestDeferredDrainMergesBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	sq := newSQLite(t, dir)
	primary := &countingPrimary{MetadataStore: sq}
	spoolDir := filepath.Join(dir, "spool")
	m := newDeferred(t, primary, spoolDir, 0)
	defer m.Close()
	for i := range int64(6) {
		require.NoError(t, m.Insert(ctx, batch(i*10, i*10+10)))
	}
	names, err := filepath.Glob(filepath.Join(spoolDir, "*.batch"))
	require.NoError(t, err)
	require.Len(t, names, 6)
	require.NoError(t, os.WriteFile(names[3], []byte("damaged"), 0o600))

	require.True(t, m.Drain(ctx))
	set, err := filepath.Glob(filepath.Join(spoolDir, "*~corrupt"))
	require.NoError(t, err)
	require.Len(t, set, 1, "the damaged batch is set aside")
	require.Equal(t, int64(1), primary.inserts.Load(), "the five others in one insert")
	page, err := sq.List(ctx, quarantine.Filter{Limit: quarantine.MaxLimit})
	require.NoError(t, err)
	require.Len(t, page.Entries, 50, "every other batch reached the primary")
}

// orderedPrimary records the offsets of the rows it is given, in order.
type orderedPrimary struct {
	quarantine.MetadataStore
	mu      sync.Mutex
	offsets []int64
}

func (o *orderedPrimary) Insert(ctx context.Context, entries []quarantine.Entry) error {
	o.mu.Lock()
	for i := range entries {
		o.offsets = append(o.offsets, entries[i].SourceOffset)
	}
	o.mu.Unlock()
	return o.MetadataStore.Insert(ctx, entries)
}

// Writers spooling at once (the pipeline and a DLQ import) write their
// files side by side: every row arrives once, and each writer's batches
// reach the primary in the order it wrote them.
func TestDeferredConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	primary := &orderedPrimary{MetadataStore: newSQLite(t, dir)}
	m := newDeferred(t, primary, filepath.Join(dir, "spool"), 0)
	defer m.Close()
	const writers, batches, size = 4, 25, 10
	var wg sync.WaitGroup
	for w := range int64(writers) {
		wg.Go(func() {
			for b := range int64(batches) {
				from := (b*writers + w) * size // writer w's batches: every writers-th block of offsets
				if err := m.Insert(ctx, batch(from, from+size)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	require.True(t, m.Drain(ctx))
	requireExactlyOnce(t, primary, writers*batches*size)
	last := map[int64]int64{}
	for _, off := range primary.offsets {
		w := off / size % writers
		if prev, ok := last[w]; ok {
			require.Greater(t, off, prev, "writer %d's rows out of order", w)
		}
		last[w] = off
	}
}

// refusingPrimary refuses, as a bad row (not an outage), any Insert
// holding the row at offset bad.
type refusingPrimary struct {
	quarantine.MetadataStore
	bad int64
}

func (r *refusingPrimary) Insert(ctx context.Context, entries []quarantine.Entry) error {
	for i := range entries {
		if entries[i].SourceOffset == r.bad {
			return errors.New("row refused")
		}
	}
	return r.MetadataStore.Insert(ctx, entries)
}

// A merge holding a damaged batch and a row the primary refuses: the
// damaged batch is set aside, the merge is refused, and the drain goes on
// one batch at a time past the one set aside, salvaging the good rows.
func TestDeferredDrainAfterARefusedMergeSkipsTheBatchSetAside(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	sq := newSQLite(t, dir)
	spoolDir := filepath.Join(dir, "spool")
	m := newDeferred(t, &refusingPrimary{MetadataStore: sq, bad: 25}, spoolDir, 0)
	defer m.Close()
	for i := range int64(3) {
		require.NoError(t, m.Insert(ctx, batch(i*10, i*10+10)))
	}
	names, err := filepath.Glob(filepath.Join(spoolDir, "*.batch"))
	require.NoError(t, err)
	require.Len(t, names, 3)
	require.NoError(t, os.WriteFile(names[1], []byte("damaged"), 0o600))

	require.True(t, m.Drain(ctx), "one drain empties the spool")
	for _, suffix := range []string{"~corrupt", "~rejected"} {
		set, err := filepath.Glob(filepath.Join(spoolDir, "*"+suffix))
		require.NoError(t, err)
		require.Len(t, set, 1, suffix)
	}
	page, err := sq.List(ctx, quarantine.Filter{Limit: quarantine.MaxLimit})
	require.NoError(t, err)
	require.Len(t, page.Entries, 19, "the first batch, and the third less its refused row")
}
