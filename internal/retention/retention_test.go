package retention_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/postgres"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/s3"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/retention"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

func TestMain(m *testing.M) { testbackend.Main(m, func() error { return goleak.Find() }) }

type stores struct {
	meta     quarantinetest.RetentionStore
	payloads quarantinetest.RetentionPayloadStore
	// segments is the clock the payload store stamps segments with.
	segments quarantinetest.SegmentClock
}

// syncBuffer is a log destination safe for the job's goroutine and the test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The job purges exactly the rows and segments older than max_age from the
// real stores (SQLite and files; PostgreSQL and MinIO), logs one line with
// the counts and counts them in retention_purged_total.
func TestPurgesBothStores(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T) stores{
		"sqlite+fs": func(t *testing.T) stores {
			m, err := sqlite.New(sqlite.Options{Path: filepath.Join(t.TempDir(), "dq.db")})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, m.Close()) })
			clock := quarantinetest.NewStubClock(time.Now())
			p, err := fs.New(fs.Options{Dir: t.TempDir(), Now: clock.Time})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, p.Close()) })
			return stores{m, p, clock}
		},
		"postgres+s3": func(t *testing.T) stores {
			m, err := postgres.New(context.Background(), postgres.Options{URL: testbackend.Postgres(t)})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, m.Close()) })
			b := testbackend.S3(t)
			p, err := s3.New(context.Background(), s3.Options{
				Endpoint: b.Endpoint, Bucket: b.Bucket, AccessKey: b.AccessKey, SecretKey: b.SecretKey,
				Secure: b.Secure, Region: b.Region,
			})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, p.Close()) })
			return stores{m, p, b.ServerClock(t)}
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := open(t)
			const maxAge = 30 * 24 * time.Hour

			// Segments: two written before the cutoff, one after. The
			// job's clock runs max_age ahead of the segments' clock, so
			// "before the cutoff" is a tick ago, not a month.
			p := []quarantine.Payload{{Value: []byte(`{"user_id":1}`)}}
			_, err := st.payloads.WriteSegment(ctx, "seg-old-1", p)
			require.NoError(t, err)
			_, err = st.payloads.WriteSegment(ctx, "seg-old-2", p)
			require.NoError(t, err)
			st.segments.Tick(t)
			clock := st.segments.Now(t).Add(maxAge)
			kept, err := st.payloads.WriteSegment(ctx, "seg-new", p)
			require.NoError(t, err)

			// Rows: three older than max_age by the job's clock, two younger.
			entry := func(off int64, age time.Duration) quarantine.Entry {
				e := quarantinetest.NewEntry("raw-events", 0, off, time.Now())
				e.Timestamp = clock.Add(-age)
				return e
			}
			old := []quarantine.Entry{entry(1, 90*24*time.Hour), entry(2, 31*24*time.Hour), entry(3, maxAge+time.Minute)}
			young := []quarantine.Entry{entry(4, maxAge-time.Hour), entry(5, time.Minute)}
			require.NoError(t, st.meta.Insert(ctx, append(append([]quarantine.Entry(nil), old...), young...)))

			var logs syncBuffer
			reg := prometheus.NewRegistry()
			partitions := atomic.Int32{}
			j, err := retention.New(retention.Options{
				MaxAge: maxAge, Metadata: st.meta, Payloads: st.payloads,
				Partitions: func(context.Context) error { partitions.Add(1); return nil },
				Registerer: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				Now: func() time.Time { return clock },
			})
			require.NoError(t, err)
			res, err := j.RunOnce(ctx)
			require.NoError(t, err)
			require.Equal(t, int64(2), res.Segments)
			require.Equal(t, int64(len(old)), res.Rows)
			for _, e := range old {
				_, err := st.meta.Get(ctx, e.ID)
				require.ErrorIs(t, err, quarantine.ErrNotFound, "offset %d is purged", e.SourceOffset)
			}
			for _, e := range young {
				_, err := st.meta.Get(ctx, e.ID)
				require.NoError(t, err, "offset %d is kept", e.SourceOffset)
			}
			require.Equal(t, int32(1), partitions.Load())
			require.Equal(t, float64(len(old)), purged(t, reg, "metadata"))
			require.Equal(t, float64(2), purged(t, reg, "payloads"))
			_, err = st.payloads.Read(ctx, kept[0])
			require.NoError(t, err, "the segment written after the cutoff is kept")
			line := logs.String()
			require.Equal(t, 1, strings.Count(line, "\n"), line)
			require.Contains(t, line, `msg="retention purge"`)
			require.Contains(t, line, "metadata_rows=3 payload_segments=2")
		})
	}
}

// purged reads retention_purged_total{store}.
func purged(t *testing.T, reg *prometheus.Registry, store string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "retention_purged_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "store" && l.GetValue() == store {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no retention_purged_total{store=%q}", store)
	return 0
}

// With max_age 0 nothing is purged, but the partitions are still kept
// ahead; a failing store is counted, logged, and retried by the next run
// of Run's loop.
func TestDisabledAndFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	calls := atomic.Int32{}
	j, err := retention.New(retention.Options{
		Metadata:   failingPurger{},
		Partitions: func(context.Context) error { calls.Add(1); return nil },
		Logger:     slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	res, err := j.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, retention.Result{}, res)
	require.Equal(t, int32(1), calls.Load())

	reg := prometheus.NewRegistry()
	var logs syncBuffer
	segs := &countingSegments{}
	j, err = retention.New(retention.Options{
		MaxAge: time.Hour, Interval: 10 * time.Millisecond, Metadata: failingPurger{}, Payloads: segs,
		Registerer: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- j.Run(runCtx) }()
	testwait.For(t, 10*time.Second, "Run to retry at each interval", func() error {
		if n := strings.Count(logs.String(), "retention purge incomplete"); n < 2 {
			return fmt.Errorf("%d failed purges logged", n)
		}
		return nil
	})
	cancel()
	require.NoError(t, <-done)
	require.Contains(t, logs.String(), "database is down")
	require.Contains(t, logs.String(), "level=WARN")
	require.Zero(t, segs.calls.Load(), "segments are kept while the rows pointing into them could not be purged")
	require.Equal(t, float64(0), purged(t, reg, "payloads"))
}

type failingPurger struct{}

func (failingPurger) PurgeBefore(context.Context, time.Time) (int64, error) {
	return 0, errors.New("database is down")
}

type countingSegments struct{ calls atomic.Int32 }

func (c *countingSegments) DeleteSegmentsBefore(context.Context, time.Time) (int64, error) {
	c.calls.Add(1)
	return 0, nil
}
