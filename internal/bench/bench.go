package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/kafka"
)

// Options configure a benchmark run.
type Options struct {
	// Records is how many records a backlog run drains. Default 1,000,000.
	// Ignored when Rate is set (Rate*Duration records are produced).
	Records int
	// Size is the approximate size of each record's value in bytes.
	// Default 300.
	Size int
	// InvalidShare is the share of invalid records (cycling through every
	// invalid kind of the format). Default 0.1; 0 and 1 are allowed.
	InvalidShare float64
	// Format of the records: FormatJSON (default), FormatAvro or
	// FormatProtobuf (raw binary, without a wire header).
	Format string
	// Rules adds a CEL business rule to the schema, and records breaking
	// it to the invalid share. Default false.
	Rules bool
	// Shadow puts a candidate version of the schema in shadow (evaluated on
	// every record beside the enforced one, deciding nothing: what shadow
	// validation costs). JSON only. Default false.
	Shadow bool
	// Partitions of the benchmark's topics. Default 6.
	Partitions int32
	// Seed makes the workload reproducible. Default 1.
	Seed uint64
	// Rate, when set, produces at this many records per second while the
	// gateway runs (a latency run) instead of draining a backlog.
	Rate int
	// Duration of a Rate run. Default 30s.
	Duration time.Duration
	// Rounds is how many times each phase runs (on a fresh workload each
	// round); the summary gives the median, min and max. Default 1.
	Rounds int
	// Baseline "copy" adds, in each round of a backlog run, a bare
	// consume-to-produce copy of the same records through the same broker
	// with the same client settings, and reports the gateway's figures as
	// ratios of it. Default "": none.
	Baseline string
	// Executable is the dataquarantine binary whose 'broker' command runs
	// the broker process. Default: this process's executable. Not used when
	// Config.Kafka.Brokers names a cluster.
	Executable string
	// Config is the gateway's configuration, as serve takes it (stores,
	// limits, batch size, compression, brokers; none: a broker process the
	// benchmark starts). Each round overrides the topics, group, schema,
	// data dir and HTTP listener. It must have passed Validate.
	Config config.Config
	// Logger: default slog.Default().
	Logger *slog.Logger
	// AfterDrain, when set, is called once every record of a gateway phase
	// is committed, before anything is released (the bench's
	// --memprofile). Default none.
	AfterDrain func()
}

// Baselines are the values Options.Baseline accepts.
var Baselines = []string{"", "copy"}

// Result is what a run measured, in the units its field names say.
type Result struct {
	Mode        string  `json:"mode"` // "backlog" or "rate"
	Format      string  `json:"format"`
	Rules       bool    `json:"rules"`
	Shadow      bool    `json:"shadow,omitempty"`
	Records     int     `json:"records"`
	Valid       int     `json:"valid"`
	Invalid     int     `json:"invalid"`
	RecordBytes int     `json:"record_bytes"`
	Partitions  int32   `json:"partitions"`
	Broker      string  `json:"broker"`
	Stores      string  `json:"stores"`
	RateTarget  int     `json:"rate_target,omitempty"`
	Baseline    string  `json:"baseline,omitempty"`
	Rounds      []Round `json:"rounds"`
	// Gateway and Copy summarise the rounds; RateRatio and CPURatio are the
	// gateway's throughput and CPU per record over the copy's in the same
	// round, summarised the same way (nil without a baseline).
	Gateway   Summary  `json:"gateway"`
	Copy      *Summary `json:"copy,omitempty"`
	RateRatio *Stat    `json:"rate_ratio,omitempty"`
	CPURatio  *Stat    `json:"cpu_ratio,omitempty"`
	Correct   bool     `json:"correct"`
	// Problems lists what the correctness check found wrong (at most 20).
	Problems []string `json:"problems,omitempty"`
}

// Round is one round's phases.
type Round struct {
	Gateway Phase  `json:"gateway"`
	Copy    *Phase `json:"copy,omitempty"`
}

// Phase is what one drain (or rate run) measured.
type Phase struct {
	ElapsedSec  float64 `json:"elapsed_seconds"`
	RecordsPerS float64 `json:"records_per_second"`
	MBPerS      float64 `json:"mb_per_second"`
	// CPUPerRecUS is the gateway's (or the copy's) process CPU per record;
	// BrokerCPUPerRecUS the broker process's, 0 for an external cluster.
	CPUPerRecUS       float64 `json:"cpu_us_per_record"`
	BrokerCPUPerRecUS float64 `json:"broker_cpu_us_per_record"`
	LatencyP50MS      float64 `json:"latency_p50_ms"`
	LatencyP95MS      float64 `json:"latency_p95_ms"`
	LatencyP99MS      float64 `json:"latency_p99_ms"`
	LatencyMaxMS      float64 `json:"latency_max_ms"`
	PeakRSSMB         float64 `json:"peak_rss_mb"`
	// IndexLagSec is how long after the last commit the last quarantine
	// row was indexed (SQLite's rows are written ahead and indexed in the
	// background); CPUPerRecUS includes that work.
	IndexLagSec float64 `json:"index_lag_seconds"`
	// ShadowEvaluated is how many records the version in shadow judged
	// (Options.Shadow), from the gateway's schema_shadow_verdicts_total.
	ShadowEvaluated int64 `json:"shadow_evaluated,omitempty"`
}

