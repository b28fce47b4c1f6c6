package live

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// gateway registers the metrics the sampler reads, as the gateway does.
type gateway struct {
	reg                       *prometheus.Registry
	processed, valid, invalid *prometheus.CounterVec
	latency                   *prometheus.HistogramVec
	lag, spool, circuit       *prometheus.GaugeVec
}

func newGateway(t *testing.T) *gateway {
	t.Helper()
	g := &gateway{
		reg:       prometheus.NewRegistry(),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "records_processed_total"}, []string{"topic", "subject"}),
		valid:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "records_valid_total"}, []string{"topic", "subject"}),
		invalid:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "records_invalid_total"}, []string{"topic", "subject", "error_type"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "validation_duration_seconds", Buckets: []float64{0.001, 0.002, 0.005, 0.01, 0.05},
		}, []string{"topic"}),
		lag:     prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kafka_lag"}, []string{"topic", "partition"}),
		spool:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "spool_depth_records"}, []string{"store"}),
		circuit: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "circuit_state"}, []string{"topic"}),
	}
	g.reg.MustRegister(g.processed, g.valid, g.invalid, g.latency, g.lag, g.spool, g.circuit)
	return g
}

// flow counts n records on topic, invalid of them with error type et.
func (g *gateway) flow(topic string, n, invalid int, et record.ErrorType) {
	g.processed.WithLabelValues(topic, "s").Add(float64(n))
	g.valid.WithLabelValues(topic, "s").Add(float64(n - invalid))
	if invalid > 0 {
		g.invalid.WithLabelValues(topic, "s", string(et)).Add(float64(invalid))
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)} }

func newSampler(t *testing.T, g *gateway, c *clock, r RecentReader) *Sampler {
	t.Helper()
	s, err := New(Options{Gatherer: g.reg, Now: c.now, Recent: r})
	require.NoError(t, err)
	return s
}

func TestSnapshotTotalsAndRates(t *testing.T) {
	t.Parallel()
	g, c := newGateway(t), newClock()
	s := newSampler(t, g, c, nil)
	ctx := context.Background()

	first, err := s.Snapshot(ctx)
	require.NoError(t, err)
	require.Zero(t, first.Processed)
	require.Nil(t, first.SuccessRate, "nothing processed yet")
	require.Nil(t, first.Latency)
	require.Empty(t, first.InvalidByErrorType)
	require.NotNil(t, first.Recent)

	g.flow("a", 80, 8, record.MissingField)
	g.flow("b", 20, 2, record.TypeMismatch)
	g.invalid.WithLabelValues("b", "s", string(record.MissingField)).Add(2)
	g.processed.WithLabelValues("b", "s").Add(2)
	c.advance(2 * time.Second)
	snap, err := s.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(102), snap.Processed)
	require.Equal(t, int64(90), snap.Valid)
	require.Equal(t, int64(12), snap.Invalid)
	require.InDelta(t, 2.0, snap.Interval, 1e-9)
	require.InDelta(t, 51.0, snap.ProcessedRate, 1e-9)
	require.InDelta(t, 45.0, snap.ValidRate, 1e-9)
	require.InDelta(t, 6.0, snap.InvalidRate, 1e-9)
	require.NotNil(t, snap.SuccessRate)
	require.InDelta(t, 90.0/102, *snap.SuccessRate, 1e-9)
	require.Equal(t, []TypeCount{
		{Type: record.MissingField, Count: 10, Share: 10.0 / 12},
		{Type: record.TypeMismatch, Count: 2, Share: 2.0 / 12},
	}, snap.InvalidByErrorType)

	// Within MinInterval the same snapshot is shared.
	g.flow("a", 1000, 0, "")
	c.advance(500 * time.Millisecond)
	again, err := s.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, snap, again)

	// The next rate is over the time since the last read, and the success
	// rate over the interval only.
	c.advance(500 * time.Millisecond)
	next, err := s.Snapshot(ctx)
	require.NoError(t, err)
	require.InDelta(t, 1000.0, next.ProcessedRate, 1e-9)
	require.InDelta(t, 0.0, next.InvalidRate, 1e-9)
	require.InDelta(t, 1.0, *next.SuccessRate, 1e-9)

	// Nothing in the interval: the success rate is since start.
	c.advance(time.Second)
	idle, err := s.Snapshot(ctx)
	require.NoError(t, err)
	require.Zero(t, idle.ProcessedRate)
	require.InDelta(t, 1090.0/1102, *idle.SuccessRate, 1e-9)
}

