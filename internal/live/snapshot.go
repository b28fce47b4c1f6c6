package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// The metric names the snapshot reads (docs/metrics.md).
const (
	metricProcessed = "records_processed_total"
	metricValid     = "records_valid_total"
	metricInvalid   = "records_invalid_total"
	metricLatency   = "validation_duration_seconds"
	metricLag       = "kafka_lag"
	metricSpool     = "spool_depth_records"
	metricCircuit   = "circuit_state"
)

// RecentReader lists quarantined records; quarantine.MetadataStore is one.
type RecentReader interface {
	List(ctx context.Context, f quarantine.Filter) (quarantine.Page, error)
}

// Options configure a Sampler.
type Options struct {
	// Gatherer is the gateway's metrics registry. Required.
	Gatherer prometheus.Gatherer
	// Recent lists the latest quarantined records for the snapshot.
	// Default: none (Snapshot.Recent is empty).
	Recent RecentReader
	// RecentLimit is how many recent records a snapshot carries. Default 10.
	RecentLimit int
	// MinInterval is the shortest time between two reads of the registry:
	// Snapshot calls closer together share one. Default 1s.
	MinInterval time.Duration
	// Logger receives read errors of Recent. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now; tests set it.
	Now func() time.Time
}

// Sampler computes Snapshots. Rates are the difference between the current
// read of the registry and the previous one, divided by the time between
// them; the registry is read at most once per MinInterval whatever the
// number of callers, so every dashboard sees the same figures. It is safe
// for concurrent use.
type Sampler struct {
	opts Options

	mu   sync.Mutex
	prev *reading
	last Snapshot

	done      chan struct{} // closed by Close: streams end
	closeOnce sync.Once
}

// Close ends every event stream served from s; register it with
// http.Server.RegisterOnShutdown. Snapshot still works afterwards.
func (s *Sampler) Close() { s.closeOnce.Do(func() { close(s.done) }) }

// New returns a Sampler.
func New(opts Options) (*Sampler, error) {
	if opts.Gatherer == nil {
		return nil, errors.New("live: Options.Gatherer is required")
	}
	if opts.RecentLimit <= 0 {
		opts.RecentLimit = 10
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sampler{opts: opts, done: make(chan struct{})}, nil
}

// Snapshot is the gateway's state at one moment.
type Snapshot struct {
	At time.Time `json:"at"`
	// Interval is the time the rates are measured over; 0 on the first
	// snapshot, whose rates are all 0.
	Interval float64 `json:"interval_seconds"`

	Processed int64 `json:"processed"`
	Valid     int64 `json:"valid"`
	Invalid   int64 `json:"invalid"`

	ProcessedRate float64 `json:"processed_per_second"`
	ValidRate     float64 `json:"valid_per_second"`
	InvalidRate   float64 `json:"invalid_per_second"`
	// SuccessRate is valid / processed over the interval, or since start
	// when nothing was processed in the interval; nil when nothing was
	// ever processed.
	SuccessRate *float64 `json:"success_rate"`

	// InvalidByErrorType are totals since start, biggest first.
	InvalidByErrorType []TypeCount `json:"invalid_by_error_type"`

	// Latency quantiles in seconds, over the interval when it saw
	// validations, else since start (LatencyWindow says which); nil when
	// no validation was ever timed.
	Latency       *Quantiles `json:"latency"`
	LatencyWindow string     `json:"latency_window"`

	LagTotal     int64          `json:"lag_total"`
	Lag          []PartitionLag `json:"lag"`
	SpoolRecords int64          `json:"spool_records"`
	Circuits     []Circuit      `json:"circuits"`
	Recent       []Recent       `json:"recent"`
}

// TypeCount is how many records have one primary error type.
type TypeCount struct {
	Type  record.ErrorType `json:"type"`
	Count int64            `json:"count"`
	// Share is Count / all invalid records, 0..1.
	Share float64 `json:"share"`
}

// Quantiles of validation latency, in seconds.
type Quantiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// PartitionLag is one input partition's consumer lag.
type PartitionLag struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Lag       int64  `json:"lag"`
}