// Summary is a phase's figures over the rounds.
type Summary struct {
	RecordsPerS       Stat `json:"records_per_second"`
	CPUPerRecUS       Stat `json:"cpu_us_per_record"`
	BrokerCPUPerRecUS Stat `json:"broker_cpu_us_per_record"`
	LatencyP99MS      Stat `json:"latency_p99_ms"`
	PeakRSSMB         Stat `json:"peak_rss_mb"`
}

func summarize(phases []Phase) Summary {
	col := func(f func(Phase) float64) Stat {
		vs := make([]float64, len(phases))
		for i, p := range phases {
			vs[i] = f(p)
		}
		return statOf(vs)
	}
	return Summary{
		RecordsPerS:       col(func(p Phase) float64 { return p.RecordsPerS }),
		CPUPerRecUS:       col(func(p Phase) float64 { return p.CPUPerRecUS }),
		BrokerCPUPerRecUS: col(func(p Phase) float64 { return p.BrokerCPUPerRecUS }),
		LatencyP99MS:      col(func(p Phase) float64 { return p.LatencyP99MS }),
		PeakRSSMB:         col(func(p Phase) float64 { return p.PeakRSSMB }),
	}
}

func (o *Options) defaults() error {
	if o.Records <= 0 {
		o.Records = 1_000_000
	}
	if o.Size <= 0 {
		o.Size = 300
	}
	if o.InvalidShare < 0 || o.InvalidShare > 1 {
		return fmt.Errorf("bench: InvalidShare %v is not within 0..1", o.InvalidShare)
	}
	if o.Format == "" {
		o.Format = FormatJSON
	}
	if o.Format != FormatJSON && o.Format != FormatAvro && o.Format != FormatProtobuf {
		return fmt.Errorf("bench: unknown format %q (want one of %v)", o.Format, Formats)
	}
	if o.Shadow && o.Format != FormatJSON {
		return fmt.Errorf("bench: a shadow version is benchmarked with --format json only, not %s", o.Format)
	}
	if o.Baseline != "" && o.Baseline != "copy" {
		return fmt.Errorf("bench: unknown baseline %q (want copy)", o.Baseline)
	}
	if o.Baseline != "" && o.Rate > 0 {
		return errors.New("bench: a baseline is measured on backlog runs only")
	}
	if o.Partitions <= 0 {
		o.Partitions = 6
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Rounds <= 0 {
		o.Rounds = 1
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
	if o.Executable == "" && len(o.Config.Kafka.Brokers) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: finding this executable to run the broker process: %w", err)
		}
		o.Executable = exe
	}
	return nil
}

// Run runs the benchmark: for each round, a fresh workload in fresh topics
// (bench-<time>-raw...), drained by the gateway (the serve wiring: app.New
// and app.Run, as 'dataquarantine serve' builds them) and, with a baseline,
// by a bare copy, in alternating order. It never touches the gateway's own
// topics.
func Run(ctx context.Context, opts Options) (Result, error) {
	if err := opts.defaults(); err != nil {
		return Result{}, err
	}
	cfg := opts.Config
	// Unless the config names stores, each round has its own SQLite file
	// and payload directory, under a data dir of its own.
	each := opts.Config
	each.DataDir = filepath.Join(cfg.DataDir, "<round>")
	r := Result{
		Mode: "backlog", Format: opts.Format, Rules: opts.Rules, Shadow: opts.Shadow, Records: opts.Records, RecordBytes: opts.Size,
		Partitions: opts.Partitions, Baseline: opts.Baseline, Correct: true,
		Stores: config.RedactURL(each.MetadataURL()) + " + " + config.RedactURL(each.PayloadsURL()),
	}
	if opts.Rate > 0 {
		r.Mode, r.RateTarget = "rate", opts.Rate
	}
	brokers := cfg.Kafka.Brokers
	brokerCPU := func() time.Duration { return 0 }
	r.Broker = fmt.Sprint(brokers)
	if len(brokers) == 0 {
		b, err := startBroker(opts.Executable, filepath.Join(cfg.DataDir, "broker"))
		if err != nil {
			return r, err
		}
		defer b.stop()
		brokers, brokerCPU = []string{b.addr}, b.cpu
		r.Broker = "a broker process (dataquarantine broker, pid " + strconv.Itoa(b.cmd.Process.Pid) + ")"
	}
	var gateways, copies []Phase
	for round := range opts.Rounds {
		run := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		opts.Logger.Info("benchmark round", "round", round+1, "of", opts.Rounds, "topics", run+"-*")
		w := newWorkload(opts.Format, opts.Rules, opts.Records, opts.Size, opts.InvalidShare, opts.Seed+uint64(round))
		rd, problems, err := runRound(ctx, &opts, round, brokers, brokerCPU, run, w)
		if err != nil {
			return r, fmt.Errorf("round %d: %w", round+1, err)
		}
		r.Rounds = append(r.Rounds, rd)
		gateways = append(gateways, rd.Gateway)
		if rd.Copy != nil {
			copies = append(copies, *rd.Copy)
		}
		if len(problems) > 0 {
			r.Correct = false
			r.Problems = append(r.Problems, problems...)
		}
		r.Valid, r.Invalid = 0, 0
		for i := range w.count() {
			if w.wantType(i) == "" {
				r.Valid++
			} else {
				r.Invalid++
			}
		}
	}
	r.Gateway = summarize(gateways)
	if len(copies) > 0 {
		c := summarize(copies)
		r.Copy = &c
		rates, cpus := make([]float64, len(copies)), make([]float64, len(copies))
		for i := range copies {
			rates[i] = gateways[i].RecordsPerS / copies[i].RecordsPerS
			cpus[i] = gateways[i].CPUPerRecUS / copies[i].CPUPerRecUS
		}
		rr, cr := statOf(rates), statOf(cpus)
		r.RateRatio, r.CPURatio = &rr, &cr
	}
	return r, nil
}