func TestSnapshotLatencyQuantiles(t *testing.T) {
	t.Parallel()
	g, c := newGateway(t), newClock()
	s := newSampler(t, g, c, nil)
	ctx := context.Background()

	// 100 observations: 50 in (0, 1ms], 45 in (1, 2ms], 5 in (5, 10ms],
	// spread over two topics, whose buckets add up.
	for i := range 100 {
		topic := []string{"a", "b"}[i%2]
		switch {
		case i < 50:
			g.latency.WithLabelValues(topic).Observe(0.0005)
		case i < 95:
			g.latency.WithLabelValues(topic).Observe(0.0015)
		default:
			g.latency.WithLabelValues(topic).Observe(0.007)
		}
	}
	snap, err := s.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, "total", snap.LatencyWindow)
	require.NotNil(t, snap.Latency)
	// histogram_quantile's interpolation: rank 50 is the top of the first
	// bucket; rank 95 the top of the second; rank 99 is 4/5 into (5, 10ms].
	require.InDelta(t, 0.001, snap.Latency.P50, 1e-12)
	require.InDelta(t, 0.002, snap.Latency.P95, 1e-12)
	require.InDelta(t, 0.009, snap.Latency.P99, 1e-12)

	// The next interval's quantiles see only its own observations.
	for range 10 {
		g.latency.WithLabelValues("a").Observe(0.03) // (10, 50ms]
	}
	c.advance(time.Second)
	snap, err = s.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, "interval", snap.LatencyWindow)
	require.InDelta(t, 0.03, snap.Latency.P50, 1e-12)
	require.InDelta(t, 0.048, snap.Latency.P95, 1e-12)

	// Beyond the last finite bound: the highest finite bound.
	g.latency.WithLabelValues("a").Observe(3)
	c.advance(time.Second)
	snap, err = s.Snapshot(ctx)
	require.NoError(t, err)
	require.InDelta(t, 0.05, snap.Latency.P99, 1e-12)
}

func TestSnapshotLagSpoolCircuits(t *testing.T) {
	t.Parallel()
	g, c := newGateway(t), newClock()
	g.lag.WithLabelValues("b", "0").Set(5)
	g.lag.WithLabelValues("a", "1").Set(7)
	g.lag.WithLabelValues("a", "0").Set(3)
	g.spool.WithLabelValues("metadata").Set(4)
	g.spool.WithLabelValues("payloads").Set(2)
	g.circuit.WithLabelValues("b").Set(1)
	g.circuit.WithLabelValues("a").Set(0)
	g.circuit.WithLabelValues("c").Set(2)
	snap, err := newSampler(t, g, c, nil).Snapshot(context.Background())
	require.NoError(t, err)
	require.Equal(t, int64(15), snap.LagTotal)
	require.Equal(t, []PartitionLag{{"a", 0, 3}, {"a", 1, 7}, {"b", 0, 5}}, snap.Lag)
	require.Equal(t, int64(6), snap.SpoolRecords)
	require.Equal(t, []Circuit{{"a", "closed"}, {"b", "open"}, {"c", "half-open"}}, snap.Circuits)
}

func TestCounterResetIsNoNegativeRate(t *testing.T) {
	t.Parallel()
	prev := &reading{at: time.Unix(0, 0), processed: 100, valid: 90}
	cur := &reading{at: time.Unix(1, 0), processed: 10, valid: 10}
	s := compute(prev, cur)
	require.Zero(t, s.ProcessedRate)
	require.InDelta(t, 1.0, *s.SuccessRate, 1e-9)
}

type fakeRecent struct{ f quarantine.Filter }

func (r *fakeRecent) List(_ context.Context, f quarantine.Filter) (quarantine.Page, error) {
	r.f = f
	return quarantine.Page{Entries: []quarantine.Entry{{ID: "x", SourceTopic: "raw", ErrorType: record.ParseError, ErrorField: "/a"}}}, nil
}

func TestStreamPushesJSONSnapshots(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	g.flow("a", 10, 1, record.ParseError)
	rr := &fakeRecent{}
	s, err := New(Options{Gatherer: g.reg, Recent: rr, MinInterval: time.Millisecond})
	require.NoError(t, err)
	srv := httptest.NewServer(Stream(StreamOptions{Sampler: s, Interval: 10 * time.Millisecond}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var snaps []Snapshot
	for len(snaps) < 3 && sc.Scan() {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var sn Snapshot
			require.NoError(t, json.Unmarshal([]byte(data), &sn))
			snaps = append(snaps, sn)
		} else if line != "" {
			require.Equal(t, "event: snapshot", line)
		}
	}
	require.Len(t, snaps, 3)
	require.Equal(t, int64(10), snaps[2].Processed)
	require.Equal(t, []Recent{{ID: "x", Topic: "raw", ErrorType: record.ParseError, ErrorField: "/a"}}, snaps[0].Recent)
	require.Equal(t, 10, rr.f.Limit)

	// Closing the sampler ends the stream (server shutdown).
	s.Close()
	for sc.Scan() {
		// Drain until the server ends the stream.
	}
}

func TestWriteEventSplitsLines(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	writeEvent(&b, Event{Name: "x\ny", Data: "a\nb\r\nevent: forged\rc"})
	require.Equal(t, "event: xy\ndata: a\ndata: b\ndata: event: forged\ndata: c\n\n", b.String())
}

// TestReadTotals: the counters summed over topics and subjects, the
// invalid ones by error type, as the snapshot reads them.
func TestReadTotals(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	g.flow("a", 10, 3, record.MissingField)
	g.flow("b", 5, 2, record.MissingField)
	g.flow("b", 1, 1, record.TypeMismatch)
	tot, err := ReadTotals(g.reg)
	require.NoError(t, err)
	require.Equal(t, Totals{
		Processed: 16, Valid: 10, Invalid: 6,
		InvalidByErrorType: map[record.ErrorType]int64{record.MissingField: 5, record.TypeMismatch: 1},
	}, tot)
}