// Circuit is one input topic's breaker state.
type Circuit struct {
	Topic string `json:"topic"`
	// State is "closed", "open" or "half-open".
	State string `json:"state"`
}

// Recent is one recently quarantined record.
type Recent struct {
	ID            string           `json:"id"`
	Topic         string           `json:"topic"`
	ErrorType     record.ErrorType `json:"error_type"`
	ErrorField    string           `json:"error_field"`
	QuarantinedAt time.Time        `json:"quarantined_at"`
}

// reading is one read of the registry.
type reading struct {
	at                        time.Time
	processed, valid, invalid float64
	byType                    map[record.ErrorType]float64
	buckets                   []bucket // cumulative, by upper bound
	count                     float64
	lag                       []PartitionLag
	spool                     float64
	circuits                  []Circuit
}

type bucket struct {
	upper float64
	count float64
}

// Snapshot returns the current snapshot, reading the registry unless it
// was read less than MinInterval ago.
func (s *Sampler) Snapshot(ctx context.Context) (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if s.prev != nil && now.Sub(s.prev.at) < s.opts.MinInterval {
		return s.last, nil
	}
	mfs, err := s.opts.Gatherer.Gather()
	if err != nil {
		return Snapshot{}, fmt.Errorf("gathering metrics: %w", err)
	}
	cur := read(mfs, now)
	snap := compute(s.prev, cur)
	snap.Recent = s.recent(ctx)
	s.prev, s.last = cur, snap
	return snap, nil
}

func (s *Sampler) recent(ctx context.Context) []Recent {
	out := []Recent{}
	if s.opts.Recent == nil {
		return out
	}
	page, err := s.opts.Recent.List(ctx, quarantine.Filter{Limit: s.opts.RecentLimit})
	if err != nil {
		s.opts.Logger.WarnContext(ctx, "listing recent quarantined records for live stats", "err", err)
		return out
	}
	for i := range page.Entries {
		e := &page.Entries[i]
		out = append(out, Recent{ID: e.ID, Topic: e.SourceTopic, ErrorType: e.ErrorType, ErrorField: e.ErrorField, QuarantinedAt: e.QuarantinedAt})
	}
	return out
}

func read(mfs []*dto.MetricFamily, at time.Time) *reading {
	r := &reading{at: at, byType: map[record.ErrorType]float64{}}
	upper := map[float64]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case metricProcessed:
				r.processed += m.GetCounter().GetValue()
			case metricValid:
				r.valid += m.GetCounter().GetValue()
			case metricInvalid:
				v := m.GetCounter().GetValue()
				r.invalid += v
				r.byType[record.ErrorType(label(m, "error_type"))] += v
			case metricLatency:
				h := m.GetHistogram()
				r.count += float64(h.GetSampleCount())
				for _, b := range h.GetBucket() {
					upper[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				}
			case metricLag:
				p, _ := strconv.ParseInt(label(m, "partition"), 10, 32)
				r.lag = append(r.lag, PartitionLag{Topic: label(m, "topic"), Partition: int32(p), Lag: int64(m.GetGauge().GetValue())})
			case metricSpool:
				r.spool += m.GetGauge().GetValue()
			case metricCircuit:
				r.circuits = append(r.circuits, Circuit{Topic: label(m, "topic"), State: circuitState(m.GetGauge().GetValue())})
			}
		}
	}
	for u, c := range upper {
		r.buckets = append(r.buckets, bucket{upper: u, count: c})
	}
	sort.Slice(r.buckets, func(i, j int) bool { return r.buckets[i].upper < r.buckets[j].upper })
	sort.Slice(r.lag, func(i, j int) bool {
		if r.lag[i].Topic != r.lag[j].Topic {
			return r.lag[i].Topic < r.lag[j].Topic
		}
		return r.lag[i].Partition < r.lag[j].Partition
	})
	sort.Slice(r.circuits, func(i, j int) bool { return r.circuits[i].Topic < r.circuits[j].Topic })
	return r
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// circuitState names circuit_state's values (docs/metrics.md).
func circuitState(v float64) string {
	switch v {
	case 0:
		return "closed"
	case 1:
		return "open"
	case 2:
		return "half-open"
	default:
		return "unknown"
	}
}