// runRound creates the round's input topic, produces the backlog, and runs
// the phases: the copy first in even rounds, the gateway first in odd ones,
// so that a drift of the machine over the run weighs on both alike.
func runRound(ctx context.Context, opts *Options, round int, brokers []string, brokerCPU func() time.Duration, run string, w *workload) (Round, []string, error) {
	raw := run + "-raw"
	// A backlog is produced in big batches; a rate run sends each record at
	// once, so its latency is the gateway's and not the producer's linger.
	linger := 5 * time.Millisecond
	if opts.Rate > 0 {
		linger = 0
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(raw),
		kgo.ProducerLinger(linger), kgo.MaxBufferedRecords(50_000))
	if err != nil {
		return Round{}, nil, fmt.Errorf("creating the benchmark's producer: %w", err)
	}
	defer prod.Close()
	if err := kafka.EnsureTopics(ctx, prod, []kafka.TopicSpec{{Name: raw, Partitions: opts.Partitions, ReplicationFactor: opts.Config.Kafka.ReplicationFactor}}); err != nil {
		return Round{}, nil, err
	}
	if opts.Rate == 0 {
		opts.Logger.Info("producing the backlog", "records", opts.Records)
		if err := produceBacklog(ctx, prod, w, opts.Records); err != nil {
			return Round{}, nil, err
		}
	}
	var rd Round
	var problems []string
	gateway := func() error {
		var err error
		rd.Gateway, problems, err = runGateway(ctx, opts, brokers, brokerCPU, run, prod, w)
		return err
	}
	copyPhase := func() error {
		if opts.Baseline == "" {
			return nil
		}
		p, err := runCopy(ctx, opts, brokers, brokerCPU, run, w)
		rd.Copy = &p
		return err
	}
	order := []func() error{copyPhase, gateway}
	if round%2 == 1 {
		order = []func() error{gateway, copyPhase}
	}
	for _, phase := range order {
		if err := phase(); err != nil {
			return rd, problems, err
		}
	}
	return rd, problems, nil
}

// measured is a phase's measurement window: started once the phase's
// consumer has its partitions, ended by end.
type measured struct {
	t0         time.Time
	cpu0, bcpu time.Duration
	brokerCPU  func() time.Duration
}

// prepareMeasuring returns the memory earlier phases left to the system
// and resets the peak RSS, so the phase's peak is its own: called before
// the phase starts (it takes milliseconds, during which a small drain could
// be over).
func prepareMeasuring() {
	debug.FreeOSMemory()
	resetPeakRSS()
}

// startMeasuring opens the window: called when the phase's consumer has
// its partitions.
func startMeasuring(brokerCPU func() time.Duration) measured {
	return measured{t0: time.Now(), cpu0: cpuTime(), bcpu: brokerCPU(), brokerCPU: brokerCPU}
}

// end closes the window: throughput to the last commit, CPU to now.
func (m measured) end(lat *latencies, n int, bytes int64) Phase {
	elapsed := lat.lastCommit().Sub(m.t0).Seconds()
	p := Phase{
		ElapsedSec:        elapsed,
		RecordsPerS:       float64(n) / elapsed,
		MBPerS:            float64(bytes) / (1 << 20) / elapsed,
		CPUPerRecUS:       float64((cpuTime() - m.cpu0).Microseconds()) / float64(n),
		BrokerCPUPerRecUS: float64((m.brokerCPU() - m.bcpu).Microseconds()) / float64(n),
		PeakRSSMB:         float64(peakRSS()) / (1 << 20),
	}
	p.LatencyP50MS, p.LatencyP95MS, p.LatencyP99MS, p.LatencyMaxMS = lat.quantiles()
	return p
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
