package kafka

import (
	"context"
	"log/slog"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// LagOptions configure a LagReporter.
type LagOptions struct {
	// Client is any client of the cluster (the group client is fine).
	// Required.
	Client *kgo.Client
	// Group is the consumer group whose lag is reported. Required.
	Group string
	// Topics limits the report to these topics; nil reports every topic the
	// group has offsets for.
	Topics []string
	// Interval between reports. Default 10s.
	Interval time.Duration
	// Registerer receives kafka_lag{topic,partition}. Required.
	Registerer prometheus.Registerer
	// Logger: default slog.Default().
	Logger *slog.Logger
}

// LagReporter exports the group's consumer lag (end offset minus committed
// offset per partition) as kafka_lag{topic,partition}. It asks the brokers
// rather than the consumer, so the figure stays true while consumption is
// paused (the circuit breaker) or stuck, which is when it matters.
type LagReporter struct {
	opts  LagOptions
	adm   *kadm.Client
	gauge *prometheus.GaugeVec

	mu     sync.Mutex
	totals map[string]int64 // topic -> lag, as last reported
}

// NewLagReporter registers the gauge and returns the reporter.
func NewLagReporter(opts LagOptions) (*LagReporter, error) {
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kafka_lag",
		Help: "Records in the input partition not yet committed by the gateway's consumer group (end offset minus committed offset).",
	}, []string{"topic", "partition"})
	if err := opts.Registerer.Register(g); err != nil {
		return nil, err
	}
	return &LagReporter{opts: opts, adm: kadm.NewClient(opts.Client), gauge: g}, nil
}

// Run reports every Interval until ctx ends. Failures are logged at debug
// and retried at the next tick: lag is an observation, never a reason to
// stop the gateway.
func (l *LagReporter) Run(ctx context.Context) error {
	t := time.NewTicker(l.opts.Interval)
	defer t.Stop()
	for {
		if err := l.Report(ctx); err != nil && ctx.Err() == nil {
			l.opts.Logger.Debug("reading consumer lag", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Report reads the lag once and updates the gauge.
func (l *LagReporter) Report(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, l.opts.Interval)
	defer cancel()
	lags, err := l.adm.Lag(ctx, l.opts.Group)
	if err != nil {
		return err
	}
	gl, ok := lags[l.opts.Group]
	if !ok {
		return nil
	}
	if err := gl.Error(); err != nil {
		return err
	}
	want := make(map[string]bool, len(l.opts.Topics))
	for _, t := range l.opts.Topics {
		want[t] = true
	}
	totals := make(map[string]int64, len(gl.Lag))
	for topic, parts := range gl.Lag {
		if len(want) > 0 && !want[topic] {
			continue
		}
		for p, m := range parts {
			if m.Err != nil || m.Lag < 0 {
				continue
			}
			l.gauge.WithLabelValues(topic, strconv.FormatInt(int64(p), 10)).Set(float64(m.Lag))
			totals[topic] += m.Lag
		}
	}
	l.mu.Lock()
	l.totals = totals
	l.mu.Unlock()
	return nil
}

// TopicLag returns each topic's lag, summed over its partitions, as last
// reported (nil before the first report).
func (l *LagReporter) TopicLag() map[string]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.totals)
}
