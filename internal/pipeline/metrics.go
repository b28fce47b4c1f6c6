package pipeline

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the pipeline's Prometheus metrics, with the names of
// PRODUCT.md §8 (users' dashboards and alerts query them by name).
type Metrics struct {
	processed   *prometheus.CounterVec
	valid       *prometheus.CounterVec
	invalid     *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	storeErrors *prometheus.CounterVec
	batches     prometheus.Counter
	rules       *prometheus.CounterVec
	writes      *prometheus.HistogramVec
	fallbacks   *prometheus.CounterVec
	layers      *prometheus.HistogramVec
	// resolveErrors, permanent, released and detours say what held a
	// batch back, or routed a record elsewhere, and why.
	resolveErrors *prometheus.CounterVec
	permanent     *prometheus.CounterVec
	released      prometheus.Counter
	detours       *prometheus.CounterVec
	progress      progress
}

// LatencyBuckets resolve microsecond validation times and the 1-50 ms range
// the latency SLO is written in.
var LatencyBuckets = []float64{
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1,
}

// NewMetrics registers the pipeline's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "records_processed_total",
			Help: "Records consumed and validated, by input topic and schema subject.",
		}, []string{"topic", "subject"}),
		valid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "records_valid_total",
			Help: "Records that passed validation and were forwarded to the clean topic.",
		}, []string{"topic", "subject"}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "records_invalid_total",
			Help: "Records that failed validation, by primary error type: quarantined, or, on an input in observe mode, forwarded to the clean topic marked dq.observed.*.",
		}, []string{"topic", "subject", "error_type"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "validation_duration_seconds",
			Help:    "Time to validate one record (decode, schema, rules).",
			Buckets: LatencyBuckets,
		}, []string{"topic"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "store_write_errors_total",
			Help: "Failed writes, each retried, by target: payloads, metadata, kafka_produce, kafka_commit, kafka_transaction.",
		}, []string{"store"}),
		resolveErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "schema_resolve_errors_total",
			Help: "Failed schema lookups while validating (the registry's store unreachable), each retried; never a reason to quarantine a record.",
		}, []string{"stage"}),
		permanent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipeline_permanent_errors_total",
			Help: "Failures that retrying cannot fix (a refused write, an authorization error), by stage: schema_resolver, payloads, metadata, kafka_produce. Counted once per streak; the batch waits, uncommitted, until the cause is fixed.",
		}, []string{"stage"}),
		released: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pipeline_batches_released_total",
			Help: "Batches that could not be made durable within pipeline.max_batch_hold and were released (rewound, uncommitted) to be polled again, letting a rebalance through.",
		}),
		detours: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "records_detoured_total",
			Help: "Records the broker refused for what they are, by what happened: clean_refused (a valid record the clean topic refused, quarantined instead), dlq_shrunk (a DLQ record sent again with less of itself), dlq_dropped (a DLQ record refused even then; its payload and row are stored).",
		}, []string{"outcome"}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pipeline_batches_total",
			Help: "Batches fully written and committed.",
		}),
		rules: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rule_violations_total",
			Help: "Business-rule violations, by schema subject and rule name (a record can violate several).",
		}, []string{"subject", "rule"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "schema_fallback_total",
			Help: "Records the enforced schema version rejected and an older, still accepted version (the rollout fallback) accepted.",
		}, []string{"subject", "from_version", "to_version"}),
	}
	m.writes = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "store_write_duration_seconds",
		Help:    "Time to make one batch durable in a store, retries included: payloads (one segment), metadata (one transaction), kafka_produce (every record acknowledged), kafka_commit.",
		Buckets: LatencyBuckets,
	}, []string{"store"})
	m.layers = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "validation_layer_duration_seconds",
		Help:    "Time of one validation layer on one record, sampled (records whose offset is a multiple of 16): decode, schema (decode included for formats checked in one pass, such as Avro binary), rules.",
		Buckets: LatencyBuckets,
	}, []string{"layer"})
	reg.MustRegister(m.processed, m.valid, m.invalid, m.duration, m.storeErrors, m.batches, m.rules, m.writes, m.fallbacks, m.layers,
		m.resolveErrors, m.permanent, m.released, m.detours,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pipeline_seconds_since_last_commit",
			Help: "Seconds since the pipeline last committed a batch (since it started, before the first).",
		}, func() float64 { return time.Since(m.progress.Get().LastCommit).Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pipeline_uncommitted_seconds",
			Help: "Seconds since the pipeline polled the oldest records it has not committed yet; 0 when everything polled is committed. Grows while a batch is retried.",
		}, func() float64 {
			if s := m.progress.Get().PendingSince; !s.IsZero() {
				return time.Since(s).Seconds()
			}
			return 0
		}),
	)
	m.progress.committed(time.Now())
	return m
}

// ObserveLayer implements validate.LayerObserver.
func (m *Metrics) ObserveLayer(layer string, d time.Duration) {
	m.layers.WithLabelValues(layer).Observe(d.Seconds())
}
