package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/kafka"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// Options configure a benchmark run.
type Options struct {
	// Records is how many records a backlog run drains. Default 1,000,000.
	// Ignored when Rate is set (Rate*Duration records are produced).
	Records int
	// Size is the approximate size of each record's JSON value in bytes.
	// Default 300.
	Size int
	// InvalidShare is the share of invalid records, cycling through every
	// invalid kind of the demo generator. Default 0.1.
	InvalidShare float64
	// Partitions of the benchmark's topics. Default 6.
	Partitions int32
	// Seed makes the workload reproducible. Default 1.
	Seed uint64
	// Rate, when set, produces at this many records per second while the
	// pipeline runs (a latency run) instead of draining a backlog.
	Rate int
	// Duration of a Rate run. Default 30s.
	Duration time.Duration
	// Config supplies the brokers (none: an embedded broker in
	// Config.DataDir), the stores, the limits and the batch size, as serve
	// uses them. It must have passed Validate.
	Config config.Config
	// Logger: default slog.Default().
	Logger *slog.Logger
	// AfterDrain, when set, is called once every record is routed and
	// committed, before anything is released (the bench's --memprofile).
	// Default none.
	AfterDrain func()
}

// Result is what a run measured, in the units its field names say.
type Result struct {
	Mode         string  `json:"mode"` // "backlog" or "rate"
	Records      int     `json:"records"`
	Valid        int     `json:"valid"`
	Invalid      int     `json:"invalid"`
	RecordBytes  int     `json:"record_bytes"`
	Partitions   int32   `json:"partitions"`
	Broker       string  `json:"broker"` // "embedded" or the bootstrap list
	Stores       string  `json:"stores"`
	RateTarget   int     `json:"rate_target,omitempty"`
	ElapsedSec   float64 `json:"elapsed_seconds"`
	RecordsPerS  float64 `json:"records_per_second"`
	MBPerS       float64 `json:"mb_per_second"`
	CPUPerRecUS  float64 `json:"cpu_us_per_record"`
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP95MS float64 `json:"latency_p95_ms"`
	LatencyP99MS float64 `json:"latency_p99_ms"`
	LatencyMaxMS float64 `json:"latency_max_ms"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	Correct      bool    `json:"correct"`
	// Problems lists what the correctness check found wrong (at most 20).
	Problems []string `json:"problems,omitempty"`
}

func (o *Options) defaults() {
	if o.Records <= 0 {
		o.Records = 1_000_000
	}
	if o.Size <= 0 {
		o.Size = 300
	}
	if o.InvalidShare < 0 || o.InvalidShare > 1 {
		o.InvalidShare = 0.1
	}
	if o.Partitions <= 0 {
		o.Partitions = 6
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Rate > 0 {
		o.Records = o.Rate * int(o.Duration/time.Second)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Run runs one benchmark. It creates fresh topics (bench-<time>-raw,
// -clean, -dlq) so runs never mix, and never touches the gateway's topics.
func Run(ctx context.Context, opts Options) (Result, error) {
	opts.defaults()
	cfg := opts.Config
	r := Result{
		Mode: "backlog", Records: opts.Records, RecordBytes: opts.Size, Partitions: opts.Partitions,
		Stores: config.RedactURL(cfg.MetadataURL()) + " + " + config.RedactURL(cfg.PayloadsURL()),
	}
	if opts.Rate > 0 {
		r.Mode, r.RateTarget = "rate", opts.Rate
	}

	brokers := cfg.Kafka.Brokers
	r.Broker = fmt.Sprint(brokers)
	if len(brokers) == 0 {
		emb, err := kafka.StartEmbedded(kafka.EmbeddedOptions{Listen: "127.0.0.1:0", DataDir: filepath.Join(cfg.DataDir, "kafka")})
		if err != nil {
			return r, err
		}
		defer emb.Close()
		brokers, r.Broker = []string{emb.Addr()}, "embedded"
	}
	run := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	raw, clean, dlq := run+"-raw", run+"-clean", run+"-dlq"

	meta, payloads, err := app.OpenStores(cfg)
	if err != nil {
		return r, err
	}
	defer func() { _ = meta.Close() }()     // the run's result is already decided
	defer func() { _ = payloads.Close() }() // by then; a close error changes nothing
	versions, err := app.CompileSchemas(&cfg)
	if err != nil {
		return r, err
	}
	resolver, err := schema.NewStatic(map[string]string{raw: "user_event"}, versions)
	if err != nil {
		return r, fmt.Errorf("the benchmark validates against the user_event subject: %w", err)
	}
	metrics := pipeline.NewMetrics(prometheus.NewRegistry())
	// Layer timing on, as serve has it: its cost is part of the figures.
	engine, err := validate.New(validate.Options{Resolver: resolver, MaxBytes: cfg.Limits.MaxBytes, Layers: metrics})
	if err != nil {
		return r, err
	}

	var assigned sync.Once
	ready := make(chan struct{})
	cl, err := kafka.NewGroupClient(kafka.GroupOptions{
		Brokers: brokers, GroupID: run, Topics: []string{raw},
		MaxBufferedRecords: 4 * cfg.Pipeline.BatchSize,
		OnAssigned:         func(map[string][]int32) { assigned.Do(func() { close(ready) }) },
		Logger:             opts.Logger,
	})
	if err != nil {
		return r, err
	}
	defer cl.Close()
	specs := []kafka.TopicSpec{{Name: raw}, {Name: clean}, {Name: dlq}}
	for i := range specs {
		specs[i].Partitions, specs[i].ReplicationFactor = opts.Partitions, cfg.Kafka.ReplicationFactor
	}
	if err := kafka.EnsureTopics(ctx, cl, specs); err != nil {
		return r, err
	}

	lat := newLatencies(opts.Records)
	p, err := pipeline.New(pipeline.Options{
		Client: cl, Engine: engine, Metadata: meta, Payloads: payloads,
		CleanTopic: clean, DLQTopic: dlq, Metrics: metrics,
		BatchSize: cfg.Pipeline.BatchSize, RetryBackoffMin: cfg.Pipeline.RetryBackoffMin,
		RetryBackoffMax: cfg.Pipeline.RetryBackoffMax, Logger: opts.Logger,
		OnCommit: lat.observe,
	})
	if err != nil {
		return r, err
	}
	// A backlog is produced in big batches; a rate run sends each record at
	// once, so its latency is the gateway's and not the producer's linger.
	linger := 5 * time.Millisecond
	if opts.Rate > 0 {
		linger = 0
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(raw),
		kgo.ProducerLinger(linger), kgo.MaxBufferedRecords(50_000))
	if err != nil {
		return r, fmt.Errorf("creating the benchmark's producer: %w", err)
	}
	defer prod.Close()
	w := newWorkload(opts.Records, opts.Size, opts.InvalidShare, opts.Seed)

	pctx, stopPipeline := context.WithCancel(ctx)
	defer stopPipeline()
	done := make(chan error, 1)
	startPipeline := func() { go func() { done <- p.Run(pctx) }() }

	var cpu0 time.Duration
	var t0 time.Time
	if opts.Rate == 0 {
		opts.Logger.Info("producing the backlog", "records", opts.Records)
		if err := produceBacklog(ctx, prod, w, opts.Records); err != nil {
			return r, err
		}
		resetPeakRSS()
		cpu0, t0 = cpuTime(), time.Now()
		startPipeline()
	} else {
		startPipeline()
		select {
		case <-ready:
		case <-ctx.Done():
			return r, ctx.Err()
		}
		resetPeakRSS()
		cpu0, t0 = cpuTime(), time.Now()
		opts.Logger.Info("producing at a steady rate", "rate", opts.Rate, "duration", opts.Duration)
		if err := produceAtRate(ctx, prod, w, opts.Rate, opts.Records); err != nil {
			return r, err
		}
	}
	if err := lat.wait(ctx, done); err != nil {
		return r, err
	}
	elapsed := lat.lastCommit().Sub(t0)
	cpu := cpuTime() - cpu0
	r.PeakRSSMB = float64(peakRSS()) / (1 << 20)
	if opts.AfterDrain != nil {
		opts.AfterDrain()
	}
	stopPipeline()
	if err := <-done; err != nil {
		return r, err
	}

	r.ElapsedSec = elapsed.Seconds()
	r.RecordsPerS = float64(opts.Records) / elapsed.Seconds()
	r.MBPerS = float64(w.bytes) / (1 << 20) / elapsed.Seconds()
	r.CPUPerRecUS = float64(cpu.Microseconds()) / float64(opts.Records)
	r.LatencyP50MS, r.LatencyP95MS, r.LatencyP99MS, r.LatencyMaxMS = lat.quantiles()
	for i := range w.count() {
		if w.wantType(i) == "" {
			r.Valid++
		} else {
			r.Invalid++
		}
	}
	// The group and producer clients are done; closing them before the
	// check leaves the broker to the verifying consumers.
	cl.Close()
	prod.Close()
	opts.Logger.Info("checking every record's route")
	r.Problems = verify(ctx, brokers, clean, dlq, w, meta)
	r.Correct = len(r.Problems) == 0
	return r, nil
}

func produceBacklog(ctx context.Context, prod *kgo.Client, w *workload, n int) error {
	var firstErr atomic.Pointer[error]
	for range n {
		k, v := w.next()
		prod.Produce(ctx, &kgo.Record{Key: k, Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				firstErr.CompareAndSwap(nil, &err)
			}
		})
	}
	if err := prod.Flush(ctx); err != nil {
		return fmt.Errorf("producing the backlog: %w", err)
	}
	if e := firstErr.Load(); e != nil {
		return fmt.Errorf("producing the backlog: %w", *e)
	}
	return nil
}

// produceAtRate produces n records at rate per second, in 10 ms steps.
func produceAtRate(ctx context.Context, prod *kgo.Client, w *workload, rate, n int) error {
	const step = 10 * time.Millisecond
	t := time.NewTicker(step)
	defer t.Stop()
	start := time.Now()
	sent := 0
	var firstErr atomic.Pointer[error]
	for sent < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			due := min(n, int(now.Sub(start).Seconds()*float64(rate))) - sent
			for range due {
				k, v := w.next()
				prod.Produce(ctx, &kgo.Record{Key: k, Value: v}, func(_ *kgo.Record, err error) {
					if err != nil {
						firstErr.CompareAndSwap(nil, &err)
					}
				})
			}
			sent += due
		}
	}
	if err := prod.Flush(ctx); err != nil {
		return fmt.Errorf("producing: %w", err)
	}
	if e := firstErr.Load(); e != nil {
		return fmt.Errorf("producing: %w", *e)
	}
	return nil
}

// latencies collects each record's produce-to-committed latency from the
// pipeline's OnCommit hook, in microseconds.
type latencies struct {
	mu     sync.Mutex
	us     []uint32
	last   time.Time
	want   int
	signal chan struct{}
}

func newLatencies(n int) *latencies {
	return &latencies{us: make([]uint32, 0, n), want: n, signal: make(chan struct{}, 1)}
}

func (l *latencies) observe(recs []*kgo.Record) {
	now := time.Now()
	l.mu.Lock()
	for _, r := range recs {
		l.us = append(l.us, uint32(min(now.Sub(r.Timestamp).Microseconds(), 1<<32-1)))
	}
	l.last = now
	full := len(l.us) >= l.want
	l.mu.Unlock()
	if full {
		select {
		case l.signal <- struct{}{}:
		default:
		}
	}
}

func (l *latencies) wait(ctx context.Context, done <-chan error) error {
	select {
	case <-l.signal:
		return nil
	case err := <-done:
		return fmt.Errorf("pipeline stopped before every record was committed: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *latencies) lastCommit() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

func (l *latencies) quantiles() (p50, p95, p99, maxMS float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.us) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(l.us)
	at := func(q float64) float64 {
		i := min(len(l.us)-1, int(q*float64(len(l.us))))
		return float64(l.us[i]) / 1000
	}
	return at(0.50), at(0.95), at(0.99), float64(l.us[len(l.us)-1]) / 1000
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets the kernel's high-water mark of this process's RSS
// (Linux 4.0+), so the peak covers the measured phase only.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns VmHWM in bytes, 0 where /proc is unavailable.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	var kb int64
	for _, line := range splitLines(b) {
		if n, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); n == 1 && err == nil {
			return kb << 10
		}
	}
	return 0
}

func splitLines(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return out
}