// compute derives a snapshot from the current reading and the previous one
// (nil on the first).
func compute(prev, cur *reading) Snapshot {
	s := Snapshot{
		At:                 cur.at,
		Processed:          int64(cur.processed),
		Valid:              int64(cur.valid),
		Invalid:            int64(cur.invalid),
		InvalidByErrorType: []TypeCount{},
		Lag:                cur.lag,
		SpoolRecords:       int64(cur.spool),
		Circuits:           cur.circuits,
		LatencyWindow:      "total",
	}
	if s.Lag == nil {
		s.Lag = []PartitionLag{}
	}
	if s.Circuits == nil {
		s.Circuits = []Circuit{}
	}
	for _, l := range cur.lag {
		s.LagTotal += l.Lag
	}
	for t, n := range cur.byType {
		if n == 0 {
			continue
		}
		s.InvalidByErrorType = append(s.InvalidByErrorType, TypeCount{Type: t, Count: int64(n), Share: n / cur.invalid})
	}
	sort.Slice(s.InvalidByErrorType, func(i, j int) bool {
		a, b := s.InvalidByErrorType[i], s.InvalidByErrorType[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Type < b.Type
	})

	processed, valid := cur.processed, cur.valid
	buckets, count := cur.buckets, cur.count
	if prev != nil {
		if dt := cur.at.Sub(prev.at).Seconds(); dt > 0 {
			s.Interval = dt
			// A counter that went down was reset (a restart): no rate.
			s.ProcessedRate = rate(prev.processed, cur.processed, dt)
			s.ValidRate = rate(prev.valid, cur.valid, dt)
			s.InvalidRate = rate(prev.invalid, cur.invalid, dt)
		}
		if d := cur.processed - prev.processed; d > 0 && cur.valid >= prev.valid {
			processed, valid = d, cur.valid-prev.valid
		}
		if d := cur.count - prev.count; d > 0 {
			buckets, count = diffBuckets(prev.buckets, cur.buckets), d
			s.LatencyWindow = "interval"
		}
	}
	if processed > 0 {
		sr := valid / processed
		s.SuccessRate = &sr
	}
	if count > 0 {
		s.Latency = &Quantiles{
			P50: quantile(0.50, buckets, count),
			P95: quantile(0.95, buckets, count),
			P99: quantile(0.99, buckets, count),
		}
	}
	return s
}

func rate(prev, cur, dt float64) float64 {
	if cur < prev {
		return 0
	}
	return (cur - prev) / dt
}

// diffBuckets subtracts prev's cumulative counts from cur's, bound by bound.
func diffBuckets(prev, cur []bucket) []bucket {
	p := make(map[float64]float64, len(prev))
	for _, b := range prev {
		p[b.upper] = b.count
	}
	out := make([]bucket, len(cur))
	for i, b := range cur {
		out[i] = bucket{upper: b.upper, count: math.Max(0, b.count-p[b.upper])}
	}
	return out
}

// quantile estimates the q-quantile from cumulative buckets (sorted by upper
// bound) holding count observations, interpolating linearly inside the
// bucket as PromQL's histogram_quantile does. A quantile in the +Inf bucket
// is the highest finite bound.
func quantile(q float64, buckets []bucket, count float64) float64 {
	rank := q * count
	lower, below := 0.0, 0.0
	for _, b := range buckets {
		if b.count >= rank {
			if math.IsInf(b.upper, 1) {
				return lower
			}
			if b.count == below {
				return b.upper
			}
			return lower + (b.upper-lower)*(rank-below)/(b.count-below)
		}
		lower, below = b.upper, b.count
	}
	// The +Inf bucket is implicit in client_golang's output.
	return lower
}
